//! Dedicated machine-translation models: one model per language pair, sentence in, sentence
//! out — smaller and faster per word than an instruct LLM, and never steered by what an
//! article says (there is no prompt). Summaries still need an LLM.
//!
//! [`MachineTranslator`] is the seam the translator uses ([`crate::translate::DocumentTranslator`]);
//! [`MarianEngine`] implements it for Marian models (`marian.rs`).

pub mod document;
pub mod marian;
pub mod spm;

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use serde::Serialize;
use tokenizers::Tokenizer;

use crate::lang::Language;
use crate::progress::CancelToken;
use crate::{Error, Result};
use marian::{Config, Marian, Search};

/// Facts about a translation model, for display and reports.
#[derive(Debug, Clone, Serialize)]
pub struct MtInfo {
    pub name: String,
    pub path: PathBuf,
    pub architecture: String,
    /// What the model reads and writes, where known (`en`, `zh`).
    pub source_language: Option<String>,
    pub target_language: Option<String>,
    pub parameters: usize,
}

/// A model that translates sentences, and nothing else.
pub trait MachineTranslator {
    fn info(&self) -> &MtInfo;
    /// Whether the model can write `target` (false only when it is known to write another
    /// language).
    fn writes(&self, target: &Language) -> bool;
    /// Translates each sentence on its own; `progress` gets the number finished so far.
    /// `Error::Cancelled` once `cancel` is set.
    fn translate(
        &mut self,
        sentences: &[String],
        target: &Language,
        progress: &mut dyn FnMut(usize),
        cancel: &CancelToken,
    ) -> Result<Vec<String>>;
    /// Sentences it decodes together: callers hand over at least this many at once.
    fn batch(&self) -> usize {
        1
    }
}

/// The files of a Marian model as Hugging Face lays them out.
#[derive(Debug, Clone)]
pub struct MarianFiles {
    pub config: PathBuf,
    /// `model.safetensors`, or the older repositories' `pytorch_model.bin`.
    pub weights: PathBuf,
    pub tokenizers: TokenizerFiles,
}

/// Where a Marian model's tokenizers come from.
#[derive(Debug, Clone)]
pub enum TokenizerFiles {
    /// What every Helsinki-NLP repository has: `source.spm`, `target.spm`, `vocab.json`.
    SentencePiece {
        source: PathBuf,
        target: PathBuf,
        vocab: PathBuf,
    },
    /// tokenizer.json conversions, as candle's marian example uses.
    Json { source: PathBuf, target: PathBuf },
}

/// The tokenizers in a model folder: Helsinki-NLP's SentencePiece files, else
/// `source-tokenizer.json` and `target-tokenizer.json`, else candle's
/// `tokenizer-marian-base-{pair}-{lang}.json` pair.
fn tokenizers_in(dir: &Path) -> Option<TokenizerFiles> {
    let (source, target, vocab) = (
        dir.join("source.spm"),
        dir.join("target.spm"),
        dir.join("vocab.json"),
    );
    if source.is_file() && target.is_file() && vocab.is_file() {
        return Some(TokenizerFiles::SentencePiece {
            source,
            target,
            vocab,
        });
    }
    let (source, target) = (
        dir.join("source-tokenizer.json"),
        dir.join("target-tokenizer.json"),
    );
    if source.is_file() && target.is_file() {
        return Some(TokenizerFiles::Json { source, target });
    }
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tokenizer-") && n.ends_with(".json"))
        .collect();
    let (pair_src, _) = pair_of(dir)?;
    let src = names
        .iter()
        .find(|n| n.ends_with(&format!("-{pair_src}.json")))?;
    let tgt = names.iter().find(|n| *n != src)?;
    (names.len() == 2).then(|| TokenizerFiles::Json {
        source: dir.join(src),
        target: dir.join(tgt),
    })
}

