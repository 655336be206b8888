//! The app's commands: each parses its arguments, calls precis-core, and streams events.
//! Errors reach the UI as `{code, message}`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use precis_core::document::{parse_bytes, Document, ReadLimits, SourceFormat};
use precis_core::lang::{Language, LANGUAGES};
use precis_core::models::{self, fetch, LoadedModels, ModelStatus, RemoteSettings};
use precis_core::pipeline::{self, Outcome, ProcessOptions};
use precis_core::progress::{CancelToken, Event, EventSink};
use precis_core::reading;
use precis_core::remote::{RemoteConfig, RemoteEngine};
use precis_core::revise;
use precis_core::translate::{read_glossary_file, write_glossary, KnownTerms, UserTerm};
use precis_core::{ErrorCode, ErrorInfo};
use precis_export::{export_to_file, ExportFormat, ExportOptions};
use precis_store::glossary::{ImportSummary, StoredTerm};
use precis_store::history::{database_path, History, HistoryEntry, HistoryItem, NewEntry};
use precis_store::remote::{self, RemoteSetup};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

/// App-wide state: the model (loaded once and kept), the history database, and the cancel
/// flags of the running job and download.
#[derive(Default)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Loaded on first use and kept; taken by a job for its whole run.
    models: Mutex<LoadedModels>,
    cancel: Mutex<CancelToken>,
    download_cancel: Mutex<CancelToken>,
    history: Mutex<Option<History>>,
    data_dir: OnceLock<PathBuf>,
}

impl AppState {
    /// Where the history database lives; set once at start-up (the app data directory, or
    /// `PRECIS_DATA_DIR` when set).
    pub fn set_data_dir(&self, dir: PathBuf) {
        let _ = self.inner.data_dir.set(dir);
    }
}

fn internal(message: impl Into<String>) -> ErrorInfo {
    ErrorInfo {
        code: ErrorCode::Internal,
        message: message.into(),
    }
}

/// The caller's view of a core error, or of a runtime one (`LlmEngine::load`) as the core's.
fn info(e: impl Into<precis_core::Error>) -> ErrorInfo {
    ErrorInfo::from(&e.into())
}

fn history_info(e: precis_store::history::HistoryError) -> ErrorInfo {
    ErrorInfo {
        code: e.code(),
        message: e.to_string(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in an earlier job must not lock the app up for good.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    fn data_dir(&self) -> Result<PathBuf, ErrorInfo> {
        self.data_dir
            .get()
            .cloned()
            .or_else(precis_store::history::data_dir)
            .ok_or_else(|| internal("the app data directory is not known"))
    }

    /// The remote engine jobs run on, when the user turned one on in Settings (with its key).
    fn remote_config(&self) -> Result<Option<RemoteConfig>, ErrorInfo> {
        let dir = self.data_dir()?;
        let setup = remote::load_setup(&dir).map_err(info)?;
        match setup.settings {
            Some(settings) if setup.enabled => {
                let key = remote::load_api_key(Some(&dir)).map_err(info)?;
                settings.config(key).map(Some).map_err(info)
            }
            _ => Ok(None),
        }
    }

    /// The history database, opened on first use.
    fn history(&self) -> Result<MutexGuard<'_, Option<History>>, ErrorInfo> {
        let mut guard = lock(&self.history);
        if guard.is_none() {
            let dir = self.data_dir()?;
            *guard = Some(History::open(&database_path(&dir)).map_err(history_info)?);
        }
        Ok(guard)
    }

    fn with_history<T>(
        &self,
        f: impl FnOnce(&History) -> Result<T, precis_store::history::HistoryError>,
    ) -> Result<T, ErrorInfo> {
        let guard = self.history()?;
        f(guard.as_ref().expect("opened above")).map_err(history_info)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ErrorInfo> + Send + 'static,
) -> Result<T, ErrorInfo> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| internal(format!("worker failed: {e}")))?
}

