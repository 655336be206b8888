//! Shared helpers for the integration tests: fixture paths and tiny random-weight Qwen2 and Qwen3
//! GGUF models written on the fly, which exercise the real loading and generation code in
//! seconds.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file::Value, GgmlDType, QTensor};
use candle_core::{Device, Tensor};

pub mod processes;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

pub fn sample_article() -> PathBuf {
    fixture("global-times-syria-ceasefire.txt")
}

/// GPT-2 byte-to-unicode table: the characters byte-level BPE vocabularies use for raw bytes.
fn byte_chars() -> Vec<char> {
    let mut printable: Vec<u32> = (33..=126).chain(161..=172).chain(174..=255).collect();
    let mut chars = vec!['\0'; 256];
    for &b in &printable {
        chars[b as usize] = char::from_u32(b).unwrap();
    }
    let mut n = 0;
    for b in 0..256u32 {
        if !printable.contains(&b) {
            chars[b as usize] = char::from_u32(256 + n).unwrap();
            n += 1;
        }
    }
    printable.clear();
    chars
}

pub const HIDDEN: usize = 64;
const HEADS: u32 = 4;
const KV_HEADS: u32 = 2;
const FFN: usize = 128;
const LAYERS: usize = 2;

/// How the tiny model's output layer behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Random weights: varied, meaningless tokens.
    Random,
    /// Always predicts `<|im_end|>`: ends its turn at once.
    StopsAtOnce,
    /// Always predicts the same letter: a loop.
    Repeats,
}

pub struct TinyVocab {
    pub tokens: Vec<String>,
    pub im_start: u32,
    pub im_end: u32,
    pub letter_a: u32,
}

pub fn tiny_vocab() -> TinyVocab {
    let mut tokens: Vec<String> = byte_chars().into_iter().map(|c| c.to_string()).collect();
    let merges_out = ["he", "Ġt", "Ġthe", "in", "Ġa"];
    tokens.extend(merges_out.iter().map(|s| s.to_string()));
    tokens.push("<|endoftext|>".into());
    tokens.push("<|im_start|>".into());
    tokens.push("<|im_end|>".into());
    let n = tokens.len() as u32;
    TinyVocab {
        letter_a: b'a' as u32,
        im_start: n - 2,
        im_end: n - 1,
        tokens,
    }
}

/// Writes a 2-layer, 64-wide Qwen2 model with Q8_0 matrices and a byte-level BPE tokenizer
/// to `path`.
pub fn write_tiny_model(path: &Path, behaviour: Behaviour) {
    write_tiny_model_of("qwen2", path, behaviour);
}