/// `("en", "zh")` from a folder or repository named like `opus-mt-en-zh`,
/// `opus-mt-tc-big-en-pt` or `opus-tatoeba-en-ja` (hf-hub's cache names it
/// `models--Helsinki-NLP--opus-mt-en-zh`).
fn pair_of(path: &Path) -> Option<(String, String)> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let rest = ["opus-mt-", "opus-tatoeba-"]
        .iter()
        .find_map(|p| name.rsplit_once(p).map(|(_, r)| r))?;
    let rest = ["tc-big-", "tc-base-", "tc-"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
        .unwrap_or(rest);
    let (src, tgt) = rest.split_once('-')?;
    Some((src.to_string(), tgt.split(['-', '_']).next()?.to_string()))
}

impl MarianFiles {
    /// The files in a model folder: `config.json`, `model.safetensors` (or
    /// `pytorch_model.bin`) and the tokenizers ([`tokenizers_in`]) — a Hugging Face snapshot of
    /// a Helsinki-NLP repository as it is.
    pub fn in_dir(dir: &Path) -> Result<Self> {
        let invalid = |reason: String| Error::ModelInvalid {
            path: dir.to_path_buf(),
            reason,
        };
        if !dir.is_dir() {
            return Err(Error::ModelMissing {
                path: dir.to_path_buf(),
            });
        }
        let tokenizers = tokenizers_in(dir).ok_or_else(|| {
            invalid("a Marian model folder needs source.spm, target.spm and vocab.json (or source-tokenizer.json and target-tokenizer.json)".into())
        })?;
        let config = dir.join("config.json");
        if !config.is_file() {
            return Err(invalid(format!("{} is missing", config.display())));
        }
        let weights = WEIGHT_FILES
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| invalid(format!("no {} in the folder", WEIGHT_FILES.join(" or "))))?;
        Ok(Self {
            config,
            weights,
            tokenizers,
        })
    }
}

/// A Marian model's weight files, in order of preference.
pub const WEIGHT_FILES: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];

/// The files of a Helsinki-NLP repository Précis reads besides the weights.
pub const REPOSITORY_FILES: [&str; 4] = ["config.json", "source.spm", "target.spm", "vocab.json"];

/// Loads the translation model `spec` names: a model folder, or the id of an installed
/// catalog translation model (`precis models fetch opus-mt-en-zh`).
pub fn load(spec: &str) -> Result<MarianEngine> {
    let path = Path::new(spec);
    if path.is_dir() || spec.contains(['/', '\\']) {
        return MarianEngine::load_dir(path);
    }
    let entry = crate::models::find(spec)?;
    let Some(marian) = entry.marian.as_ref() else {
        return Err(Error::EngineUnavailable {
            engine: "mt".into(),
            reason: format!(
                "{} is not a translation model; translation models: {}",
                entry.id,
                translation_models().join(", ")
            ),
        });
    };
    let files = entry
        .marian_files()
        .ok_or_else(|| Error::ModelNotInstalled {
            id: entry.id.clone(),
        })?;
    MarianEngine::load(
        &files,
        &entry.id,
        Some((marian.from.clone(), marian.to.clone())),
    )
}

/// Ids of the catalog's translation models.
pub fn translation_models() -> Vec<String> {
    crate::models::catalog()
        .into_iter()
        .filter(|e| e.purpose == crate::models::Purpose::Translation)
        .map(|e| e.id)
        .collect()
}

/// The spellings a multilingual-target Marian model may use for `target`'s language token
/// (`>>cmn_Hans<<` for opus-mt-en-zh, whose output language must be named).
fn target_token_names(target: &Language) -> Vec<String> {
    let base = target.code.split('-').next().unwrap_or(target.code);
    let mut names: Vec<&str> = match target.code {
        "zh-Hans" => vec![
            "cmn_Hans", "zho_Hans", "zh_Hans", "zh_CN", "cmn", "zho", "zh",
        ],
        "zh-Hant" | "zh-Hant-HK" => vec![
            "cmn_Hant", "zho_Hant", "zh_Hant", "zh_TW", "cmn", "zho", "zh",
        ],
        "ja" => vec!["jpn", "jpn_Jpan", "ja"],
        "ko" => vec!["kor", "kor_Hang", "ko"],
        "es" => vec!["spa", "es"],
        "fr" => vec!["fra", "fr"],
        "de" => vec!["deu", "de"],
        "ru" => vec!["rus", "ru"],
        "pt" => vec!["por", "pt"],
        "it" => vec!["ita", "it"],
        _ => vec![],
    };
    names.push(base);
    names.into_iter().map(|n| format!(">>{n}<<")).collect()
}

