//! The engine's error type. Every variant renders as one line that says what went wrong, why,
//! and what to do; `code()` gives a stable machine-readable name the UI can translate.

use std::path::PathBuf;
use ts_rs::TS;

use crate::document::ReadError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Read(#[from] ReadError),

    #[error("model file not found: {path}; fetch it with `precis models fetch <ID>` or pass --model PATH to a .gguf file")]
    ModelMissing { path: PathBuf },

    #[error("model `{id}` is not installed; run `precis models fetch {id}` (or pass --model PATH to a .gguf file)")]
    ModelNotInstalled { id: String },

    #[error("unknown model `{id}`; known models: {known}")]
    UnknownModel { id: String, known: String },

    #[error("{path} is not a usable GGUF model: {reason}")]
    ModelInvalid { path: PathBuf, reason: String },

    #[error("checksum mismatch for {what}: expected sha256 {expected}, got {actual}; the download is corrupt or tampered with, so it was not installed")]
    ChecksumMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("download failed: {0}")]
    Download(String),

    #[error("inference failed: {0}")]
    Inference(String),

    #[error("no model is installed; run `precis models fetch qwen2.5-1.5b-instruct` (or pass --model PATH to a .gguf file)")]
    NoModelInstalled,

    #[error("the `{engine}` engine cannot do this: {reason}")]
    EngineUnavailable { engine: String, reason: String },

    #[error("unsupported language `{0}`; use a code such as zh-Hans, zh-Hant, ja, ko, fr, de, es, ru, pt, it, ar, vi, en")]
    UnsupportedLanguage(String),

    #[error("cancelled")]
    Cancelled,

    #[error("cannot export: {0}")]
    Export(String),

    #[error("no font that can show {language} text was found for the PDF; install one (Debian/Ubuntu: `sudo apt install fonts-noto-cjk`) or set PRECIS_PDF_FONT to a .ttf, .otf or .ttc file")]
    FontMissing { language: String },

    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// A stable identifier for the kind of failure (for the UI and for JSON output).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Read(e) => e.code(),
            Error::ModelMissing { .. } => "model_missing",
            Error::ModelNotInstalled { .. } => "model_not_installed",
            Error::UnknownModel { .. } => "unknown_model",
            Error::ModelInvalid { .. } => "model_invalid",
            Error::ChecksumMismatch { .. } => "checksum_mismatch",
            Error::Download(_) => "download_failed",
            Error::Inference(_) => "inference_failed",
            Error::NoModelInstalled => "no_model_installed",
            Error::EngineUnavailable { .. } => "engine_unavailable",
            Error::UnsupportedLanguage(_) => "unsupported_language",
            Error::Cancelled => "cancelled",
            Error::Export(_) => "export_failed",
            Error::FontMissing { .. } => "font_missing",
            Error::Write { .. } => "write_failed",
            Error::Io { .. } => "io_error",
        }
    }
}

impl Error {
    /// The message as the window shows it: the same facts, with the Models panel's advice
    /// where the one-line message gives command-line advice.
    pub fn window_message(&self) -> String {
        match self {
            Error::ModelMissing { path } => format!(
                "model file not found: {}; download a model or import a .gguf file in the Models panel",
                path.display()
            ),
            Error::ModelNotInstalled { id } => {
                format!("model `{id}` is not installed; download it in the Models panel")
            }
            Error::NoModelInstalled => {
                "no model is installed; download one in the Models panel (Qwen2.5 1.5B is the default)"
                    .into()
            }
            other => other.to_string(),
        }
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Inference(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A serializable `{code, message}` pair for callers that show errors to users.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, TS)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
}

impl From<&Error> for ErrorInfo {
    fn from(e: &Error) -> Self {
        ErrorInfo {
            code: e.code().to_string(),
            message: e.window_message(),
        }
    }
}

impl ReadError {
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Io { .. } => "read_failed",
            ReadError::Empty { .. } => "empty_file",
            ReadError::TooLarge { .. } | ReadError::StreamTooLarge { .. } => "file_too_large",
            ReadError::NotAFile { .. } => "not_a_file",
            ReadError::Binary { .. } => "binary_file",
            ReadError::Unsupported { .. } => "unsupported_format",
            ReadError::Undecodable { .. } => "undecodable_text",
            ReadError::NoText { .. } => "no_text",
            ReadError::Corrupt { .. } => "corrupt_document",
            ReadError::ArchiveLimit { .. } => "archive_limit",
            ReadError::NoSuchChapter { .. } => "no_such_chapter",
            ReadError::NoTextLayer { .. } => "no_text_layer",
            ReadError::Encrypted { .. } => "encrypted_document",
            ReadError::Limit { .. } => "document_limit",
        }
    }
}
