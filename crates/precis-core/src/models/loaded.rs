//! The models a job runs on, loaded when a job first needs them and kept for the next: the
//! window keeps one [`LoadedModels`] for its life, the CLI one per run. One policy for both:
//! which models a request needs, loading them with progress, and reusing what is loaded.

use std::path::Path;

use crate::document::Document;
use crate::llm::shared::{SharedClient, SharedEngine};
use crate::llm::{Generator, LlmEngine};
use crate::mt::{self, MachineTranslator, MarianEngine};
use crate::pipeline::{JobModels, Request};
use crate::progress::{Event, EventSink, Stage};
use crate::remote::{RemoteConfig, RemoteEngine};
use crate::Result;

/// The models the user chose (`None`: the defaults — the first installed assistant model, and
/// translation by that model rather than a dedicated one).
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelChoice<'a> {
    /// Catalog id, `imported:<file>` or a GGUF path.
    pub model: Option<&'a str>,
    /// A dedicated translation model: catalog id or Marian folder.
    pub translation_model: Option<&'a str>,
    /// A remote engine (an OpenAI-compatible server) in place of the local LLM: the only way a
    /// job sends text off the machine, and only when the user set one up.
    pub remote: Option<&'a RemoteConfig>,
}

impl ModelChoice<'_> {
    /// Whether a job would have an LLM: one named, a remote engine, or one installed.
    pub fn has_llm(&self) -> bool {
        self.model.is_some() || self.remote.is_some() || super::resolve(None).is_ok()
    }
}

#[derive(Default)]
pub struct LoadedModels {
    llm: Option<LlmEngine>,
    /// The remote engine, kept for its connections and statistics while its settings stay.
    remote: Option<RemoteEngine>,
    /// The dedicated translation model, with the choice it was loaded for.
    translator: Option<(String, MarianEngine)>,
    /// An engine shared with jobs running at the same time ([`load_shared`]): the LLM of every
    /// job, in place of one of their own.
    shared: Option<SharedClient>,
}

/// Loads the LLM `choice` names — the remote engine, or the local model — once, onto a thread
/// of its own, whose batches take up to `max_parallel` conversations of every job using it
/// (`precis batch --jobs`); [`LoadedModels::sharing`] gives each job its handle.
pub fn load_shared(
    choice: ModelChoice,
    max_parallel: usize,
    sink: &mut dyn EventSink,
) -> Result<SharedEngine> {
    let (engine, counter): (Box<dyn Generator + Send>, _) = match choice.remote {
        Some(config) => {
            let engine = announce_loading(&remote_name(config), sink, || {
                RemoteEngine::new(config.clone()).map_err(crate::Error::from)
            })?;
            let counter: crate::llm::shared::TokenCounter =
                std::sync::Arc::new(crate::remote::estimate_tokens);
            (Box::new(engine), counter)
        }
        None => {
            let path = super::resolve(choice.model)?;
            let engine = announce_loading(&file_name(&path), sink, || {
                LlmEngine::load(&path).map_err(crate::Error::from)
            })?;
            let counter = engine.token_counter();
            (Box::new(engine), counter)
        }
    };
    Ok(SharedEngine::spawn(engine, counter, max_parallel)?)
}

impl LoadedModels {
    pub fn new() -> Self {
        Self::default()
    }

    /// Models whose LLM is `client`'s shared engine; a dedicated translation model is still
    /// this job's own.
    pub fn sharing(client: SharedClient) -> Self {
        Self {
            shared: Some(client),
            ..Self::default()
        }
    }

    /// The models `req` needs for `doc`, loading any that is not loaded yet. Each load is
    /// announced (a `Stage` event naming the file, then `Progress` 0/1 and 1/1: loading repacks
    /// the weights for this CPU, a second or more). A model loaded for another choice is
    /// dropped before the new one loads, so two never have to fit in memory at once.
    pub fn prepare(
        &mut self,
        req: &Request,
        doc: &Document,
        choice: ModelChoice,
        sink: &mut dyn EventSink,
    ) -> Result<JobModels<'_>> {
        let translator_spec = choice.translation_model.filter(|_| req.translates(doc));
        if let Some(spec) = translator_spec {
            if self.translator.as_ref().map(|(s, _)| s.as_str()) != Some(spec) {
                self.translator = None;
                let engine = announce_loading(spec, sink, || mt::load(spec))?;
                self.translator = Some((spec.to_string(), engine));
            }
        }
        let needs_llm = req.needs_llm(doc, translator_spec.is_some());
        if self.shared.is_some() {
            // Loaded once for every job, by `load_shared`.
        } else if let (true, Some(config)) = (needs_llm, choice.remote) {
            // The server stands in for the local model, whose memory is given back.
            self.llm = None;
            if self.remote.as_ref().map(RemoteEngine::config) != Some(config) {
                self.remote = None;
                let engine = announce_loading(&remote_name(config), sink, || {
                    RemoteEngine::new(config.clone()).map_err(crate::Error::from)
                })?;
                self.remote = Some(engine);
            }
        } else if needs_llm {
            self.remote = None;
            let wanted = super::resolve(choice.model)?;
            if self.llm.as_ref().map(|m| &m.info().path) != Some(&wanted) {
                self.llm = None;
                let name = file_name(&wanted);
                let engine = announce_loading(&name, sink, || {
                    LlmEngine::load(&wanted).map_err(crate::Error::from)
                })?;
                self.llm = Some(engine);
            }
        }
        let llm = match (choice.remote, &mut self.remote, &mut self.llm) {
            _ if !needs_llm => None,
            _ if self.shared.is_some() => self.shared.as_mut().map(|s| s as &mut dyn Generator),
            (Some(_), Some(remote), _) if needs_llm => Some(remote as &mut dyn Generator),
            (None, _, Some(llm)) if needs_llm => Some(llm as &mut dyn Generator),
            _ => None,
        };
        Ok(JobModels {
            llm,
            translation: match &mut self.translator {
                Some((_, t)) if translator_spec.is_some() => Some(t as &mut dyn MachineTranslator),
                _ => None,
            },
        })
    }

    /// Drops the LLM if it was loaded from `path` (before its file is removed, so its memory
    /// map is released).
    pub fn unload(&mut self, path: &Path) {
        if self.llm.as_ref().map(|m| m.info().path.as_path()) == Some(path) {
            self.llm = None;
        }
    }
}

fn remote_name(config: &RemoteConfig) -> String {
    format!(
        "{} at {} (remote)",
        config.model.trim(),
        config.endpoint.trim()
    )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

fn announce_loading<T>(
    name: &str,
    sink: &mut dyn EventSink,
    load: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let progress = |done| Event::Progress {
        stage: Stage::LoadingModel,
        done,
        total: 1,
        tokens: 0,
    };
    sink.emit(Event::Stage {
        stage: Stage::LoadingModel,
        detail: name.to_string(),
    });
    sink.emit(progress(0));
    let loaded = load()?;
    sink.emit(progress(1));
    Ok(loaded)
}