/// What to process: a file, text pasted from the clipboard, or an article already read and
/// changed by the reader (left-out lines put back).
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Input {
    File {
        path: String,
    },
    Text {
        text: String,
    },
    Document {
        document: Box<Document>,
        /// The file it was read from, for the history; `None` for pasted text.
        #[serde(default)]
        source_path: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ProcessResult {
    /// The history row the result was stored in; `None` if storing it failed (a warning
    /// event says why; the result itself is still returned).
    #[ts(type = "number | null")]
    pub history_id: Option<i64>,
    pub outcome: Outcome,
}

const PASTED_NAME: &str = "Pasted text";

/// The article `input` holds; a file that is a scan or a picture is read through OCR, its pages
/// reported on `sink`, stopped by `cancel`.
fn read_input(
    input: &Input,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Document, ErrorInfo> {
    match input {
        Input::File { path } => {
            reading::read_article(Path::new(path), &ReadLimits::default(), sink, cancel)
                .map_err(info)
        }
        Input::Text { text } => {
            parse_bytes(text.as_bytes(), PASTED_NAME, Some(SourceFormat::Text)).map_err(info)
        }
        Input::Document { document, .. } => Ok((**document).clone()),
    }
}

// File and cache reads run off the main thread (async commands), so the window never freezes.
/// Reads an article file; a scan or a picture goes through OCR, its pages reported on
/// `on_event` and stopped by `cancel`.
#[tauri::command]
pub async fn read_article(
    state: State<'_, AppState>,
    path: String,
    on_event: Channel<Event>,
) -> Result<Document, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let cancel = CancelToken::new();
        *lock(&inner.cancel) = cancel.clone();
        let mut sink = |e: Event| {
            let _ = on_event.send(e);
        };
        read_input(&Input::File { path }, &mut sink, &cancel)
    })
    .await
}

#[tauri::command]
pub async fn read_pasted(text: String) -> Result<Document, ErrorInfo> {
    blocking(move || read_input(&Input::Text { text }, &mut |_| {}, &CancelToken::new())).await
}

/// The articles a dropped or opened path stands for: a folder's articles (recursively, as
/// `precis batch` walks it, with what could not be listed), or the path itself when it is not a
/// folder (so a file of an unknown kind still gets its reader's clear error).
#[derive(Debug, Clone, Serialize, TS)]
pub struct FolderArticles {
    pub articles: Vec<String>,
    /// Entries that could not be listed, each "path: reason".
    pub problems: Vec<String>,
}

#[tauri::command]
pub async fn articles_in_folder(path: String) -> Result<FolderArticles, ErrorInfo> {
    blocking(move || {
        if !Path::new(&path).is_dir() {
            return Ok(FolderArticles {
                articles: vec![path],
                problems: Vec::new(),
            });
        }
        let listing =
            precis_core::document::folder::articles_in(Path::new(&path)).map_err(|e| {
                ErrorInfo {
                    code: ErrorCode::ReadFailed,
                    message: format!("cannot read the folder {path}: {e}"),
                }
            })?;
        if listing.articles.is_empty() && listing.problems.is_empty() {
            return Err(ErrorInfo {
                code: ErrorCode::ReadFailed,
                message: format!(
                    "the folder {path} holds no articles (.txt, .html, .pdf, .docx, …)"
                ),
            });
        }
        Ok(FolderArticles {
            articles: (listing.articles.iter())
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            problems: (listing.problems.iter())
                .map(|(p, why)| format!("{}: {why}", p.display()))
                .collect(),
        })
    })
    .await
}

/// Puts a left-out line of a text page back into the article (see
/// `Document::restore_left_out`); the window then runs the article again.
#[tauri::command]
pub fn restore_left_out(mut document: Document, index: usize) -> Result<Document, ErrorInfo> {
    if document.restore_left_out(index) {
        Ok(document)
    } else {
        Err(ErrorInfo {
            code: ErrorCode::NothingToRestore,
            message: format!("there is no left-out line {index} to restore"),
        })
    }
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
/// `on_event`, and stores the result in the history. Runs on a blocking worker; the model is
/// loaded on first use and kept.
#[tauri::command]
pub async fn process_article(
    state: State<'_, AppState>,
    input: Input,
    options: ProcessOptions,
    on_event: Channel<Event>,
) -> Result<ProcessResult, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || process(&inner, input, options, on_event)).await
}

