//! The engine's error type. Every variant renders as one line that says what went wrong, why,
//! and what to do; `code()` gives a stable machine-readable name the UI can translate.

use std::path::PathBuf;
use ts_rs::TS;

use crate::document::ReadError;
use precis_llm::RemoteFailure;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Read(ReadError),

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

    #[error("cannot use the glossary {path}: {reason}")]
    Glossary { path: PathBuf, reason: String },

    #[error("cannot change the translation: {0}")]
    Revision(String),

    #[error("cancelled")]
    Cancelled,

    /// The remote engine (an OpenAI-compatible server) failed; the message says what to fix.
    #[error("{message}")]
    Remote {
        failure: precis_llm::RemoteFailure,
        message: String,
    },

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
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Read(e) => ErrorCode::from(e),
            Error::ModelMissing { .. } => ErrorCode::ModelMissing,
            Error::ModelNotInstalled { .. } => ErrorCode::ModelNotInstalled,
            Error::UnknownModel { .. } => ErrorCode::UnknownModel,
            Error::ModelInvalid { .. } => ErrorCode::ModelInvalid,
            Error::ChecksumMismatch { .. } => ErrorCode::ChecksumMismatch,
            Error::Download(_) => ErrorCode::DownloadFailed,
            Error::Inference(_) => ErrorCode::InferenceFailed,
            Error::NoModelInstalled => ErrorCode::NoModelInstalled,
            Error::EngineUnavailable { .. } => ErrorCode::EngineUnavailable,
            Error::UnsupportedLanguage(_) => ErrorCode::UnsupportedLanguage,
            Error::Glossary { .. } => ErrorCode::GlossaryInvalid,
            Error::Revision(_) => ErrorCode::RevisionInvalid,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Remote { failure, .. } => match failure {
                RemoteFailure::Unreachable => ErrorCode::RemoteUnreachable,
                RemoteFailure::Unauthorized => ErrorCode::RemoteUnauthorized,
                RemoteFailure::ModelNotFound => ErrorCode::RemoteModelNotFound,
                RemoteFailure::ContextTooLong => ErrorCode::RemoteContextTooLong,
                RemoteFailure::Server => ErrorCode::RemoteFailed,
                RemoteFailure::BadResponse => ErrorCode::RemoteBadResponse,
            },
            Error::Export(_) => ErrorCode::ExportFailed,
            Error::FontMissing { .. } => ErrorCode::FontMissing,
            Error::Write { .. } => ErrorCode::WriteFailed,
            Error::Io { .. } => ErrorCode::IoError,
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

/// The runtime's errors (`precis-llm`, which knows nothing of `ErrorCode`) as the variants of
/// the same name: the same message, and `code()`, `window_message()` and matching on
/// `Error::Cancelled` work as they do for the core's own.
impl From<precis_llm::Error> for Error {
    fn from(e: precis_llm::Error) -> Self {
        match e {
            precis_llm::Error::ModelMissing { path } => Error::ModelMissing { path },
            precis_llm::Error::ModelInvalid { path, reason } => {
                Error::ModelInvalid { path, reason }
            }
            precis_llm::Error::Inference(message) => Error::Inference(message),
            precis_llm::Error::Cancelled => Error::Cancelled,
            precis_llm::Error::Remote { failure, message } => Error::Remote { failure, message },
            precis_llm::Error::Io { path, source } => Error::Io { path, source },
        }
    }
}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Self {
        match e {
            // A reader stopped by the user (OCR) is a cancelled job like any other.
            ReadError::Cancelled => Error::Cancelled,
            other => Error::Read(other),
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
    pub code: ErrorCode,
    pub message: String,
}

impl From<&Error> for ErrorInfo {
    fn from(e: &Error) -> Self {
        ErrorInfo {
            code: e.code(),
            message: e.window_message(),
        }
    }
}

/// Every kind of failure a caller is told about: stable names (`snake_case` in JSON) the window
/// can act on, generated into the UI's types as a union.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Reading an article.
    ReadFailed,
    EmptyFile,
    FileTooLarge,
    NotAFile,
    BinaryFile,
    UnsupportedFormat,
    UndecodableText,
    NoText,
    CorruptDocument,
    ArchiveLimit,
    NoSuchChapter,
    NoTextLayer,
    OcrFailed,
    EncryptedDocument,
    DocumentLimit,
    // Models and engines.
    ModelMissing,
    ModelNotInstalled,
    NoModelInstalled,
    UnknownModel,
    ModelInvalid,
    ChecksumMismatch,
    DownloadFailed,
    InferenceFailed,
    EngineUnavailable,
    // The remote engine (an OpenAI-compatible server).
    RemoteUnreachable,
    RemoteUnauthorized,
    RemoteModelNotFound,
    RemoteContextTooLong,
    RemoteFailed,
    RemoteBadResponse,
    UnsupportedLanguage,
    GlossaryInvalid,
    RevisionInvalid,
    Cancelled,
    // Output.
    ExportFailed,
    FontMissing,
    WriteFailed,
    IoError,
    // The history database.
    HistoryUnavailable,
    HistoryTooNew,
    HistoryNotFound,
    GlossaryEntryNotFound,
    HistoryFailed,
    // The window's own requests.
    NothingToRestore,
    Busy,
    /// A failure with no better name (a worker thread that died, an error the UI raised).
    Internal,
}

