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

    /// A remote engine (an OpenAI-compatible server) failed; `failure` says how, for the
    /// caller's error code, and the message says what to do.
    #[error("{message}")]
    Remote {
        failure: RemoteFailure,
        message: String,
    },

    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How a remote engine failed: what the user must fix differs for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteFailure {
    /// No server answered: wrong address, refused connection, name not resolved, timeout.
    Unreachable,
    /// The server refused the API key (401/403).
    Unauthorized,
    /// The server does not have the model asked for.
    ModelNotFound,
    /// The prompt and answer do not fit the server's context.
    ContextTooLong,
    /// The server failed or was overloaded and kept failing through the retries, or broke off.
    Server,
    /// The server answered something that is not an OpenAI-compatible response.
    BadResponse,
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Inference(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
