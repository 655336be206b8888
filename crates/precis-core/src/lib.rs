//! Précis engine: summarizes and translates an article with local models, through one pipeline
//! the window and the CLI share.
//!
//! Owns the policy: the pipeline, summaries, translation (glossary, checks, retries), Marian
//! translation models, the model catalog and downloads, the types results are made of and the
//! error codes callers see. The readers are `precis-document`'s and the LLM runtime (decoder,
//! kernels, chat templates, progress events) is `precis-llm`'s, both re-exported at their old
//! paths. Must not depend on storage (`precis-store`), exports (`precis-export`), Tauri or the
//! CLI; no network except in [`models::fetch`] when a download is requested.

pub mod atomic;
pub mod clock;
pub mod error;
pub mod lang;
pub mod models;
pub mod mt;
pub mod names;
pub mod numbers;
pub mod pipeline;
pub mod reading;
pub mod revise;
pub mod script;
pub mod summarize;
pub mod translate;

/// The article readers, from their own crate (`precis-document`), at their old path.
pub use precis_document as document;
/// The LLM runtime, from its own crate (`precis-llm`), at its old path.
pub use precis_llm as llm;
/// Progress events and cancellation, shared with the runtime (`precis-llm`), at their old path.
pub use precis_llm::progress;
/// The remote engine (an OpenAI-compatible server), from its own crate (`precis-remote`).
pub use precis_remote as remote;

pub use error::{Error, ErrorCode, ErrorInfo, Result};
