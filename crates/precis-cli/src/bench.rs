//! `precis bench` and `precis bench-marian`: engine speed measurements, one JSON line each.
//! The LLM benchmark is `precis_llm::bench` (its `reference` feature); the Marian one is here,
//! since the Marian model is `precis-core`'s and its reference is candle-transformers'.

use std::time::Instant;

use anyhow::Result;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use precis_core::models;
use precis_core::mt::marian::{weight_shapes, Config as MarianConfig, Marian, Search};
use precis_core::Error;
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
/// `precis_core::mt::marian` with `beam` and `batch`. The time includes building the model
/// from the weights.
fn marian(
    implementation: Implementation,
    beam: usize,
    batch: usize,
    sentences: usize,
    source_tokens: usize,
    output_tokens: usize,
) -> precis_core::Result<MarianBenchResult> {
    let config = opus_mt_en_zh_shape();
    let cfg: MarianConfig =
        serde_json::from_value(config.clone()).map_err(|e| Error::Inference(e.to_string()))?;
    let vb = random_weights(&cfg)?;
    let inputs = source_sentences(sentences, source_tokens, cfg.eos_token_id);
    let threads = rayon::current_num_threads();
    let started = Instant::now();
    let search = match implementation {
        Implementation::Precis => translate_precis(cfg, vb, &inputs, beam, batch, output_tokens)?,
        Implementation::Candle => translate_candle(config, vb, &inputs, output_tokens)?,
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

/// A candle error as the core's error.
fn inference(e: candle_core::Error) -> Error {
    Error::Inference(e.to_string())
}

/// opus-mt-en-zh's `config.json`, as far as the forward pass reads it.
fn opus_mt_en_zh_shape() -> serde_json::Value {
    serde_json::json!({
        "vocab_size": 65001, "decoder_vocab_size": 65001, "max_position_embeddings": 512,
        "d_model": 512, "encoder_layers": 6, "decoder_layers": 6,
        "encoder_attention_heads": 8, "decoder_attention_heads": 8,
        "encoder_ffn_dim": 2048, "decoder_ffn_dim": 2048, "activation_function": "swish",
        "scale_embedding": true, "share_encoder_decoder_embeddings": true,
        "pad_token_id": 65000, "eos_token_id": 0, "forced_eos_token_id": 0,
        "decoder_start_token_id": 65000, "use_cache": true, "is_encoder_decoder": true
    })
}

/// Random weights of `cfg`'s shape, on the CPU.
fn random_weights(cfg: &MarianConfig) -> precis_core::Result<VarBuilder<'static>> {
    let dev = Device::Cpu;
    let mut tensors = std::collections::HashMap::new();
    for (name, shape) in weight_shapes(cfg) {
        let tensor = if name == "final_logits_bias" {
            // The end token can never win, so every sentence decodes `output_tokens` tokens.
            let mut bias = vec![0f32; shape[1]];
            bias[cfg.eos_token_id as usize] = -1e9;
            Tensor::from_vec(bias, shape, &dev)
        } else {
            Tensor::randn(0f32, 0.05, shape, &dev)
        };
        tensors.insert(name, tensor.map_err(inference)?);
    }
    Ok(VarBuilder::from_tensors(tensors, DType::F32, &dev))
}

/// Source sentences: distinct ids, `source_tokens` long, ending with the end token.
fn source_sentences(sentences: usize, source_tokens: usize, eos: u32) -> Vec<Vec<u32>> {
    (0..sentences)
        .map(|s| {
            let mut ids: Vec<u32> = (0..source_tokens as u32 - 1)
                .map(|i| 5 + (s as u32 * 7919 + i * 104_729) % 60_000)
                .collect();
            ids.push(eos);
            ids
        })
        .collect()
}

/// The timed part of `Precis`: builds the model and translates `inputs` in batches of
/// `batch`. Returns the search's name for the report.
fn translate_precis(
    cfg: MarianConfig,
    vb: VarBuilder,
    inputs: &[Vec<u32>],
    beam: usize,
    batch: usize,
    output_tokens: usize,
) -> precis_core::Result<String> {
    let model = Marian::new(cfg, vb).map_err(inference)?;
    let search = Search {
        beam: beam.max(1),
        length_penalty: 1.0,
    };
    for chunk in inputs.chunks(batch.max(1)) {
        let out = model
            .translate(chunk, search, &|_| output_tokens, &mut || true)
            .map_err(inference)?
            .unwrap_or_default();
        debug_assert!(out.iter().all(|h| h.tokens.len() == output_tokens));
    }
    Ok(if search.beam == 1 {
        "greedy".to_string()
    } else {
        format!("beam {}", search.beam)
    })
}

/// The timed part of `Candle`: builds candle-transformers' model and decodes `inputs` one by
/// one, greedily, the pad token banned as in ours. Returns the search's name for the report.
fn translate_candle(
    config: serde_json::Value,
    vb: VarBuilder,
    inputs: &[Vec<u32>],
    output_tokens: usize,
) -> precis_core::Result<String> {
    use candle_transformers::models::marian as reference;
    let dev = Device::Cpu;
    let ref_cfg: reference::Config =
        serde_json::from_value(config).map_err(|e| Error::Inference(e.to_string()))?;
    let mut model = reference::MTModel::new(&ref_cfg, vb).map_err(inference)?;
    for ids in inputs {
        model.reset_kv_cache();
        let input = Tensor::new(ids.as_slice(), &dev)
            .and_then(|t| t.unsqueeze(0))
            .map_err(inference)?;
        let encoded = model.encoder().forward(&input, 0).map_err(inference)?;
        let mut token = ref_cfg.decoder_start_token_id;
        for step in 0..output_tokens {
            let input = Tensor::new(&[token], &dev)
                .and_then(|t| t.unsqueeze(0))
                .map_err(inference)?;
            let logits = model.decode(&input, &encoded, step).map_err(inference)?;
            let mut row = logits
                .squeeze(0)
                .and_then(|l| l.squeeze(0))
                .and_then(|l| l.to_vec1::<f32>())
                .map_err(inference)?;
            row[ref_cfg.pad_token_id as usize] = f32::NEG_INFINITY;
            token = argmax(&row);
        }
    }
    Ok("greedy".to_string())
}
