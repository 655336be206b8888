//! Précis engine: reads an article, summarizes it and translates it with local models.
//! No Tauri, no network except in [`models::fetch`] when a download is requested.

pub mod bench;
pub mod clock;
pub mod error;
pub mod export;
pub mod history;
pub mod lang;
pub mod llm;
pub mod models;
pub mod mt;
pub mod names;
pub mod numbers;
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod script;
pub mod summarize;
pub mod translate;

/// The article readers, from their own crate (`precis-document`), at their old path.
pub use precis_document as document;

pub use error::{Error, ErrorCode, ErrorInfo, Result};
