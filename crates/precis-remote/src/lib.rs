//! The remote engine: a server that speaks OpenAI's `/v1/chat/completions` (llama.cpp's server,
//! Ollama, vLLM, LM Studio, a hosted API) behind the same generation seam as the local decoder
//! ([`precis_llm::Generator`]), so summaries and translations run through the same prompts,
//! checks, retries and glossary either way.
//!
//! Answers are streamed (server-sent events, [`sse`]); failed requests are retried by one
//! policy ([`retry`]); each failure becomes an [`Error::Remote`] that says what to fix. Every
//! request runs on its own thread, so a cancel returns at once and the stream is closed at its
//! next piece; [`RemoteEngine::run_jobs`] keeps at most [`RemoteConfig::max_concurrent`]
//! requests in flight. Nothing is sent anywhere unless a caller builds a [`RemoteEngine`].

mod request;
pub mod retry;
pub mod sse;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use precis_llm::chat::Message;
use precis_llm::progress::CancelToken;
use precis_llm::{
    Error, Generation, GenerationParams, GenerationStats, Generator, JobSource, ModelInfo,
    RemoteFailure, Result,
};
use serde_json::json;

pub use retry::RetryPolicy;

/// Where the remote engine is and how to use it.
#[derive(Clone, PartialEq)]
pub struct RemoteConfig {
    /// The API's base address, e.g. `http://127.0.0.1:8080/v1`; an address ending in
    /// `/chat/completions` is used as it is.
    pub endpoint: String,
    /// The model name the server knows (`qwen2.5:1.5b` for Ollama, the served name for vLLM).
    pub model: String,
    /// Sent as `Authorization: Bearer …`; never logged or shown.
    pub api_key: Option<String>,
    /// Requests in flight at once (a server with several slots, or vLLM, answers them together).
    pub max_concurrent: usize,
    /// The longest wait for the server's next bytes (connecting, the first token, each piece).
    pub timeout: Duration,
    /// The model's context in tokens, for sizing pieces (the server holds the real limit).
    pub context_length: usize,
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set)"))
            .field("max_concurrent", &self.max_concurrent)
            .field("timeout", &self.timeout)
            .field("context_length", &self.context_length)
            .finish()
    }
}

/// Most requests a configuration may keep in flight.
pub const MAX_CONCURRENT: usize = 64;

impl RemoteConfig {
    /// A configuration with the defaults: one request at a time, 120 s timeout, 4096-token
    /// context, no key.
    pub fn new(endpoint: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            model: model.into(),
            api_key: None,
            max_concurrent: 1,
            timeout: Duration::from_secs(120),
            context_length: 4096,
            retry: RetryPolicy::default(),
        }
    }

    /// The chat completions address.
    pub fn chat_url(&self) -> String {
        let base = self.endpoint.trim().trim_end_matches('/');
        if base.ends_with("/chat/completions") {
            base.to_string()
        } else {
            format!("{base}/chat/completions")
        }
    }

    /// Refuses a configuration that cannot work, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Error::Remote {
            failure: RemoteFailure::Unreachable,
            message,
        };
        let endpoint = self.endpoint.trim();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
            || endpoint.len() <= "https://".len()
        {
            return Err(invalid(format!(
                "`{endpoint}` is not a remote engine address; it looks like http://127.0.0.1:8080/v1"
            )));
        }
        if self.model.trim().is_empty() {
            return Err(Error::Remote {
                failure: RemoteFailure::ModelNotFound,
                message: "no model name for the remote engine; give the name the server lists (Ollama: `ollama list`; others: GET /v1/models)".into(),
            });
        }
        if !(1..=MAX_CONCURRENT).contains(&self.max_concurrent) {
            return Err(invalid(format!(
                "requests at once must be between 1 and {MAX_CONCURRENT}, not {}",
                self.max_concurrent
            )));
        }
        if self.context_length < 512 {
            return Err(invalid(format!(
                "a context of {} tokens is too small for an article; most models have 4096 or more",
                self.context_length
            )));
        }
        Ok(())
    }
}

/// What every request thread needs.
pub(crate) struct Shared {
    pub(crate) config: RemoteConfig,
    pub(crate) agent: ureq::Agent,
}

