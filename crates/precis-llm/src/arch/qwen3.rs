//! Qwen3: no biases; each head's query and key RMS-normalised before RoPE (over halves); the
//! head width is stated (`attention.key_length`) and the heads together may be wider than the
//! hidden state.

use candle_core::Result;

use crate::decoder::{Config, Metadata, RopeLayout};

pub fn config(meta: &Metadata) -> Result<Config> {
    Ok(Config {
        qk_norm: true,
        rope_layout: RopeLayout::Halves,
        ..Config::common(meta)?
    })
}
