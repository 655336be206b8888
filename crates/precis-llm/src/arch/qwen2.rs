//! Qwen2 and Qwen2.5: Llama-style with biases on Q, K and V, and RoPE over halves.

use candle_core::Result;

use crate::decoder::{Config, Metadata, RopeLayout};

pub fn config(meta: &Metadata) -> Result<Config> {
    Ok(Config {
        qkv_bias: true,
        rope_layout: RopeLayout::Halves,
        ..Config::common(meta)?
    })
}
