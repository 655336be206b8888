//! Inference micro-benchmark: load time, batched prefill and single-stream decode speed, peak
//! memory. Runs either Précis's own Qwen2 implementation or candle's `quantized_qwen2` as the
//! reference, on the same GGUF file and the same tokens, so the two can be compared side by side
//! (`scripts/bench-engine.sh` alternates them in separate processes).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use candle_core::{Device, Tensor, D};
use serde::Serialize;
use tokenizers::Tokenizer;

use crate::llm::qwen2::Qwen2;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Implementation {
    /// `llm::qwen2` (what the app uses).
    Precis,
    /// `candle_transformers::models::quantized_qwen2`.
    Candle,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub implementation: Implementation,
    pub threads: usize,
    pub load_secs: f64,
    pub prefill_tokens: usize,
    pub prefill_tokens_per_sec: f64,
    pub decode_tokens: usize,
    pub decode_tokens_per_sec: f64,
    /// Peak resident memory of this process (VmHWM), in MiB.
    pub peak_rss_mib: f64,
    /// The prompt's token ids (so a baseline engine can be fed exactly the same tokens).
    pub prompt: Vec<u32>,
    /// The decoded token ids, to check both implementations agree.
    pub decoded: Vec<u32>,
}

/// A prompt of exactly `n` tokens: news-like English text, repeated as needed.
pub fn prompt_tokens(tokenizer: &Tokenizer, n: usize) -> Vec<u32> {
    const TEXT: &str = "The ministers met in the familiar confines of a hotel on the shore of the lake and made brief \
        remarks to reporters before beginning closed-door talks. Officials said a successful outcome could provide a \
        major boost towards resolving the conflict, and that humanitarian access would improve within days. ";
    let one = tokenizer
        .encode(TEXT, false)
        .map(|e| e.get_ids().to_vec())
        .unwrap_or_default();
    one.iter().copied().cycle().take(n).collect()
}

pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn argmax(logits: &Tensor) -> Result<u32> {
    Ok(logits
        .flatten_all()?
        .argmax(D::Minus1)?
        .to_scalar::<u32>()?)
}

/// Loads `path` with `implementation`, prefills `prefill` tokens in one batch, then decodes
/// `decode` tokens greedily (end-of-turn tokens do not stop it).
pub fn run(
    path: &Path,
    implementation: Implementation,
    prefill: usize,
    decode: usize,
) -> Result<BenchResult> {
    let invalid = |e: candle_core::Error| Error::ModelInvalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let dev = Device::Cpu;
    let started = Instant::now();
    let mut reader = BufReader::new(File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?);
    let ct = gguf_file::Content::read(&mut reader).map_err(invalid)?;
    let tokenizer = Tokenizer::from_gguf(&ct).map_err(invalid)?;
    let capacity = prefill + decode + 1;
    enum Model {
        Ours(Qwen2),
        Theirs(candle_transformers::models::quantized_qwen2::ModelWeights),
    }
    let mut model = match implementation {
        Implementation::Precis => {
            Model::Ours(Qwen2::from_gguf(&ct, &mut reader, capacity, &dev).map_err(invalid)?)
        }
        Implementation::Candle => Model::Theirs(
            candle_transformers::models::quantized_qwen2::ModelWeights::from_gguf(
                ct,
                &mut reader,
                &dev,
            )
            .map_err(invalid)?,
        ),
    };
    let load_secs = started.elapsed().as_secs_f64();
    let prompt = prompt_tokens(&tokenizer, prefill);
    let mut step = |tokens: &[u32], pos: usize| -> Result<Tensor> {
        Ok(match &mut model {
            Model::Ours(m) => m.forward(tokens)?,
            Model::Theirs(m) => m.forward(&Tensor::new(tokens, &dev)?.unsqueeze(0)?, pos)?,
        })
    };
    let t0 = Instant::now();
    let mut logits = step(&prompt, 0)?;
    let prefill_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut decoded = Vec::with_capacity(decode);
    for i in 0..decode {
        let next = argmax(&logits)?;
        decoded.push(next);
        logits = step(&[next], prompt.len() + i)?;
    }
    let decode_secs = t1.elapsed().as_secs_f64();
    Ok(BenchResult {
        implementation,
        threads: candle_core::utils::get_num_threads(),
        load_secs,
        prefill_tokens: prompt.len(),
        prefill_tokens_per_sec: prompt.len() as f64 / prefill_secs,
        decode_tokens: decode,
        decode_tokens_per_sec: decode as f64 / decode_secs,
        peak_rss_mib: peak_rss_mib(),
        prompt,
        decoded,
    })
}