/// The same for `architecture` (`qwen2`, `qwen3`, `llama` or `gemma3`). A Qwen3 model has what sets Qwen3
/// apart: no Q/K/V biases, per-head query and key norms, and heads wider than hidden / heads (so
/// the query projection is wider than the hidden state). A Llama model has no biases and rotates
/// adjacent pairs (its files state `rope.dimension_count`).
pub fn write_tiny_model_of(architecture: &str, path: &Path, behaviour: Behaviour) {
    // Gemma 3 has Qwen3's head norms and stated head width, no biases, norms after the
    // attention and feed-forward blocks too, and local layers with a sliding window (4 here,
    // so a test can see its edge; both tiny layers are local: one in six is global).
    let gemma3 = architecture == "gemma3";
    let qwen3 = architecture == "qwen3" || gemma3;
    let llama = architecture == "llama";
    let dev = Device::Cpu;
    let vocab = tiny_vocab();
    let n_vocab = vocab.tokens.len();
    let q = |t: Tensor| QTensor::quantize(&t, GgmlDType::Q8_0).unwrap();
    let f = |t: Tensor| QTensor::quantize(&t, GgmlDType::F32).unwrap();
    // Seeded (the same model every run, so a failure reproduces) and scaled as trained weights
    // are, variance 1/fan-in: each layer keeps the activations' size instead of multiplying
    // it, so logits stay in a realistic range. PRECIS_TEST_SEED picks another model.
    let seed: u64 = std::env::var("PRECIS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let state = std::cell::Cell::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let rand_scaled = |(rows, cols): (usize, usize), fan_in: usize| {
        let bound = (3.0 / fan_in as f64).sqrt();
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| {
                // xorshift64
                let mut s = state.get();
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                state.set(s);
                (((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * bound) as f32
            })
            .collect();
        Tensor::from_vec(values, (rows, cols), &dev).unwrap()
    };
    // A weight matrix's fan-in is its width (rows are outputs).
    let rand = |shape: (usize, usize)| rand_scaled(shape, shape.1);
    let silent = behaviour != Behaviour::Random;

    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    // For the scripted behaviours, hidden dim 0 is a large constant and every layer writes zero
    // into the residual stream, so the output row alone decides the next token.
    let embd = if silent {
        let mut v = vec![0f32; n_vocab * HIDDEN];
        for row in 0..n_vocab {
            v[row * HIDDEN] = 10.0;
        }
        Tensor::from_vec(v, (n_vocab, HIDDEN), &dev).unwrap()
    } else {
        rand_scaled((n_vocab, HIDDEN), 1)
    };
    tensors.push(("token_embd.weight".into(), q(embd)));
    tensors.push((
        "output_norm.weight".into(),
        f(Tensor::ones(HIDDEN, candle_core::DType::F32, &dev).unwrap()),
    ));
    let output = if silent {
        let favourite = if behaviour == Behaviour::StopsAtOnce {
            vocab.im_end
        } else {
            vocab.letter_a
        } as usize;
        let mut v = vec![0f32; n_vocab * HIDDEN];
        v[favourite * HIDDEN] = 1.0;
        Tensor::from_vec(v, (n_vocab, HIDDEN), &dev).unwrap()
    } else {
        rand((n_vocab, HIDDEN))
    };
    tensors.push(("output.weight".into(), q(output)));
    let head_dim = if qwen3 {
        2 * HIDDEN / HEADS as usize
    } else {
        HIDDEN / HEADS as usize
    };
    let q_dim = head_dim * HEADS as usize;
    let kv = head_dim * KV_HEADS as usize;
    let vector =
        |values: Vec<f32>| f(Tensor::from_vec(values.clone(), values.len(), &dev).unwrap());
    let zero_or_rand = |shape: (usize, usize)| {
        if silent {
            Tensor::zeros(shape, candle_core::DType::F32, &dev).unwrap()
        } else {
            rand(shape)
        }
    };
    for l in 0..LAYERS {
        let p = format!("blk.{l}");
        tensors.push((format!("{p}.attn_q.weight"), q(rand((q_dim, HIDDEN)))));
        tensors.push((format!("{p}.attn_k.weight"), q(rand((kv, HIDDEN)))));
        tensors.push((format!("{p}.attn_v.weight"), q(rand((kv, HIDDEN)))));
        if qwen3 {
            // Norm weights around 1, different per position, so a wrong head layout shows.
            let around_one = |seed: usize| {
                (0..head_dim)
                    .map(|i| 1.0 + ((i * 7 + seed * 3) % 11) as f32 / 20.0)
                    .collect::<Vec<f32>>()
            };
            tensors.push((format!("{p}.attn_q_norm.weight"), vector(around_one(l))));
            tensors.push((format!("{p}.attn_k_norm.weight"), vector(around_one(l + 5))));
            if gemma3 {
                let hidden_around_one = |seed: usize| {
                    (0..HIDDEN)
                        .map(|i| 1.0 + ((i * 5 + seed) % 7) as f32 / 10.0)
                        .collect::<Vec<f32>>()
                };
                tensors.push((
                    format!("{p}.post_attention_norm.weight"),
                    vector(hidden_around_one(l)),
                ));
                tensors.push((
                    format!("{p}.post_ffw_norm.weight"),
                    vector(hidden_around_one(l + 3)),
                ));
            }
        } else if !llama {
            tensors.push((format!("{p}.attn_q.bias"), vector(vec![0.0; q_dim])));
            tensors.push((format!("{p}.attn_k.bias"), vector(vec![0.0; kv])));
            tensors.push((format!("{p}.attn_v.bias"), vector(vec![0.0; kv])));
        }
        tensors.push((
            format!("{p}.attn_output.weight"),
            q(zero_or_rand((HIDDEN, q_dim))),
        ));
        tensors.push((
            format!("{p}.attn_norm.weight"),
            f(Tensor::ones(HIDDEN, candle_core::DType::F32, &dev).unwrap()),
        ));
        tensors.push((
            format!("{p}.ffn_norm.weight"),
            f(Tensor::ones(HIDDEN, candle_core::DType::F32, &dev).unwrap()),
        ));
        tensors.push((format!("{p}.ffn_gate.weight"), q(rand((FFN, HIDDEN)))));
        tensors.push((format!("{p}.ffn_up.weight"), q(rand((FFN, HIDDEN)))));
        tensors.push((
            format!("{p}.ffn_down.weight"),
            q(zero_or_rand((HIDDEN, FFN))),
        ));
    }

    let n_specials = 3;
    let token_types: Vec<Value> = (0..n_vocab)
        .map(|i| Value::I32(if i >= n_vocab - n_specials { 3 } else { 1 }))
        .collect();
    let merges = ["h e", "Ġ t", "Ġt he", "i n", "Ġ a"];
    let arch_keys: Vec<(String, Value)> = [
        ("attention.head_count", Value::U32(HEADS)),
        ("attention.head_count_kv", Value::U32(KV_HEADS)),
        ("attention.key_length", Value::U32(head_dim as u32)),
        ("attention.value_length", Value::U32(head_dim as u32)),
        ("embedding_length", Value::U32(HIDDEN as u32)),
        ("context_length", Value::U32(8192)),
        ("block_count", Value::U32(LAYERS as u32)),
        ("feed_forward_length", Value::U32(FFN as u32)),
        ("attention.layer_norm_rms_epsilon", Value::F32(1e-6)),
        ("rope.freq_base", Value::F32(1_000_000.0)),
        ("rope.dimension_count", Value::U32(head_dim as u32)),
    ]
    .into_iter()
    // Qwen2 and Llama files do not state the head width (it is hidden / heads); Llama files
    // state the rotated width.
    .filter(|(k, _)| qwen3 || !k.ends_with("_length") || !k.starts_with("attention."))
    .filter(|(k, _)| llama || *k != "rope.dimension_count")
    .chain(gemma3.then_some(("attention.sliding_window", Value::U32(4))))
    .map(|(k, v)| (format!("{architecture}.{k}"), v))
    .collect();
    let mut metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::String(architecture.into())),
        (
            "general.name",
            Value::String(format!("tiny-test-{}", behaviour as u8)),
        ),
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("qwen2".into())),
        (
            "tokenizer.ggml.tokens",
            Value::Array(
                vocab
                    .tokens
                    .iter()
                    .map(|t| Value::String(t.clone()))
                    .collect(),
            ),
        ),
        ("tokenizer.ggml.token_type", Value::Array(token_types)),
        (
            "tokenizer.ggml.merges",
            Value::Array(
                merges
                    .iter()
                    .map(|m| Value::String(m.to_string()))
                    .collect(),
            ),
        ),
        ("tokenizer.ggml.eos_token_id", Value::U32(vocab.im_end)),
        (
            "tokenizer.ggml.padding_token_id",
            Value::U32(n_vocab as u32 - 3),
        ),
    ];
    metadata.extend(arch_keys.iter().map(|(k, v)| (k.as_str(), v.clone())));
    // candle's quantized_qwen3 builds its RoPE tables in F16 unless told otherwise, which moves
    // logits by ~1% against any f32 implementation; 0 asks it for F32.
    metadata.push(("general.dtype", Value::U32(0)));
    let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let ts: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut file = File::create(path).unwrap();
    candle_core::quantized::gguf_file::write(&mut file, &md, &ts).unwrap();
}