fn process(
    inner: &Inner,
    input: Input,
    options: ProcessOptions,
    on_event: Channel<Event>,
) -> Result<ProcessResult, ErrorInfo> {
    let started = Instant::now();
    let mut sink = |e: Event| {
        // A closed window is not an error for the engine; the job simply finishes.
        let _ = on_event.send(e);
    };
    // The window reads files itself (`read_article`, where Cancel reaches OCR) and sends the
    // document; a file given here is read without a cancel of its own.
    let doc = read_input(&input, &mut sink, &CancelToken::new())?;
    let remote = inner.remote_config()?;
    let choice = options.model_choice(remote.as_ref());
    let mut req = options.request_for(&choice).map_err(info)?;
    req.glossary = known_terms(inner, &req.target, &mut sink);
    let outcome = {
        // One job at a time: the model is taken for the whole job, and only then is this job's
        // cancel flag published, so Cancel always reaches the job that is running.
        let mut models = lock(&inner.models);
        let cancel = CancelToken::new();
        *lock(&inner.cancel) = cancel.clone();
        let job = models
            .prepare(&req, &doc, choice, &mut sink)
            .map_err(info)?;
        pipeline::run_with(doc, &req, job, &mut sink, &cancel).map_err(info)?
    };
    let source_path = match &input {
        Input::File { path }
        | Input::Document {
            source_path: Some(path),
            ..
        } => Some(PathBuf::from(path)),
        Input::Text { .. } | Input::Document { .. } => None,
    };
    let stored = inner.with_history(|h| {
        h.insert(&NewEntry {
            outcome: &outcome,
            source_path: source_path.as_deref(),
            options: &options,
            total_secs: started.elapsed().as_secs_f64(),
        })
    });
    let history_id = match stored {
        Ok(id) => Some(id),
        Err(e) => {
            sink(Event::warning(format!(
                "the result was not saved to the history: {}",
                e.message
            )));
            None
        }
    };
    Ok(ProcessResult {
        history_id,
        outcome,
    })
}

/// Puts the reader's own text in place of a paragraph's translation in a stored result.
#[tauri::command]
pub async fn edit_paragraph(
    state: State<'_, AppState>,
    history_id: i64,
    paragraph_id: String,
    text: String,
) -> Result<ProcessResult, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let mut outcome = inner.with_history(|h| h.get(history_id))?.outcome;
        revise::edit_paragraph(&mut outcome, &paragraph_id, &text).map_err(info)?;
        inner.with_history(|h| h.update_outcome(history_id, &outcome))?;
        Ok(ProcessResult {
            history_id: Some(history_id),
            outcome,
        })
    })
    .await
}

/// Translates paragraphs of a stored result again, sentence by sentence, with the models
/// `options` name (the article's target language is kept); `paragraph_ids` null: every
/// doubtful paragraph ([`revise::doubtful_paragraphs`]). Streams progress like a job and stores
/// the result.
#[tauri::command]
pub async fn retranslate_paragraphs(
    state: State<'_, AppState>,
    history_id: i64,
    paragraph_ids: Option<Vec<String>>,
    options: ProcessOptions,
    on_event: Channel<Event>,
) -> Result<ProcessResult, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let entry = inner.with_history(|h| h.get(history_id))?;
        let mut outcome = entry.outcome;
        let ids = match paragraph_ids {
            Some(ids) => ids,
            None => outcome
                .translation
                .as_ref()
                .map(revise::doubtful_paragraphs)
                .unwrap_or_default(),
        };
        let remote = inner.remote_config()?;
        let mut req = ProcessOptions {
            target: entry.options.target,
            translate: true,
            ..options.clone()
        }
        .request_for(&options.model_choice(remote.as_ref()))
        .map_err(info)?;
        // Only the translation is redone: no summary model is loaded for it.
        req.summary = None;
        let mut sink = |e: Event| {
            let _ = on_event.send(e);
        };
        req.glossary = known_terms(&inner, &req.target, &mut sink);
        {
            let mut models = lock(&inner.models);
            let cancel = CancelToken::new();
            *lock(&inner.cancel) = cancel.clone();
            let job = models
                .prepare(
                    &req,
                    &outcome.document,
                    options.model_choice(remote.as_ref()),
                    &mut sink,
                )
                .map_err(info)?;
            revise::retranslate_paragraphs(&mut outcome, &ids, &req, job, &mut sink, &cancel)
                .map_err(info)?;
        }
        inner.with_history(|h| h.update_outcome(history_id, &outcome))?;
        Ok(ProcessResult {
            history_id: Some(history_id),
            outcome,
        })
    })
    .await
}