impl ErrorCode {
    /// The name as it appears in JSON, e.g. `model_missing`.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => format!("{self:?}"),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// The stable code of a reader's error (`ReadError` lives in `precis-document`, which knows
/// nothing of `ErrorCode`).
impl From<&ReadError> for ErrorCode {
    fn from(e: &ReadError) -> Self {
        match e {
            ReadError::Io { .. } => ErrorCode::ReadFailed,
            ReadError::Empty { .. } => ErrorCode::EmptyFile,
            ReadError::TooLarge { .. } | ReadError::StreamTooLarge { .. } => {
                ErrorCode::FileTooLarge
            }
            ReadError::NotAFile { .. } => ErrorCode::NotAFile,
            ReadError::Binary { .. } => ErrorCode::BinaryFile,
            ReadError::Unsupported { .. } => ErrorCode::UnsupportedFormat,
            ReadError::Undecodable { .. } => ErrorCode::UndecodableText,
            ReadError::NoText { .. } => ErrorCode::NoText,
            ReadError::Corrupt { .. } => ErrorCode::CorruptDocument,
            ReadError::ArchiveLimit { .. } => ErrorCode::ArchiveLimit,
            ReadError::NoSuchChapter { .. } => ErrorCode::NoSuchChapter,
            ReadError::NoTextLayer { .. } => ErrorCode::NoTextLayer,
            ReadError::Ocr { .. } => ErrorCode::OcrFailed,
            ReadError::Cancelled => ErrorCode::Cancelled,
            ReadError::Encrypted { .. } => ErrorCode::EncryptedDocument,
            ReadError::Limit { .. } => ErrorCode::DocumentLimit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every runtime error keeps its message and gets the code it had when the runtime raised
    /// the core's errors itself.
    #[test]
    fn runtime_errors_keep_their_message_and_code() {
        let path = PathBuf::from("/models/m.gguf");
        let cases = [
            (
                precis_llm::Error::ModelMissing { path: path.clone() },
                ErrorCode::ModelMissing,
            ),
            (
                precis_llm::Error::ModelInvalid {
                    path: path.clone(),
                    reason: "its vocabulary has no end-of-turn token".into(),
                },
                ErrorCode::ModelInvalid,
            ),
            (
                precis_llm::Error::Inference("empty prompt".into()),
                ErrorCode::InferenceFailed,
            ),
            (precis_llm::Error::Cancelled, ErrorCode::Cancelled),
            (
                precis_llm::Error::Io {
                    path: path.clone(),
                    source: std::io::Error::other("disk on fire"),
                },
                ErrorCode::IoError,
            ),
            (
                precis_llm::Error::Remote {
                    failure: RemoteFailure::ContextTooLong,
                    message: "the prompt does not fit the server's context".into(),
                },
                ErrorCode::RemoteContextTooLong,
            ),
        ];
        for (runtime, code) in cases {
            let message = runtime.to_string();
            let core = Error::from(runtime);
            assert_eq!(core.to_string(), message);
            assert_eq!(core.code(), code, "{message}");
        }
        let missing = Error::from(precis_llm::Error::ModelMissing { path });
        assert!(missing.window_message().contains("Models panel"));
        assert!(matches!(
            Error::from(precis_llm::Error::Cancelled),
            Error::Cancelled
        ));
    }
}