/// A tiny model in a fresh temp dir; keep the `TempDir` alive while using the path.
pub fn tiny_model(behaviour: Behaviour) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    write_tiny_model(&path, behaviour);
    (dir, path)
}

/// The vocabulary of the tiny Marian model: the end token, unknown, English pieces, Chinese
/// characters, the language token opus-mt-en-zh needs, and the pad token (last, as in the
/// opus-mt files).
pub const MARIAN_ENGLISH: &[&str] = &[
    "▁the", "▁cat", "▁sat", "▁on", "▁mat", "▁a", "▁dog", "▁ran", "▁home", "▁and", "▁it", "▁was",
    "▁late", "▁s", "▁.", ".", "▁,", "▁1", "▁2", "▁3",
];
pub const MARIAN_CHINESE: &[&str] = &[
    "猫", "坐", "在", "垫", "子", "上", "狗", "跑", "回", "家", "很", "晚", "了", "。", "，", "一",
];
pub const MARIAN_LANGUAGE_TOKEN: &str = ">>cmn_Hans<<";

/// The tiny Marian model's pieces in id order.
pub fn marian_vocab() -> Vec<String> {
    let mut v = vec!["</s>".to_string(), "<unk>".to_string()];
    v.extend(MARIAN_ENGLISH.iter().map(|s| s.to_string()));
    v.extend(MARIAN_CHINESE.iter().map(|s| s.to_string()));
    v.push(MARIAN_LANGUAGE_TOKEN.into());
    v.push("<pad>".into());
    v
}

