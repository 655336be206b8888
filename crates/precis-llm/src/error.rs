//! What the runtime raises. Every variant renders as one line that says what went wrong and
//! what to do; `precis_core::Error` has a variant of the same name and message for each, and
//! its `From<precis_llm::Error>` maps one onto the other (so codes and the window's wording are
//! decided there, not here).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("model file not found: {path}; fetch it with `precis models fetch <ID>` or pass --model PATH to a .gguf file")]
    ModelMissing { path: PathBuf },

    #[error("{path} is not a usable GGUF model: {reason}")]
    ModelInvalid { path: PathBuf, reason: String },

    #[error("inference failed: {0}")]
    Inference(String),

    #[error("cancelled")]
    Cancelled,

    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Inference(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
