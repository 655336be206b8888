//! The architectures the decoder runs, one file each: each reads its typed [`Config`] from the
//! GGUF metadata, stating how it differs from a plain Llama-style decoder. Supporting a new
//! architecture whose pieces the decoder already has is one file here plus one line in
//! [`ARCHITECTURES`].

mod gemma3;
mod llama;
mod qwen2;
mod qwen3;

use candle_core::quantized::gguf_file;
use candle_core::Result;

use super::decoder::{Config, Metadata};

/// A decoder architecture by its GGUF name (`general.architecture`, also the prefix of its
/// metadata keys) and how its config is read.
#[derive(Debug, Clone, Copy)]
pub struct Architecture {
    pub name: &'static str,
    config: fn(&Metadata) -> Result<Config>,
}

/// Every architecture the decoder runs.
#[rustfmt::skip]
pub const ARCHITECTURES: &[Architecture] = &[
    Architecture { name: "qwen2", config: qwen2::config },
    Architecture { name: "qwen3", config: qwen3::config },
    Architecture { name: "llama", config: llama::config },
    Architecture { name: "gemma3", config: gemma3::config },
];

/// The architecture named `name`, if the decoder runs it.
pub fn architecture(name: &str) -> Option<Architecture> {
    ARCHITECTURES.iter().copied().find(|a| a.name == name)
}

/// What to tell a user whose model file has architecture `name`, which the decoder does not run.
pub fn unsupported(name: &str) -> String {
    let supported: Vec<&str> = ARCHITECTURES.iter().map(|a| a.name).collect();
    let name = if name.is_empty() {
        "(none stated)"
    } else {
        name
    };
    format!(
        "architecture `{name}` is not supported (Précis runs {})",
        supported.join(", ")
    )
}

/// The file's architecture name (`general.architecture`; empty when missing).
pub fn name_of(ct: &gguf_file::Content) -> String {
    ct.metadata
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .unwrap_or_default()
}

/// The decoder config of a GGUF file, by its architecture.
pub fn config(ct: &gguf_file::Content) -> Result<Config> {
    let name = name_of(ct);
    let Some(arch) = architecture(&name) else {
        candle_core::bail!("{}", unsupported(&name));
    };
    (arch.config)(&Metadata {
        ct,
        arch: arch.name,
    })?
    .validate()
}
