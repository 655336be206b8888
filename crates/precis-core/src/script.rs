//! Chinese script conversion. Small models write Simplified Chinese far better than Traditional
//! (asked for Traditional they mix scripts and mainland vocabulary), so a Traditional target is
//! translated into Simplified and converted with OpenCC's phrase tables: Taiwan standard with
//! Taiwan vocabulary (s2twp) for `zh-Hant`, Hong Kong standard (s2hk) for `zh-Hant-HK`.

use std::sync::OnceLock;

use ferrous_opencc::config::BuiltinConfig;
use ferrous_opencc::OpenCC;

use crate::lang::Language;
use crate::{Error, Result};

/// A conversion from the language the model writes into the language the reader asked for.
#[derive(Clone, Copy)]
pub struct Converter {
    opencc: &'static OpenCC,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Converter")
    }
}

impl Converter {
    pub fn convert(&self, text: &str) -> String {
        self.opencc.convert(text)
    }
}

fn loaded(config: BuiltinConfig, cell: &'static OnceLock<Option<OpenCC>>) -> Result<Converter> {
    cell.get_or_init(|| OpenCC::from_config(config).ok())
        .as_ref()
        .map(|opencc| Converter { opencc })
        .ok_or_else(|| Error::Inference("the built-in OpenCC tables failed to load".into()))
}

/// The language the model is asked to write for `target`, and the conversion that turns its
/// output into `target` (`None` when the model writes `target` itself).
pub fn written_via(target: &Language) -> Result<(Language, Option<Converter>)> {
    static TAIWAN: OnceLock<Option<OpenCC>> = OnceLock::new();
    static HONG_KONG: OnceLock<Option<OpenCC>> = OnceLock::new();
    let config = match target.code {
        "zh-Hant" => (BuiltinConfig::S2twp, &TAIWAN),
        "zh-Hant-HK" => (BuiltinConfig::S2hk, &HONG_KONG),
        _ => return Ok((*target, None)),
    };
    let simplified = Language::parse("zh-Hans")?;
    Ok((simplified, Some(loaded(config.0, config.1)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_targets_are_converted_with_regional_vocabulary() {
        let (writes, convert) = written_via(&Language::parse("zh-Hant").unwrap()).unwrap();
        assert_eq!(writes.code, "zh-Hans");
        let tw = convert.unwrap();
        // Characters and Taiwan vocabulary: 软件 → 軟體, 信息 → 資訊, 亿 → 億.
        assert_eq!(tw.convert("这个软件的信息"), "這個軟體的資訊");
        assert_eq!(tw.convert("损失1亿欧元"), "損失1億歐元");
        let (_, hk) = written_via(&Language::parse("zh-HK").unwrap()).unwrap();
        assert_eq!(hk.unwrap().convert("发展经济"), "發展經濟");
        let (fr, none) = written_via(&Language::parse("fr").unwrap()).unwrap();
        assert_eq!(fr.code, "fr");
        assert!(none.is_none());
    }
}
