//! Llama 2 / 3.x, SmolLM2, Mistral-style files (`general.architecture = llama`): grouped-query
//! attention without biases, SiLU, RoPE over adjacent pairs (llama.cpp's converter permutes Q
//! and K into that layout); Llama 3.1+'s frequency factors come from `rope_freqs.weight`.

use candle_core::Result;

use crate::decoder::{Config, Metadata};

pub fn config(meta: &Metadata) -> Result<Config> {
    Config::common(meta)
}