/// An OpenAI-compatible server as a [`Generator`].
pub struct RemoteEngine {
    shared: Arc<Shared>,
    info: ModelInfo,
    stats: GenerationStats,
}

impl std::fmt::Debug for RemoteEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteEngine")
            .field("config", &self.shared.config)
            .finish()
    }
}

/// How often a waiting call looks at its cancel token.
const POLL: Duration = Duration::from_millis(25);

impl RemoteEngine {
    /// An engine for `config` (checked, nothing sent yet: the first request tells whether the
    /// server is there; [`RemoteEngine::probe`] asks at once).
    pub fn new(config: RemoteConfig) -> Result<Self> {
        config.validate()?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(config.timeout.min(Duration::from_secs(30)))
            .timeout_read(config.timeout)
            .timeout_write(config.timeout)
            .max_idle_connections_per_host(config.max_concurrent)
            .build();
        let info = ModelInfo {
            name: config.model.trim().to_string(),
            path: PathBuf::from(config.chat_url()),
            architecture: "remote".into(),
            size_bytes: 0,
            context_length: config.context_length,
            layers: 0,
            embedding_length: 0,
        };
        Ok(Self {
            shared: Arc::new(Shared { config, agent }),
            info,
            stats: GenerationStats::default(),
        })
    }

    pub fn config(&self) -> &RemoteConfig {
        &self.shared.config
    }

    /// Asks the server for a one-token answer: `Ok` when the address, key and model work, else
    /// the error a job would meet (for the window's "Test connection").
    pub fn probe(&mut self, cancel: &CancelToken) -> Result<Generation> {
        let params = GenerationParams {
            max_new_tokens: 1,
            ..GenerationParams::default()
        };
        self.generate(&[Message::user("Say OK.")], &params, &mut |_| {}, cancel)
    }

    fn request_body(&self, messages: &[Message], params: &GenerationParams) -> String {
        let messages: Vec<_> = messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.shared.config.model.trim(),
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": params.max_new_tokens,
            // No temperature is greedy decoding, as the local engine does.
            "temperature": params.temperature.unwrap_or(0.0),
            "seed": params.seed,
        });
        if let Some(top_p) = params.top_p {
            body["top_p"] = json!(top_p);
        }
        body.to_string()
    }

    fn prompt_estimate(messages: &[Message]) -> usize {
        // The chat template adds a few tokens per message.
        messages
            .iter()
            .map(|m| estimate_tokens(&m.content) + 4)
            .sum()
    }

    fn add_stats(&mut self, generation: &Generation) {
        let s = &mut self.stats;
        s.prompt_tokens += generation
            .prompt_tokens
            .saturating_sub(generation.reused_tokens) as u64;
        s.reused_tokens += generation.reused_tokens as u64;
        s.generated_tokens += generation.generated_tokens as u64;
        s.prefill_secs += generation.prefill_secs;
        s.decode_secs += generation.decode_secs;
    }
}

/// A request thread's news for the caller.
enum News {
    Text(String),
    Done(Result<Generation>),
}

/// The running requests' stop flags, by job id; all set when the caller stops listening (on
/// return, whatever the reason), so request threads stop at their next piece and close their
/// streams.
struct AbortOnDrop(HashMap<usize, Arc<AtomicBool>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for abort in self.0.values() {
            abort.store(true, Ordering::SeqCst);
        }
    }
}