/// Running totals, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MtStats {
    pub sentences: u64,
    pub source_tokens: u64,
    pub output_tokens: u64,
    pub seconds: f64,
}

/// A tokenizer for one side of a Marian model.
enum Codec {
    Json(Tokenizer),
    SentencePiece(spm::MarianTokenizer),
}

impl Codec {
    fn load(files: &TokenizerFiles, source_side: bool) -> Result<Self> {
        match files {
            TokenizerFiles::SentencePiece {
                source,
                target,
                vocab,
            } => {
                let spm = if source_side { source } else { target };
                Ok(Codec::SentencePiece(spm::marian_tokenizer(spm, vocab)?))
            }
            TokenizerFiles::Json { source, target } => {
                let path = if source_side { source } else { target };
                Tokenizer::from_file(path)
                    .map(Codec::Json)
                    .map_err(|e| Error::ModelInvalid {
                        path: path.clone(),
                        reason: format!("not a tokenizer.json ({e})"),
                    })
            }
        }
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match self {
            Codec::Json(t) => Ok(t
                .encode(text, false)
                .map_err(|e| Error::Inference(format!("tokenizer: {e}")))?
                .get_ids()
                .to_vec()),
            Codec::SentencePiece(t) => t.encode(text),
        }
    }

    fn decode(&self, ids: &[u32]) -> Result<String> {
        match self {
            Codec::Json(t) => t
                .decode(ids, true)
                .map_err(|e| Error::Inference(format!("tokenizer: {e}"))),
            Codec::SentencePiece(t) => Ok(t.decode(ids)),
        }
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        match self {
            Codec::Json(t) => t.token_to_id(token),
            Codec::SentencePiece(t) => t.token_to_id(token),
        }
    }

    fn vocab_size(&self) -> usize {
        match self {
            Codec::Json(t) => t.get_vocab_size(true),
            Codec::SentencePiece(t) => t.vocab_len,
        }
    }

    /// Target-language tokens (`>>cmn_Hans<<`) in the vocabulary.
    fn language_tokens(&self) -> Vec<String> {
        let vocab: Vec<String> = match self {
            Codec::Json(t) => t.get_vocab(true).into_keys().collect(),
            Codec::SentencePiece(t) => t.vocabulary().map(str::to_string).collect(),
        };
        let mut tokens: Vec<String> = vocab
            .into_iter()
            .filter(|t| t.starts_with(">>") && t.ends_with("<<"))
            .collect();
        tokens.sort();
        tokens
    }
}

/// A Marian model with its tokenizers, translating batches of sentences.
pub struct MarianEngine {
    model: Marian,
    source: Codec,
    target: Codec,
    /// Language tokens the source vocabulary has (`>>cmn_Hans<<`): the model writes several
    /// languages and must be told which.
    language_tokens: Vec<String>,
    info: MtInfo,
    pub search: Search,
    /// Sentences decoded together (each with `search.beam` rows). Decoding one token reads
    /// every weight (the 65k-row output projection alone is 133 MB), so a step costs about the
    /// same for 1 row as for 16: 16 sentences measured about 6× the speed of one (BENCHMARKS.md).
    pub batch: usize,
    pub stats: MtStats,
}

/// Beam width 4 (the opus-mt generation configs use 4 to 6); `PRECIS_MT_BEAM` overrides it
/// (1 is greedy).
fn beam_from_env() -> usize {
    std::env::var("PRECIS_MT_BEAM")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|b| (1..=16).contains(b))
        .unwrap_or(4)
}