/// How the tiny Marian model behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarianBehaviour {
    /// Random weights: every logit matters, for comparisons with candle.
    Random,
    /// The output bias favours Chinese characters and the end token, so a translation is
    /// short and in Chinese (for pipeline tests).
    WritesChinese,
}

/// Writes a tiny random-weight Marian model folder as Hugging Face lays one out
/// (`config.json`, `model.safetensors`) with tokenizer.json files in the format of candle's
/// marian example (`source-tokenizer.json`, `target-tokenizer.json`: SentencePiece unigram,
/// Metaspace). Seeded by PRECIS_TEST_SEED like the GGUF models.
pub fn write_tiny_marian(dir: &Path, behaviour: MarianBehaviour) {
    let vocab = marian_vocab();
    let n = vocab.len();
    let mut bias = vec![0f32; n];
    if behaviour == MarianBehaviour::WritesChinese {
        let first_chinese = 2 + MARIAN_ENGLISH.len();
        for (i, b) in bias.iter_mut().enumerate() {
            *b = if i == 0 {
                6.0
            } else if (first_chinese..first_chinese + MARIAN_CHINESE.len()).contains(&i) {
                9.0
            } else {
                -20.0
            };
        }
    }
    write_tiny_marian_weights(dir, n, bias);
    // tokenizer.json as candle's marian example ships them: a unigram model over the
    // vocabulary in Marian's id order, Metaspace pre-tokenizer and decoder.
    let pieces: Vec<serde_json::Value> = vocab
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let special = i < 2 || i >= n - 2;
            serde_json::json!([
                p,
                if special {
                    0.0
                } else {
                    -1.0 - (p.chars().count() as f64).recip()
                }
            ])
        })
        .collect();
    let added: Vec<serde_json::Value> = [
        (0, "</s>"),
        (1, "<unk>"),
        (n - 2, MARIAN_LANGUAGE_TOKEN),
        (n - 1, "<pad>"),
    ]
    .iter()
    .map(|(id, c)| {
        serde_json::json!({"id": id, "content": c, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
    })
    .collect();
    let metaspace = serde_json::json!({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true});
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": null, "pre_tokenizer": metaspace, "post_processor": null, "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": 1, "vocab": pieces, "byte_fallback": false}
    });
    for name in ["source-tokenizer.json", "target-tokenizer.json"] {
        std::fs::write(dir.join(name), tokenizer.to_string()).unwrap();
    }
}