impl Generator for RemoteEngine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn stats(&self) -> GenerationStats {
        self.stats
    }

    fn count_tokens(&self, text: &str) -> usize {
        estimate_tokens(text)
    }

    fn generate(
        &mut self,
        messages: &[Message],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str),
        cancel: &CancelToken,
    ) -> Result<Generation> {
        precis_llm::generate_as_job(self, messages, params, on_text, cancel)
    }

    fn run_jobs(
        &mut self,
        jobs: &mut dyn JobSource,
        max_parallel: usize,
        cancel: &CancelToken,
    ) -> Result<()> {
        let limit = max_parallel.clamp(1, self.shared.config.max_concurrent);
        // The requests running, each with its own stop flag; all are stopped on return.
        let mut requests = AbortOnDrop(HashMap::new());
        let (news_tx, news) = mpsc::channel::<(usize, News)>();
        loop {
            cancel.check()?;
            requests.0.retain(|&id, abort| {
                let unwanted = jobs.abandoned(id);
                if unwanted {
                    abort.store(true, Ordering::SeqCst);
                }
                !unwanted
            });
            while requests.0.len() < limit {
                let Some(job) = jobs.next_job() else { break };
                let body = self.request_body(&job.messages, &job.params);
                let estimate = Self::prompt_estimate(&job.messages);
                let abort = Arc::new(AtomicBool::new(false));
                requests.0.insert(job.id, abort.clone());
                let (shared, tx, id) = (self.shared.clone(), news_tx.clone(), job.id);
                std::thread::Builder::new()
                    .name(format!("precis-remote-{id}"))
                    .spawn(move || {
                        let mut on_text =
                            |text: &str| tx.send((id, News::Text(text.into()))).is_ok();
                        let result =
                            request::complete(&shared, &body, estimate, id, &abort, &mut on_text);
                        let (result, rest) = match result {
                            Ok((generation, rest)) => (Ok(generation), rest),
                            Err(e) => (Err(e), None),
                        };
                        let _ = tx.send((id, News::Done(result)));
                        // After the answer is delivered, so nobody waits for it.
                        if let Some(rest) = rest {
                            let _ = std::io::copy(
                                &mut std::io::Read::take(rest, 1 << 20),
                                &mut std::io::sink(),
                            );
                        }
                    })
                    .map_err(|e| Error::Inference(format!("cannot start a request thread: {e}")))?;
            }
            if requests.0.is_empty() {
                return Ok(());
            }
            // News of a request dropped as unwanted is not passed on.
            match news.recv_timeout(POLL) {
                Ok((id, News::Text(text))) if requests.0.contains_key(&id) => {
                    jobs.on_text(id, &text)
                }
                Ok((id, News::Done(result))) if requests.0.remove(&id).is_some() => match result {
                    Ok(generation) => {
                        self.add_stats(&generation);
                        jobs.done(id, generation)?;
                    }
                    Err(e) => jobs.failed(id, e)?,
                },
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Inference(
                        "the remote request threads stopped".into(),
                    ))
                }
            }
        }
    }
}

/// Tokens a text takes, estimated without the model's vocabulary (remote models' tokenizers are
/// not at hand): one per CJK character, one per 3.5 other characters — an overestimate for
/// Qwen, Llama and Gemma vocabularies, so pieces sized by it fit.
pub fn estimate_tokens(text: &str) -> usize {
    let (mut wide, mut other) = (0usize, 0usize);
    for c in text.chars() {
        if is_wide(c) {
            wide += 1;
        } else {
            other += 1;
        }
    }
    wide + (other * 2).div_ceil(7)
}

/// Chinese, Japanese and Korean characters, which BPE vocabularies spend about a token on each.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF
        | 0x20000..=0x2FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_estimate_counts_cjk_characters_and_latin_runs() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("中国人"), 3);
        assert_eq!(estimate_tokens("seven c"), 2);
        let english = "The central bank raised interest rates by a quarter point on Tuesday.";
        assert!((15..=22).contains(&estimate_tokens(english)));
    }

    #[test]
    fn the_chat_address_and_bad_configurations() {
        let config = RemoteConfig::new("http://127.0.0.1:8080/v1/", "qwen");
        assert_eq!(
            config.chat_url(),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        let full = RemoteConfig::new("https://api.example.com/v1/chat/completions", "m");
        assert_eq!(
            full.chat_url(),
            "https://api.example.com/v1/chat/completions"
        );
        for (endpoint, model, concurrent) in [
            ("127.0.0.1:8080", "qwen", 1),
            ("ftp://host/v1", "qwen", 1),
            ("http://host/v1", " ", 1),
            ("http://host/v1", "qwen", 0),
            ("http://host/v1", "qwen", 1000),
        ] {
            let mut config = RemoteConfig::new(endpoint, model);
            config.max_concurrent = concurrent;
            assert!(
                matches!(config.validate(), Err(Error::Remote { .. })),
                "{endpoint} {model} {concurrent}"
            );
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let mut config = RemoteConfig::new("http://host/v1", "m");
        config.api_key = Some("sk-secret-123".into());
        let engine = RemoteEngine::new(config).unwrap();
        assert!(!format!("{engine:?}").contains("sk-secret"));
    }
}
