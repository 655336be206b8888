//! Progress events and cancellation shared by every long operation (the runtime's and the
//! application's alike: `precis_core::progress` is this module).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

/// What the engine is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Reading,
    LoadingModel,
    Summarizing,
    Glossary,
    Translating,
    TranslatingSummary,
    Downloading,
    Verifying,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Reading => "reading",
            Stage::LoadingModel => "loading model",
            Stage::Summarizing => "summarizing",
            Stage::Glossary => "building glossary",
            Stage::Translating => "translating",
            Stage::TranslatingSummary => "translating summary",
            Stage::Downloading => "downloading",
            Stage::Verifying => "verifying",
        }
    }
}

/// One progress report. `Token` carries streamed text as it is generated.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
#[ts(rename = "ProgressEvent")]
pub enum Event {
    /// `stage` begins on `detail` (a model file, an article): what a progress line names.
    Stage { stage: Stage, detail: String },
    /// `done` of `total` units (paragraphs, bytes, parts) finished in `stage`.
    Progress {
        stage: Stage,
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
        /// Tokens generated so far in this stage (0 where not applicable).
        #[ts(type = "number")]
        tokens: u64,
    },
    /// Newly generated text; `paragraph_id` names the source paragraph being translated.
    Token {
        stage: Stage,
        paragraph_id: Option<String>,
        text: String,
    },
    /// A paragraph's translation is complete.
    ParagraphDone { paragraph_id: String, text: String },
    /// A non-fatal problem worth showing (e.g. an amount the model may have changed), about
    /// one paragraph (or `summary`) when `paragraph_id` says which.
    Warning {
        paragraph_id: Option<String>,
        message: String,
    },
}

impl Event {
    /// A warning about the job as a whole.
    pub fn warning(message: impl Into<String>) -> Event {
        Event::Warning {
            paragraph_id: None,
            message: message.into(),
        }
    }
}

/// Receives events; implemented for any `FnMut(Event)`.
pub trait EventSink {
    fn emit(&mut self, event: Event);
}

impl<F: FnMut(Event)> EventSink for F {
    fn emit(&mut self, event: Event) {
        self(event)
    }
}

/// A shared flag that asks running work to stop. Checked between tokens and prefill chunks,
/// so work stops well within a second.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst)
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// `Err(Cancelled)` once cancelled; use with `?` at safe points.
    pub fn check(&self) -> crate::Result<()> {
        if self.is_cancelled() {
            Err(crate::Error::Cancelled)
        } else {
            Ok(())
        }
    }
}
