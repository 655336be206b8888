//! Gemma 3 (text): five local layers (sliding window, their own RoPE base) to one global; Q/K
//! head norms; RMS norms after the attention and feed-forward blocks as well as before; GELU
//! (tanh); embeddings scaled by sqrt(hidden); RoPE over halves. The GGUF converter already
//! stores Gemma's norm weights as `1 + w`, so they are plain RMS norms here.

use candle_core::Result;

use crate::decoder::{Activation, Config, Metadata, RopeLayout, SlidingWindow};

pub fn config(meta: &Metadata) -> Result<Config> {
    let common = Config::common(meta)?;
    if meta.has("attn_logit_softcapping") {
        candle_core::bail!("attention logit soft-capping (Gemma 2) is not supported");
    }
    let final_logit_softcap = if meta.has("final_logit_softcapping") {
        Some(meta.f32("final_logit_softcapping")?)
    } else {
        None
    };
    Ok(Config {
        rope_theta: meta.f32_or("rope.freq_base", 1_000_000.0)?,
        rope_layout: RopeLayout::Halves,
        qk_norm: true,
        post_norms: true,
        activation: Activation::GeluTanh,
        embedding_scale: (common.hidden_size as f32).sqrt(),
        sliding_window: Some(SlidingWindow {
            size: meta.usize("attention.sliding_window")?,
            period: 6,
            rope_theta: meta.f32_or("rope.freq_base_swa", 10_000.0)?,
        }),
        final_logit_softcap,
        // As llama.cpp: the 27B (62 layers) scales queries by its hidden width per head, not
        // by its (narrower) head width.
        attention_scale: if common.num_layers == 62 {
            1.0 / ((common.hidden_size / common.num_heads.max(1)) as f32).sqrt()
        } else {
            common.attention_scale
        },
        ..common
    })
}