/// The reader's glossary and the remembered names for a job into `target`; a database that
/// cannot be read costs only those (with a warning), not the job.
fn known_terms(inner: &Inner, target: &Language, sink: &mut dyn FnMut(Event)) -> KnownTerms {
    inner
        .with_history(|h| h.known_terms(target.code))
        .unwrap_or_else(|e| {
            sink(Event::warning(format!(
                "your glossary is not used for this article: {}",
                e.message
            )));
            KnownTerms::default()
        })
}

/// The remote engine's set-up as the window shows it (the key itself never leaves the backend).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStatus {
    pub setup: RemoteSetup,
    /// A key is stored (Settings).
    pub key_stored: bool,
    /// It is in the OS keyring (else in a file only the user can read).
    pub key_in_keyring: bool,
    /// A key comes from `PRECIS_REMOTE_API_KEY` (it wins over the stored one).
    pub key_from_environment: bool,
}

fn remote_status(dir: &Path) -> Result<RemoteStatus, ErrorInfo> {
    Ok(RemoteStatus {
        setup: remote::load_setup(dir).map_err(info)?,
        key_stored: remote::has_stored_api_key(dir),
        key_in_keyring: remote::stored_api_key(dir) == Some(remote::KeyPlace::Keyring),
        key_from_environment: remote::api_key_from_environment().is_some(),
    })
}

#[tauri::command]
pub fn remote_status_get(state: State<'_, AppState>) -> Result<RemoteStatus, ErrorInfo> {
    remote_status(&state.inner.data_dir()?)
}

/// Saves the remote engine's set-up; turning it on checks the settings first.
#[tauri::command]
pub fn remote_setup_save(
    state: State<'_, AppState>,
    setup: RemoteSetup,
) -> Result<RemoteStatus, ErrorInfo> {
    let dir = state.inner.data_dir()?;
    if setup.enabled {
        let settings = setup.settings.as_ref().ok_or_else(|| {
            info(precis_core::Error::EngineUnavailable {
                engine: "remote".into(),
                reason: "enter the server's address and model name first".into(),
            })
        })?;
        settings.config(None).map_err(info)?;
    }
    remote::save_setup(&dir, &setup).map_err(info)?;
    remote_status(&dir)
}

/// Stores the remote engine's API key (an empty one removes it): in the OS keyring where one
/// answers, else in its own file readable by the user alone; never sent back to the window.
/// Off the window's thread: the keyring may ask the user to unlock it first.
#[tauri::command]
pub async fn remote_key_save(
    state: State<'_, AppState>,
    key: String,
) -> Result<RemoteStatus, ErrorInfo> {
    let dir = state.inner.data_dir()?;
    blocking(move || {
        remote::save_api_key(&dir, &key).map_err(info)?;
        remote_status(&dir)
    })
    .await
}

/// What a connection test found: the server answered with this model.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RemoteProbe {
    pub model: String,
    pub seconds: f64,
}

/// Asks the server for a one-token answer with `settings` and the stored key: the error a job
/// would meet, found now (wrong address, refused connection, key, model name).
#[tauri::command]
pub async fn remote_test(
    state: State<'_, AppState>,
    settings: RemoteSettings,
) -> Result<RemoteProbe, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let key = remote::load_api_key(Some(&inner.data_dir()?)).map_err(info)?;
        let mut engine = RemoteEngine::new(settings.config(key).map_err(info)?).map_err(info)?;
        let started = Instant::now();
        let cancel = CancelToken::new();
        *lock(&inner.download_cancel) = cancel.clone();
        engine.probe(&cancel).map_err(info)?;
        Ok(RemoteProbe {
            model: settings.model.trim().to_string(),
            seconds: started.elapsed().as_secs_f64(),
        })
    })
    .await
}

/// Asks the running job (and any download) to stop; it ends within about a second with a
/// `cancelled` error.
#[tauri::command]
pub fn cancel(state: State<'_, AppState>) -> Result<(), ErrorInfo> {
    lock(&state.inner.cancel).cancel();
    lock(&state.inner.download_cancel).cancel();
    Ok(())
}

#[tauri::command]
pub async fn history_list(
    state: State<'_, AppState>,
    query: Option<String>,
) -> Result<Vec<HistoryItem>, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || inner.with_history(|h| h.list(query.as_deref(), 500))).await
}

#[tauri::command]
pub async fn history_get(state: State<'_, AppState>, id: i64) -> Result<HistoryEntry, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || inner.with_history(|h| h.get(id))).await
}

