//! Inference micro-benchmark (`precis bench`; the `reference` feature): load time, batched
//! prefill and single-stream decode speed, peak memory. Runs either Précis's own decoder (any
//! architecture in [`crate::arch`]) or, for Qwen2 files, candle's `quantized_qwen2` as the
//! reference, on the same GGUF file and the same tokens, so the two can be compared side by side
//! (`scripts/bench-engine.sh` alternates them in separate processes). The Marian half
//! (`precis bench-marian`) is the CLI's: the Marian model is `precis-core`'s.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor, D};
use serde::Serialize;
use tokenizers::Tokenizer;

use crate::decoder::{argmax, Decoder};
use crate::PREFILL_CHUNK;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Implementation {
    /// [`crate::decoder`] (what the app uses).
    Precis,
    /// candle-transformers' model: `quantized_qwen2` (for `bench-marian`, `marian::MTModel`).
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
    /// Sequences decoded together in the batched run (0: not run).
    pub batch: usize,
    /// Aggregate tokens/s of the batched run: `batch` sequences, `decode_tokens` each.
    pub batch_decode_tokens_per_sec: f64,
    /// How our decoder prepared the weights (`FromCache`, `Repacked`…); `None` for candle.
    pub tiling: Option<String>,
}

/// A prompt of exactly `n` tokens: news-like English text, repeated as needed, after `bos` when
/// the model wants one (as llama.cpp adds it).
pub fn prompt_tokens(tokenizer: &Tokenizer, bos: Option<u32>, n: usize) -> Vec<u32> {
    const TEXT: &str = "The ministers met in the familiar confines of a hotel on the shore of the lake and made brief \
        remarks to reporters before beginning closed-door talks. Officials said a successful outcome could provide a \
        major boost towards resolving the conflict, and that humanitarian access would improve within days. ";
    let one = tokenizer
        .encode(TEXT, false)
        .map(|e| e.get_ids().to_vec())
        .unwrap_or_default();
    bos.into_iter()
        .chain(one.iter().copied().cycle())
        .take(n)
        .collect()
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

/// Loads `path` with `implementation`, prefills `prefill` tokens (Précis: in the chunks the app
/// uses; candle: in one call), then decodes `decode` tokens greedily (end-of-turn tokens do not
/// stop it). With `batch` > 1 (Précis only), then decodes `decode` tokens for each of `batch`
/// sequences with different prompts at once and reports the aggregate speed.
pub fn run(
    path: &Path,
    implementation: Implementation,
    prefill: usize,
    decode: usize,
    batch: usize,
) -> Result<BenchResult> {
    let invalid = |e: candle_core::Error| Error::ModelInvalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let dev = Device::Cpu;
    let started = Instant::now();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::new(&file);
    let ct = gguf_file::Content::read(&mut reader).map_err(invalid)?;
    let tokenizer = crate::tokenizer::from_gguf(&ct).map_err(|reason| Error::ModelInvalid {
        path: path.to_path_buf(),
        reason,
    })?;
    let capacity = prefill + decode + 1;
    let prompt = prompt_tokens(&tokenizer, crate::tokenizer::bos_to_add(&ct), prefill);
    let architecture = crate::arch::name_of(&ct);
    if implementation == Implementation::Candle && architecture != "qwen2" {
        return Err(Error::ModelInvalid {
            path: path.to_path_buf(),
            reason: format!("the candle reference runs qwen2 only, not `{architecture}`"),
        });
    }
    let mut decoded = Vec::with_capacity(decode);
    let mut tiling = None;
    let (load_secs, prefill_secs, decode_secs, batch_rate) = match implementation {
        Implementation::Precis => {
            // As the app loads: with the tile cache (`PRECIS_TILE_CACHE=0` measures without).
            let tile_cache = crate::caches::tile_cache(path);
            let model = Decoder::from_gguf_cached(&ct, &file, capacity, tile_cache.as_ref());
            let mut model = model.map_err(invalid)?;
            let load_secs = started.elapsed().as_secs_f64();
            tiling = Some(format!("{:?}", model.tiling()));
            let mut cache = model.new_cache(capacity);
            let t0 = Instant::now();
            let mut next = 0;
            for chunk in prompt.chunks(PREFILL_CHUNK) {
                next = argmax(model.forward(&mut cache, chunk)?);
            }
            let prefill_secs = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            for _ in 0..decode {
                decoded.push(next);
                next = argmax(model.forward(&mut cache, &[next])?);
            }
            let decode_secs = t1.elapsed().as_secs_f64();
            drop(cache);
            let batch_rate = if batch > 1 {
                batched_decode(&mut model, &prompt, decode, batch)?
            } else {
                0.0
            };
            (load_secs, prefill_secs, decode_secs, batch_rate)
        }
        Implementation::Candle => {
            let mut model = candle_transformers::models::quantized_qwen2::ModelWeights::from_gguf(
                ct,
                &mut reader,
                &dev,
            )
            .map_err(invalid)?;
            let load_secs = started.elapsed().as_secs_f64();
            let mut step = |tokens: &[u32], pos: usize| -> Result<u32> {
                let logits = model.forward(&Tensor::new(tokens, &dev)?.unsqueeze(0)?, pos)?;
                Ok(logits
                    .flatten_all()?
                    .argmax(D::Minus1)?
                    .to_scalar::<u32>()?)
            };
            let t0 = Instant::now();
            let mut next = step(&prompt, 0)?;
            let prefill_secs = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            for i in 0..decode {
                decoded.push(next);
                next = step(&[next], prompt.len() + i)?;
            }
            (load_secs, prefill_secs, t1.elapsed().as_secs_f64(), 0.0)
        }
    };
    Ok(BenchResult {
        implementation,
        threads: rayon::current_num_threads(),
        load_secs,
        prefill_tokens: prompt.len(),
        prefill_tokens_per_sec: prompt.len() as f64 / prefill_secs,
        decode_tokens: decode,
        decode_tokens_per_sec: decode as f64 / decode_secs,
        peak_rss_mib: peak_rss_mib(),
        prompt,
        decoded,
        batch: if batch > 1 { batch } else { 0 },
        batch_decode_tokens_per_sec: batch_rate,
        tiling,
    })
}

/// `batch` sequences (the prompt rotated differently for each), prefilled one by one, then
/// decoded together; returns the aggregate decode tokens/s.
fn batched_decode(model: &mut Decoder, prompt: &[u32], decode: usize, batch: usize) -> Result<f64> {
    let mut caches = Vec::with_capacity(batch);
    let mut next = Vec::with_capacity(batch);
    for b in 0..batch {
        let mut p = prompt.to_vec();
        p.rotate_left(b * 7 % prompt.len().max(1));
        let mut cache = model.new_cache(prompt.len() + decode + 1);
        let mut last = 0;
        for chunk in p.chunks(PREFILL_CHUNK) {
            last = argmax(model.forward(&mut cache, chunk)?);
        }
        caches.push(cache);
        next.push([last]);
    }
    let vocab = model.vocab_size();
    let t = Instant::now();
    for _ in 0..decode {
        let inputs: Vec<&[u32]> = next.iter().map(|t| &t[..]).collect();
        let mut refs: Vec<&mut crate::decoder::KvCache> = caches.iter_mut().collect();
        let logits = model.forward_batch(&mut refs, &inputs)?;
        let picked: Vec<u32> = (0..batch)
            .map(|b| argmax(&logits[b * vocab..][..vocab]))
            .collect();
        for (n, p) in next.iter_mut().zip(picked) {
            n[0] = p;
        }
    }
    Ok((batch * decode) as f64 / t.elapsed().as_secs_f64())
}
