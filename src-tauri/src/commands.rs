//! The app's commands: each parses its arguments, calls precis-core, and streams events.
//! Errors reach the UI as `{code, message}`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use precis_core::document::{read_file, Document, ReadLimits};
use precis_core::lang::{Language, LANGUAGES};
use precis_core::llm::LlmEngine;
use precis_core::models::{self, ModelStatus};
use precis_core::pipeline::{self, Outcome, Request};
use precis_core::progress::{CancelToken, Event};
use precis_core::summarize::{EngineKind, Length, Style, SummaryOptions};
use precis_core::ErrorInfo;
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;

/// App-wide state: the model, loaded once and kept, and the running job's cancel flag.
#[derive(Default)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    model: Mutex<Option<LlmEngine>>,
    cancel: Mutex<CancelToken>,
}

fn internal(message: impl Into<String>) -> ErrorInfo {
    ErrorInfo {
        code: "internal".into(),
        message: message.into(),
    }
}

fn info(e: precis_core::Error) -> ErrorInfo {
    ErrorInfo::from(&e)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessOptions {
    pub target: String,
    #[serde(default)]
    pub length: Length,
    #[serde(default)]
    pub style: Style,
    /// `None`: the LLM when a model is installed, else extractive.
    pub engine: Option<EngineKind>,
    #[serde(default)]
    pub translate: bool,
    #[serde(default)]
    pub summary_in_target: bool,
    /// Catalog id or path; `None` picks the first installed model.
    pub model: Option<String>,
}

// File and cache reads run off the main thread (async commands), so the window never freezes.
#[tauri::command]
pub async fn read_article(path: String) -> Result<Document, ErrorInfo> {
    read_file(Path::new(&path), &ReadLimits::default()).map_err(|e| info(e.into()))
}

#[tauri::command]
pub async fn list_models() -> Vec<ModelStatus> {
    models::list()
}

#[tauri::command]
pub fn languages() -> Vec<Language> {
    LANGUAGES.to_vec()
}

/// Reads, summarizes and (optionally) translates an article, streaming progress and text on
/// `on_event`. Runs on a blocking worker; the model is loaded on first use and kept.
#[tauri::command]
pub async fn process_article(
    state: State<'_, AppState>,
    path: String,
    options: ProcessOptions,
    on_event: Channel<Event>,
) -> Result<Outcome, ErrorInfo> {
    let inner = state.inner.clone();
    tauri::async_runtime::spawn_blocking(move || {
        process(&inner, PathBuf::from(path), options, on_event)
    })
    .await
    .map_err(|e| internal(format!("worker failed: {e}")))?
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic in an earlier job must not lock the app up for good.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn process(
    inner: &Inner,
    path: PathBuf,
    options: ProcessOptions,
    on_event: Channel<Event>,
) -> Result<Outcome, ErrorInfo> {
    let doc = read_file(&path, &ReadLimits::default()).map_err(|e| info(e.into()))?;
    let target = Language::parse(&options.target).map_err(info)?;
    let model_path = models::resolve(options.model.as_deref());
    let engine = options.engine.unwrap_or(if model_path.is_ok() {
        EngineKind::Llm
    } else {
        EngineKind::Extractive
    });
    let req = Request {
        summary: Some(SummaryOptions {
            length: options.length,
            style: options.style,
            engine,
        }),
        summary_in_target: options.summary_in_target,
        translate: options.translate,
        target,
    };
    let mut sink = |e: Event| {
        // A closed window is not an error for the engine; the job simply finishes.
        let _ = on_event.send(e);
    };
    // One job at a time: the model is taken for the whole job, and only then is this job's
    // cancel flag published, so Cancel always reaches the job that is running.
    let mut guard = lock(&inner.model);
    let cancel = CancelToken::new();
    *lock(&inner.cancel) = cancel.clone();
    if req.needs_model(&doc) {
        let wanted = model_path.map_err(info)?;
        if guard.as_ref().map(|m| &m.info().path) != Some(&wanted) {
            *guard = None;
            *guard = Some(LlmEngine::load(&wanted).map_err(info)?);
        }
    }
    pipeline::run(doc, &req, guard.as_mut(), &mut sink, &cancel).map_err(info)
}

/// Asks the running job to stop; it ends within about a second with a `cancelled` error.
#[tauri::command]
pub fn cancel(state: State<'_, AppState>) -> Result<(), ErrorInfo> {
    lock(&state.inner.cancel).cancel();
    Ok(())
}