#[tauri::command]
pub async fn history_delete(state: State<'_, AppState>, id: i64) -> Result<(), ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || inner.with_history(|h| h.delete(id))).await
}

/// Exports a stored result to `path` (chosen by the user in a save dialog), atomically.
#[tauri::command]
pub async fn export_result(
    state: State<'_, AppState>,
    id: i64,
    format: ExportFormat,
    path: String,
    include_translation: bool,
) -> Result<String, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let entry = inner.with_history(|h| h.get(id))?;
        let opts = ExportOptions {
            include_translation,
            processed_at: Some(entry.created_at),
        };
        export_to_file(&entry.outcome, format, &opts, Path::new(&path)).map_err(info)?;
        Ok(path)
    })
    .await
}

/// A target language's code as the glossary keys it (`zh` → `zh-Hans`).
fn glossary_language(language: &str) -> Result<&'static str, ErrorInfo> {
    Ok(Language::parse(language).map_err(info)?.code)
}

#[tauri::command]
pub async fn glossary_list(
    state: State<'_, AppState>,
    language: String,
) -> Result<Vec<StoredTerm>, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let language = glossary_language(&language)?;
        inner.with_history(|h| h.glossary_list(language))
    })
    .await
}

/// Adds an entry (`id` null) or changes one.
#[tauri::command]
pub async fn glossary_save(
    state: State<'_, AppState>,
    id: Option<i64>,
    language: String,
    term: UserTerm,
) -> Result<StoredTerm, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let language = glossary_language(&language)?;
        inner.with_history(|h| h.glossary_save(id, language, &term))
    })
    .await
}

#[tauri::command]
pub async fn glossary_delete(state: State<'_, AppState>, id: i64) -> Result<(), ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || inner.with_history(|h| h.glossary_delete(id))).await
}

/// Adds the entries of a CSV/TSV file (chosen in an open dialog) to a language's glossary.
#[tauri::command]
pub async fn glossary_import(
    state: State<'_, AppState>,
    language: String,
    path: String,
) -> Result<ImportSummary, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let language = glossary_language(&language)?;
        let terms = read_glossary_file(Path::new(&path)).map_err(info)?;
        let mut guard = inner.history()?;
        let history = guard.as_mut().expect("opened by history()");
        history
            .glossary_import(language, &terms)
            .map_err(history_info)
    })
    .await
}

/// Writes a language's glossary as CSV to `path` (chosen in a save dialog), atomically.
#[tauri::command]
pub async fn glossary_export(
    state: State<'_, AppState>,
    language: String,
    path: String,
) -> Result<String, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let language = glossary_language(&language)?;
        let terms = inner.with_history(|h| h.glossary_terms(language))?;
        precis_export::write_atomic(Path::new(&path), write_glossary(&terms).as_bytes())
            .map_err(info)?;
        Ok(path)
    })
    .await
}

/// Downloads a catalog model (hub first, then the mirror), streaming byte progress.
#[tauri::command]
pub async fn model_download(
    state: State<'_, AppState>,
    id: String,
    on_event: Channel<Event>,
) -> Result<ModelStatus, ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        let cancel = CancelToken::new();
        *lock(&inner.download_cancel) = cancel.clone();
        let mut sink = |e: Event| {
            let _ = on_event.send(e);
        };
        let path = fetch::fetch(&id, fetch::Source::Auto, &mut sink, &cancel).map_err(info)?;
        models::list()
            .into_iter()
            .find(|m| m.installed.as_deref() == Some(path.as_path()))
            .ok_or_else(|| internal(format!("{} was fetched but is not listed", path.display())))
    })
    .await
}

#[tauri::command]
pub async fn model_import(path: String) -> Result<ModelStatus, ErrorInfo> {
    blocking(move || models::import(Path::new(&path)).map_err(info)).await
}

#[tauri::command]
pub async fn model_remove(state: State<'_, AppState>, id: String) -> Result<(), ErrorInfo> {
    let inner = state.inner.clone();
    blocking(move || {
        // Unload it first if it is the loaded model, so its memory map is released.
        let path = models::resolve(Some(&id)).ok();
        let mut loaded = match inner.models.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(ErrorInfo {
                code: ErrorCode::Busy,
                message:
                    "a summary or translation is running; cancel it or wait, then remove the model"
                        .into(),
            }),
        };
        if let Some(path) = &path {
            loaded.unload(path);
        }
        models::remove(&id).map_err(info)
    })
    .await
}
