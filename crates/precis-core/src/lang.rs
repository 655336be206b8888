//! Target languages: codes users type, names the model understands.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Language {
    /// Canonical BCP 47 code, e.g. `zh-Hans`.
    pub code: &'static str,
    /// English name, used in prompts.
    pub name: &'static str,
    /// The language's own name, for menus.
    pub native: &'static str,
}

pub const LANGUAGES: &[Language] = &[
    Language {
        code: "zh-Hans",
        name: "Simplified Chinese",
        native: "简体中文",
    },
    Language {
        code: "zh-Hant",
        name: "Traditional Chinese",
        native: "繁體中文",
    },
    Language {
        code: "zh-Hant-HK",
        name: "Traditional Chinese (Hong Kong)",
        native: "繁體中文（香港）",
    },
    Language {
        code: "en",
        name: "English",
        native: "English",
    },
    Language {
        code: "ja",
        name: "Japanese",
        native: "日本語",
    },
    Language {
        code: "ko",
        name: "Korean",
        native: "한국어",
    },
    Language {
        code: "fr",
        name: "French",
        native: "Français",
    },
    Language {
        code: "de",
        name: "German",
        native: "Deutsch",
    },
    Language {
        code: "es",
        name: "Spanish",
        native: "Español",
    },
    Language {
        code: "ru",
        name: "Russian",
        native: "Русский",
    },
    Language {
        code: "pt",
        name: "Portuguese",
        native: "Português",
    },
    Language {
        code: "it",
        name: "Italian",
        native: "Italiano",
    },
    Language {
        code: "ar",
        name: "Arabic",
        native: "العربية",
    },
    Language {
        code: "vi",
        name: "Vietnamese",
        native: "Tiếng Việt",
    },
];

impl Language {
    /// Parses a user-supplied code or name: `zh`, `zh-CN`, `zh_TW`, `Chinese`, `fr-FR`, `日本語` …
    pub fn parse(input: &str) -> Result<Language> {
        let raw = input.trim();
        let key = raw.replace('_', "-").to_ascii_lowercase();
        let canonical = match key.as_str() {
            "zh" | "zh-hans" | "zh-cn" | "zh-sg" | "cn" | "chinese" | "zh-hans-cn" => "zh-Hans",
            "zh-hant" | "zh-tw" | "zh-hant-tw" => "zh-Hant",
            "zh-hk" | "zh-mo" | "zh-hant-hk" | "zh-hant-mo" => "zh-Hant-HK",
            other => {
                let primary = other.split('-').next().unwrap_or(other);
                return LANGUAGES
                    .iter()
                    .find(|l| {
                        l.code.eq_ignore_ascii_case(primary)
                            || l.name.eq_ignore_ascii_case(raw)
                            || l.native == raw
                    })
                    .copied()
                    .ok_or_else(|| Error::UnsupportedLanguage(raw.to_string()));
            }
        };
        Ok(*LANGUAGES
            .iter()
            .find(|l| l.code == canonical)
            .expect("canonical code is listed"))
    }

    /// Languages written without spaces between words, where number words follow CJK rules.
    pub fn is_cjk(&self) -> bool {
        matches!(self.code, "zh-Hans" | "zh-Hant" | "zh-Hant-HK" | "ja")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        assert_eq!(Language::parse("zh").unwrap().code, "zh-Hans");
        assert_eq!(Language::parse("zh_TW").unwrap().code, "zh-Hant");
        assert_eq!(Language::parse("fr-FR").unwrap().code, "fr");
        assert_eq!(Language::parse("Japanese").unwrap().code, "ja");
        assert_eq!(Language::parse("日本語").unwrap().code, "ja");
        assert!(matches!(
            Language::parse("klingon"),
            Err(Error::UnsupportedLanguage(_))
        ));
    }
}