impl MarianEngine {
    /// Loads a model folder ([`MarianFiles::in_dir`]).
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let files = MarianFiles::in_dir(dir)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Marian".into());
        Self::load(&files, &name, pair_of(dir))
    }

    pub fn load(files: &MarianFiles, name: &str, pair: Option<(String, String)>) -> Result<Self> {
        let invalid = |path: &Path, reason: String| Error::ModelInvalid {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(&files.config).map_err(|source| Error::Io {
            path: files.config.clone(),
            source,
        })?;
        let cfg: Config = serde_json::from_str(&text)
            .map_err(|e| invalid(&files.config, format!("not a Marian config.json ({e})")))?;
        if let Some(reason) = cfg.unsupported() {
            return Err(invalid(&files.config, reason));
        }
        let source = Codec::load(&files.tokenizers, true)?;
        let target = Codec::load(&files.tokenizers, false)?;
        let weights = &files.weights;
        let vb = if weights.extension().is_some_and(|e| e == "bin") {
            VarBuilder::from_pth(weights, DType::F32, &Device::Cpu)
        } else {
            // SAFETY: the file is mapped read-only and not modified while the model lives (the
            // user's model file or the hub cache's); candle reads it as plain bytes.
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu) }
        }
        .map_err(|e| invalid(weights, format!("unreadable weights ({e})")))?;
        // Bounded by `Config::unsupported` (checked above), so this cannot overflow.
        let parameters = {
            let c = &cfg;
            let attn = 4 * c.d_model * (c.d_model + 1);
            let ffn = |f: usize| 2 * c.d_model * f + f + c.d_model;
            c.vocab_size * c.d_model
                + c.encoder_layers * (attn + ffn(c.encoder_ffn_dim) + 4 * c.d_model)
                + c.decoder_layers * (2 * attn + ffn(c.decoder_ffn_dim) + 6 * c.d_model)
        };
        let model = Marian::new(cfg, vb).map_err(|e| {
            invalid(
                &files.weights,
                format!("not the weights config.json describes ({e})"),
            )
        })?;
        for codec in [&source, &target] {
            if codec.vocab_size() > model.cfg.vocab_size {
                return Err(invalid(
                    &files.config,
                    format!(
                        "the tokenizer has {} pieces but the model only {}",
                        codec.vocab_size(),
                        model.cfg.vocab_size
                    ),
                ));
            }
        }
        let language_tokens = source.language_tokens();
        let (source_language, target_language) =
            pair.map(|(s, t)| (Some(s), Some(t))).unwrap_or_default();
        Ok(Self {
            model,
            source,
            target,
            language_tokens,
            info: MtInfo {
                name: name.to_string(),
                path: files.weights.clone(),
                architecture: "marian".into(),
                source_language,
                target_language,
                parameters,
            },
            search: Search {
                beam: beam_from_env(),
                length_penalty: 1.0,
            },
            batch: 16,
            stats: MtStats::default(),
        })
    }

    /// The language token to start each source sentence with, when the model needs one.
    fn language_token(&self, target: &Language) -> Result<Option<u32>> {
        if self.language_tokens.is_empty() {
            return Ok(None);
        }
        target_token_names(target)
            .iter()
            .find_map(|n| self.source.token_to_id(n))
            .map(Some)
            .ok_or_else(|| Error::EngineUnavailable {
                engine: "mt".into(),
                reason: format!(
                    "{} writes {} but not {}",
                    self.info.name,
                    self.language_tokens.join(" "),
                    target.name
                ),
            })
    }

    /// Token ids for one sentence, split at word boundaries into parts the model's positions
    /// can hold.
    fn encode(&self, text: &str, language: Option<u32>) -> Result<Vec<Vec<u32>>> {
        let limit = self
            .model
            .cfg
            .max_position_embeddings
            .saturating_sub(2)
            .max(8);
        let ids = self.source.encode(text)?;
        if ids.len() > limit {
            let words: Vec<&str> = text.split_whitespace().collect();
            if words.len() > 1 {
                let (a, b) = words.split_at(words.len() / 2);
                let mut parts = self.encode(&a.join(" "), language)?;
                parts.extend(self.encode(&b.join(" "), language)?);
                return Ok(parts);
            }
        }
        let mut sentence: Vec<u32> = language.into_iter().collect();
        sentence.extend(ids.into_iter().take(limit));
        sentence.push(self.model.cfg.eos_token_id);
        Ok(vec![sentence])
    }
}

impl MachineTranslator for MarianEngine {
    fn info(&self) -> &MtInfo {
        &self.info
    }

