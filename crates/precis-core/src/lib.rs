//! Précis engine: summarizes and translates an article (read by `precis-document`) with local
//! models, through one pipeline the window and the CLI share.
//!
//! Owns the pipeline, summaries, translation and its checks, the model runtime and catalog,
//! and the types results are made of. Must not depend on storage (`precis-store`), exports
//! (`precis-export`), Tauri or the CLI; no network except in [`models::fetch`] when a download
//! is requested.

pub mod bench;
pub mod clock;
pub mod error;
pub mod lang;
pub mod llm;
pub mod models;
pub mod mt;
pub mod names;
pub mod numbers;
pub mod pipeline;
pub mod progress;
pub mod script;
pub mod summarize;
pub mod translate;

/// The article readers, from their own crate (`precis-document`), at their old path.
pub use precis_document as document;

pub use error::{Error, ErrorCode, ErrorInfo, Result};
