//! The model's tokenizer, built from its GGUF metadata so that text becomes the token ids
//! llama.cpp gives it (checked on SmolLM2, Gemma 3 and Qwen2.5 files):
//! - `gpt2` (byte-level BPE: Qwen, Llama 3, SmolLM2): candle's builder, told which of its
//!   pre-tokenizers matches llama.cpp's for the file's pre-tokenizer name (Llama 3's `llama-bpe`
//!   is candle's `llama3`), or llama.cpp's pattern where candle has none (SmolLM2's `smollm`:
//!   digits one by one, the GPT-2 pattern, no space added in front); names neither knows get
//!   the GPT-2 pattern;
//! - `llama` (SentencePiece, Gemma): pieces merged by score, bytes as `<0xNN>` pieces where a
//!   character has no piece, and user-defined pieces matched whole, as llama.cpp does.

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::{Prepend, Replace, Sequence as NormalizerSequence};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence as PreSequence;
use tokenizers::{AddedToken, Tokenizer};

/// SentencePiece's visible space.
const SPACE: &str = "\u{2581}";
/// `tokenizer.ggml.token_type` values (llama.cpp's `llama_token_type`).
const NORMAL: u32 = 1;
const CONTROL: u32 = 3;
const USER_DEFINED: u32 = 4;
const BYTE: u32 = 6;

/// llama.cpp's pre-tokenizer names and the candle pipeline with the same pattern (candle knows
/// `qwen2`, `llama3`, `smaug-bpe`, `lfm2` by name); `true`: llama.cpp takes a pre-tokenized word
/// that is in the vocabulary whole (`ignore_merges`, the Llama 3 group).
const CANDLE_PRE: &[(&str, &str, bool)] = &[
    ("qwen2", "qwen2", false),
    ("deepseek-r1-qwen", "qwen2", false),
    ("llama3", "llama3", true),
    ("llama-bpe", "llama3", true),
    ("llama-v3", "llama3", true),
    ("falcon3", "llama3", true),
    ("pixtral", "llama3", true),
    ("smaug-bpe", "smaug-bpe", false),
    ("lfm2", "lfm2", false),
];
/// Pre-tokenizer names that llama.cpp splits digit by digit before the GPT-2 pattern.
const DIGIT_BY_DIGIT_PRE: &[&str] = &[
    "smollm",
    "starcoder",
    "refact",
    "codeshell",
    "command-r",
    "exaone",
    "minerva",
];

pub fn from_gguf(ct: &gguf_file::Content) -> Result<Tokenizer, String> {
    let model = string(ct, "tokenizer.ggml.model").unwrap_or_default();
    let mut tokenizer = match model.as_str() {
        "gpt2" => byte_level(ct)?,
        "llama" => sentencepiece(ct)?,
        "" => return Err("the file has no tokenizer (tokenizer.ggml.model)".into()),
        other => return Err(format!("tokenizer model `{other}` is not supported")),
    };
    // Text is data: a control token's spelling inside it is encoded as plain text; control
    // tokens enter a prompt only by id.
    tokenizer.set_encode_special_tokens(true);
    Ok(tokenizer)
}

/// The token the model expects at the start of every prompt, where its file says one is added
/// (`tokenizer.ggml.add_bos_token`: Gemma, Llama; not Qwen or SmolLM2). Files that do not say
/// get llama.cpp's default: BOS for SentencePiece and the Llama 3 group.
pub fn bos_to_add(ct: &gguf_file::Content) -> Option<u32> {
    let pre = string(ct, "tokenizer.ggml.pre").unwrap_or_default();
    let default = string(ct, "tokenizer.ggml.model").as_deref() == Some("llama")
        || CANDLE_PRE
            .iter()
            .any(|&(name, _, llama3)| llama3 && name == pre);
    if !flag(ct, "tokenizer.ggml.add_bos_token", default) {
        return None;
    }
    ct.metadata
        .get("tokenizer.ggml.bos_token_id")
        .and_then(|v| v.to_u32().ok())
}

fn string(ct: &gguf_file::Content, key: &str) -> Option<String> {
    ct.metadata.get(key)?.to_string().ok().cloned()
}

fn byte_level(ct: &gguf_file::Content) -> Result<Tokenizer, String> {
    let pre = string(ct, "tokenizer.ggml.pre").unwrap_or_else(|| "gpt2".into());
    let build = |ct: &gguf_file::Content| Tokenizer::from_gguf(ct).map_err(|e| e.to_string());
    match CANDLE_PRE.iter().find(|(name, _, _)| *name == pre) {
        Some(&(name, candle_name, ignore_merges))
            if name == candle_name
                && (!ignore_merges || flag(ct, "tokenizer.ggml.ignore_merges", false)) =>
        {
            build(ct)
        }
        Some(&(_, candle_name, ignore_merges)) => {
            build(&translated(ct, candle_name, ignore_merges))
        }
        None => {
            let mut tokenizer = build(ct)?;
            // GPT-2's pattern without the space candle's default puts in front of the text.
            let byte_level = ByteLevel::new(false, true, true);
            if DIGIT_BY_DIGIT_PRE.contains(&pre.as_str()) {
                let steps = vec![Digits::new(true).into(), byte_level.into()];
                tokenizer.with_pre_tokenizer(Some(PreSequence::new(steps)));
            } else {
                tokenizer.with_pre_tokenizer(Some(byte_level));
            }
            tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
            Ok(tokenizer)
        }
    }
}