/// `config.json` and random `model.safetensors` of a tiny Marian model with `n` ids (pad last,
/// end token 0), `bias` its output bias.
pub fn write_tiny_marian_weights(dir: &Path, n: usize, bias: Vec<f32>) {
    const D: usize = 16;
    const FFN: usize = 32;
    const LAYERS: usize = 2;
    let pad = n - 1;
    std::fs::create_dir_all(dir).unwrap();
    let config = serde_json::json!({
        "vocab_size": n, "decoder_vocab_size": n, "max_position_embeddings": 64,
        "d_model": D, "encoder_layers": LAYERS, "decoder_layers": LAYERS,
        "encoder_attention_heads": 2, "decoder_attention_heads": 2,
        "encoder_ffn_dim": FFN, "decoder_ffn_dim": FFN, "activation_function": "swish",
        "scale_embedding": true, "normalize_before": false, "share_encoder_decoder_embeddings": true,
        "pad_token_id": pad, "eos_token_id": 0, "forced_eos_token_id": 0, "decoder_start_token_id": pad,
        "use_cache": true, "is_encoder_decoder": true, "model_type": "marian"
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let seed: u64 = std::env::var("PRECIS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let state = std::cell::Cell::new(seed.wrapping_mul(0xD6E8_FEB8_6659_FD93) | 1);
    let uniform = || {
        let mut s = state.get();
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        state.set(s);
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let dev = Device::Cpu;
    let tensor = |shape: &[usize], scale: f64, offset: f64| {
        let count: usize = shape.iter().product();
        let v: Vec<f32> = (0..count)
            .map(|_| (offset + uniform() * scale) as f32)
            .collect();
        Tensor::from_vec(v, shape, &dev).unwrap()
    };
    // Scaled as trained weights are (variance 1/fan-in), norms around 1, small biases.
    let cfg: precis_core::mt::marian::Config = serde_json::from_value(config).unwrap();
    let mut t = std::collections::HashMap::new();
    for (name, shape) in precis_core::mt::marian::weight_shapes(&cfg) {
        let tensor = if name == "final_logits_bias" {
            Tensor::from_vec(bias.clone(), shape, &dev).unwrap()
        } else if name == "model.shared.weight" {
            tensor(&shape, 0.5, 0.0)
        } else if name.ends_with("norm.weight") {
            tensor(&shape, 0.2, 1.0)
        } else if name.ends_with(".bias") {
            tensor(&shape, 0.1, 0.0)
        } else {
            tensor(&shape, (3.0 / shape[1] as f64).sqrt(), 0.0)
        };
        t.insert(name, tensor);
    }
    candle_core::safetensors::save(&t, dir.join("model.safetensors")).unwrap();
}

/// A tiny random Marian model laid out as a Helsinki-NLP repository snapshot: config.json,
/// model.safetensors, and the SentencePiece tokenizer fixture (source.spm, target.spm,
/// vocab.json from scripts/marian_spm_reference.py, whose vocabulary has `>>cmn_Hans<<`).
pub fn write_tiny_helsinki_marian(dir: &Path) {
    let fixture = fixture("marian_spm");
    std::fs::create_dir_all(dir).unwrap();
    for f in ["source.spm", "target.spm", "vocab.json"] {
        std::fs::copy(fixture.join(f), dir.join(f)).unwrap();
    }
    let vocab: std::collections::HashMap<String, usize> =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("vocab.json")).unwrap())
            .unwrap();
    assert_eq!(vocab["<pad>"], vocab.len() - 1);
    // Chinese characters and the end token are favoured, so a translation is short and Chinese.
    let bias = (0..vocab.len()).map(|_| 0.0).collect::<Vec<f32>>();
    let mut bias = bias;
    for (piece, &id) in &vocab {
        bias[id] = if id == 0 {
            4.0
        } else if piece
            .chars()
            .all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        {
            3.0
        } else {
            -20.0
        };
    }
    write_tiny_marian_weights(dir, vocab.len(), bias);
}