    fn writes(&self, target: &Language) -> bool {
        // A model that writes several languages says which by its language tokens.
        if !self.language_tokens.is_empty() {
            return self.language_token(target).is_ok();
        }
        let Some(t) = &self.info.target_language else {
            return true;
        };
        let base = target.code.split('-').next().unwrap_or(target.code);
        t == base
    }

    fn batch(&self) -> usize {
        self.batch
    }

    fn translate(
        &mut self,
        sentences: &[String],
        target: &Language,
        progress: &mut dyn FnMut(usize),
        cancel: &CancelToken,
    ) -> Result<Vec<String>> {
        let started = Instant::now();
        let language = self.language_token(target)?;
        // Each input sentence becomes one or more model sentences; translated in batches of
        // similar length (less padding), put back in order, parts joined.
        let mut parts: Vec<(usize, Vec<u32>)> = Vec::new();
        for (i, s) in sentences.iter().enumerate() {
            if s.trim().is_empty() {
                continue;
            }
            parts.extend(self.encode(s, language)?.into_iter().map(|ids| (i, ids)));
        }
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by_key(|&p| parts[p].1.len());
        let mut outputs: Vec<Vec<u32>> = vec![Vec::new(); parts.len()];
        // Parts still to translate per input sentence, for progress in whole sentences.
        let mut remaining = vec![0usize; sentences.len()];
        for (i, _) in &parts {
            remaining[*i] += 1;
        }
        let mut done_sentences = sentences.iter().filter(|s| s.trim().is_empty()).count();
        let positions = self.model.cfg.max_position_embeddings;
        for batch in order.chunks(self.batch.max(1)) {
            let ids: Vec<Vec<u32>> = batch.iter().map(|&p| parts[p].1.clone()).collect();
            let limits: Vec<usize> = ids
                .iter()
                .map(|s| (2 * s.len() + 10).min(positions - 1))
                .collect();
            let found = self
                .model
                .translate(&ids, self.search, &|i| limits[i], &mut || {
                    !cancel.is_cancelled()
                })
                .map_err(|e| Error::Inference(format!("Marian: {e}")))?
                .ok_or(Error::Cancelled)?;
            for (&p, hyp) in batch.iter().zip(found) {
                self.stats.source_tokens += parts[p].1.len() as u64;
                self.stats.output_tokens += hyp.tokens.len() as u64;
                outputs[p] = hyp.tokens;
                let i = parts[p].0;
                remaining[i] -= 1;
                if remaining[i] == 0 {
                    done_sentences += 1;
                }
            }
            progress(done_sentences);
        }
        let joiner = if target.is_cjk() { "" } else { " " };
        let mut texts = vec![String::new(); sentences.len()];
        for ((i, _), out) in parts.iter().zip(&outputs) {
            let piece = self.target.decode(out)?;
            let piece = piece.trim();
            if !texts[*i].is_empty() && !piece.is_empty() {
                texts[*i].push_str(joiner);
            }
            texts[*i].push_str(piece);
        }
        self.stats.sentences += sentences.len() as u64;
        self.stats.seconds += started.elapsed().as_secs_f64();
        Ok(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_pairs_come_from_opus_names() {
        assert_eq!(
            pair_of(Path::new("/m/opus-mt-en-zh")),
            Some(("en".into(), "zh".into()))
        );
        assert_eq!(
            pair_of(Path::new("Helsinki-NLP--opus-mt-en-jap")),
            Some(("en".into(), "jap".into()))
        );
        assert_eq!(
            pair_of(Path::new("/m/opus-mt-tc-big-en-pt")),
            Some(("en".into(), "pt".into()))
        );
        assert_eq!(
            pair_of(Path::new("models--Helsinki-NLP--opus-tatoeba-en-ja")),
            Some(("en".into(), "ja".into()))
        );
        assert_eq!(pair_of(Path::new("/m/my-model")), None);
    }

    #[test]
    fn simplified_chinese_asks_for_cmn_hans_first() {
        let zh = Language::parse("zh-Hans").unwrap();
        assert_eq!(target_token_names(&zh)[0], ">>cmn_Hans<<");
        let de = Language::parse("de").unwrap();
        assert!(target_token_names(&de).contains(&">>deu<<".to_string()));
    }
}
