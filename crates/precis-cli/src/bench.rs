//! `precis bench` and `precis bench-marian`: engine speed measurements, one JSON line each.
//! The LLM benchmark is `precis_llm::bench` (its `reference` feature); the Marian one is here,
//! since the Marian model is `precis-core`'s and its reference is candle-transformers'.

use std::time::Instant;

use anyhow::Result;
use candle_core::{Device, Tensor};
use precis_core::models;
use precis_llm::bench::Implementation;
use precis_llm::decoder::argmax;
use serde::Serialize;

use crate::args::{BenchArgs, BenchMarianArgs};
use crate::common;

pub fn run(args: &BenchArgs) -> Result<()> {
    let path = models::resolve(Some(&args.model))?;
    let result = precis_llm::bench::run(
        &path,
        args.implementation.into(),
        args.prefill,
        args.decode,
        args.batch,
    )?;
    common::emit(&(serde_json::to_string(&result)? + "\n"), None)
}

pub fn run_marian(args: &BenchMarianArgs) -> Result<()> {
    if args.sentences == 0
        || !(2..=500).contains(&args.source_tokens)
        || !(1..=500).contains(&args.output_tokens)
    {
        anyhow::bail!(
            "--sentences must be at least 1, --source-tokens 2 to 500, --output-tokens 1 to 500"
        );
    }
    let result = marian(
        args.implementation.into(),
        args.beam,
        args.batch,
        args.sentences,
        args.source_tokens,
        args.output_tokens,
    )?;
    common::emit(&(serde_json::to_string(&result)? + "\n"), None)
}

/// One run of [`marian`].
#[derive(Debug, Clone, Serialize)]
struct MarianBenchResult {
    implementation: Implementation,
    threads: usize,
    /// `"greedy"` or `"beam N"`.
    search: String,
    /// Sentences decoded together.
    batch: usize,
    sentences: usize,
    source_tokens: usize,
    /// Output tokens per sentence (the end token is banned, so every sentence runs this long).
    output_tokens: usize,
    seconds: f64,
    sentences_per_sec: f64,
    output_tokens_per_sec: f64,
}

/// Translation speed of a Marian model of opus-mt-en-zh's shape (65,001 ids, 6+6 layers of
/// 512, 8 heads, feed-forward 2,048) with seeded random weights — speed does not depend on the
/// weights' values, and no Marian weights are reachable here. Every sentence decodes exactly
/// `output_tokens` tokens. `Candle` runs candle-transformers' `marian::MTModel` (greedy, one
/// sentence at a time: it has no padding mask and its cache cannot follow beams); `Precis` runs
/// `precis_core::mt::marian` with `beam` and `batch`.
fn marian(
    implementation: Implementation,
    beam: usize,
    batch: usize,
    sentences: usize,
    source_tokens: usize,
    output_tokens: usize,
) -> precis_core::Result<MarianBenchResult> {
    use precis_core::mt::marian::{weight_shapes, Config, Marian, Search};
    use precis_core::Error;
    let err = |e: candle_core::Error| Error::Inference(e.to_string());
    let config = serde_json::json!({
        "vocab_size": 65001, "decoder_vocab_size": 65001, "max_position_embeddings": 512,
        "d_model": 512, "encoder_layers": 6, "decoder_layers": 6,
        "encoder_attention_heads": 8, "decoder_attention_heads": 8,
        "encoder_ffn_dim": 2048, "decoder_ffn_dim": 2048, "activation_function": "swish",
        "scale_embedding": true, "share_encoder_decoder_embeddings": true,
        "pad_token_id": 65000, "eos_token_id": 0, "forced_eos_token_id": 0,
        "decoder_start_token_id": 65000, "use_cache": true, "is_encoder_decoder": true
    });
    let cfg: Config =
        serde_json::from_value(config.clone()).map_err(|e| Error::Inference(e.to_string()))?;
    let dev = Device::Cpu;
    let mut tensors = std::collections::HashMap::new();
    for (name, shape) in weight_shapes(&cfg) {
        let tensor = if name == "final_logits_bias" {
            // The end token can never win, so every sentence decodes `output_tokens` tokens.
            let mut bias = vec![0f32; shape[1]];
            bias[cfg.eos_token_id as usize] = -1e9;
            Tensor::from_vec(bias, shape, &dev)
        } else {
            Tensor::randn(0f32, 0.05, shape, &dev)
        };
        tensors.insert(name, tensor.map_err(err)?);
    }
    let vb = candle_nn::VarBuilder::from_tensors(tensors, candle_core::DType::F32, &dev);
    // Source sentences: distinct ids, `source_tokens` long, ending with the end token.
    let inputs: Vec<Vec<u32>> = (0..sentences)
        .map(|s| {
            let mut ids: Vec<u32> = (0..source_tokens as u32 - 1)
                .map(|i| 5 + (s as u32 * 7919 + i * 104_729) % 60_000)
                .collect();
            ids.push(cfg.eos_token_id);
            ids
        })
        .collect();
    let threads = rayon::current_num_threads();
    let started = Instant::now();
    let search = match implementation {
        Implementation::Precis => {
            let model = Marian::new(cfg, vb).map_err(err)?;
            let search = Search {
                beam: beam.max(1),
                length_penalty: 1.0,
            };
            for chunk in inputs.chunks(batch.max(1)) {
                let out = model
                    .translate(chunk, search, &|_| output_tokens, &mut || true)
                    .map_err(err)?
                    .unwrap_or_default();
                debug_assert!(out.iter().all(|h| h.tokens.len() == output_tokens));
            }
            if search.beam == 1 {
                "greedy".to_string()
            } else {
                format!("beam {}", search.beam)
            }
        }
        Implementation::Candle => {
            use candle_transformers::models::marian as reference;
            let ref_cfg: reference::Config =
                serde_json::from_value(config).map_err(|e| Error::Inference(e.to_string()))?;
            let mut model = reference::MTModel::new(&ref_cfg, vb).map_err(err)?;
            for ids in &inputs {
                model.reset_kv_cache();
                let input = Tensor::new(ids.as_slice(), &dev)
                    .and_then(|t| t.unsqueeze(0))
                    .map_err(err)?;
                let encoded = model.encoder().forward(&input, 0).map_err(err)?;
                let mut token = ref_cfg.decoder_start_token_id;
                for step in 0..output_tokens {
                    let input = Tensor::new(&[token], &dev)
                        .and_then(|t| t.unsqueeze(0))
                        .map_err(err)?;
                    let logits = model.decode(&input, &encoded, step).map_err(err)?;
                    let mut row = logits
                        .squeeze(0)
                        .and_then(|l| l.squeeze(0))
                        .and_then(|l| l.to_vec1::<f32>())
                        .map_err(err)?;
                    row[ref_cfg.pad_token_id as usize] = f32::NEG_INFINITY;
                    token = argmax(&row);
                }
            }
            "greedy".to_string()
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(MarianBenchResult {
        implementation,
        threads,
        search,
        batch: if implementation == Implementation::Candle {
            1
        } else {
            batch.max(1)
        },
        sentences,
        source_tokens,
        output_tokens,
        seconds,
        sentences_per_sec: sentences as f64 / seconds,
        output_tokens_per_sec: (sentences * output_tokens) as f64 / seconds,
    })
}