/// candle reads the pipeline name and `ignore_merges` from the metadata: a copy of the file's
/// tokenizer keys with llama.cpp's name translated to candle's.
fn translated(
    ct: &gguf_file::Content,
    candle_name: &str,
    ignore_merges: bool,
) -> gguf_file::Content {
    let mut metadata: std::collections::HashMap<String, Value> = ct
        .metadata
        .iter()
        .filter(|(k, _)| k.starts_with("tokenizer.ggml."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    metadata.insert(
        "tokenizer.ggml.pre".into(),
        Value::String(candle_name.into()),
    );
    if ignore_merges {
        metadata.insert("tokenizer.ggml.ignore_merges".into(), Value::Bool(true));
    }
    gguf_file::Content {
        magic: ct.magic,
        metadata,
        tensor_infos: Default::default(),
        tensor_data_offset: 0,
    }
}

fn array<'a>(ct: &'a gguf_file::Content, key: &str) -> Result<&'a [Value], String> {
    ct.metadata
        .get(key)
        .and_then(|v| v.to_vec().ok())
        .map(Vec::as_slice)
        .ok_or_else(|| format!("metadata key `{key}` is missing"))
}

fn flag(ct: &gguf_file::Content, key: &str, default: bool) -> bool {
    ct.metadata
        .get(key)
        .and_then(|v| v.to_bool().ok())
        .unwrap_or(default)
}

fn sentencepiece(ct: &gguf_file::Content) -> Result<Tokenizer, String> {
    let pieces: Vec<String> = array(ct, "tokenizer.ggml.tokens")?
        .iter()
        .map(|v| v.to_string().cloned().map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let scores: Vec<f32> = array(ct, "tokenizer.ggml.scores")?
        .iter()
        .map(|v| v.to_f32().unwrap_or(0.0))
        .collect();
    let types: Vec<u32> = match array(ct, "tokenizer.ggml.token_type") {
        Ok(values) => values
            .iter()
            .map(|v| match v {
                Value::I32(t) => *t as u32,
                Value::U32(t) => *t,
                _ => NORMAL,
            })
            .collect(),
        Err(_) => vec![NORMAL; pieces.len()],
    };
    if scores.len() != pieces.len() || types.len() != pieces.len() {
        return Err("tokenizer pieces, scores and types differ in number".into());
    }
    let vocab: Vocab = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), i as u32))
        .collect();

    // SentencePiece merges the adjacent pair whose joined piece scores best. As BPE merges,
    // that is every split of every mergeable piece into two pieces, ranked by the piece's score.
    let mut merges: Vec<(f32, usize, (String, String))> = Vec::new();
    for (id, piece) in pieces.iter().enumerate() {
        if !matches!(types[id], NORMAL | USER_DEFINED) || piece.chars().nth(1).is_none() {
            continue;
        }
        for (at, _) in piece.char_indices().skip(1) {
            let (left, right) = piece.split_at(at);
            if vocab.contains_key(left) && vocab.contains_key(right) {
                merges.push((scores[id], id, (left.to_string(), right.to_string())));
            }
        }
    }
    merges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let merges: Vec<(String, String)> = merges.into_iter().map(|m| m.2).collect();

    let unknown = ct
        .metadata
        .get("tokenizer.ggml.unknown_token_id")
        .and_then(|v| v.to_u32().ok())
        .and_then(|id| pieces.get(id as usize).cloned());
    let mut builder = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .byte_fallback(types.contains(&BYTE))
        .fuse_unk(true);
    if let Some(unknown) = unknown {
        builder = builder.unk_token(unknown);
    }
    let bpe = builder.build().map_err(|e| e.to_string())?;
    let mut tokenizer = Tokenizer::new(bpe);

    let space_prefix = flag(ct, "tokenizer.ggml.add_space_prefix", true);
    let spaces = Replace::new(" ", SPACE).map_err(|e| e.to_string())?;
    if space_prefix {
        let steps = vec![Prepend::new(SPACE.into()).into(), spaces.into()];
        tokenizer
            .with_normalizer(Some(NormalizerSequence::new(steps)))
            .map_err(|e| e.to_string())?;
    } else {
        tokenizer
            .with_normalizer(Some(spaces))
            .map_err(|e| e.to_string())?;
    }
    let mut decoders = vec![
        Replace::new(SPACE, " ").map_err(|e| e.to_string())?.into(),
        ByteFallback::new().into(),
        Fuse::new().into(),
    ];
    if space_prefix {
        decoders.push(Strip::new(' ', 1, 0).into());
    }
    tokenizer.with_decoder(Some(DecoderSequence::new(decoders)));

    // llama.cpp matches user-defined pieces whole wherever they occur; control pieces never
    // come from text.
    let whole = |kind: u32, special: bool| -> Vec<AddedToken> {
        pieces
            .iter()
            .zip(&types)
            .filter(|(_, t)| **t == kind)
            .map(|(p, _)| AddedToken::from(p.clone(), special).normalized(false))
            .collect()
    };
    tokenizer
        .add_tokens(whole(USER_DEFINED, false))
        .map_err(|e| e.to_string())?;
    tokenizer
        .add_special_tokens(whole(CONTROL, true))
        .map_err(|e| e.to_string())?;
    Ok(tokenizer)
}
