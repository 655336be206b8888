//! One chat completion against the server: the request, the retries, the streamed answer, and
//! what each failure means for the user.

use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use precis_llm::{Error, FinishReason, Generation, LogProb, RemoteFailure, Result};
use serde_json::Value;

use crate::retry::parse_retry_after;
use crate::sse::{Event, EventReader};
use crate::Shared;

/// A failed try: what it means, and whether another try may succeed.
struct Failure {
    failure: RemoteFailure,
    message: String,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn new(failure: RemoteFailure, message: String) -> Self {
        Self {
            failure,
            message,
            retryable: false,
            retry_after: None,
        }
    }
    fn retryable(mut self, retry_after: Option<Duration>) -> Self {
        self.retryable = true;
        self.retry_after = retry_after;
        self
    }
    fn into_error(self, tries: u32) -> Error {
        let message = if tries > 1 {
            format!("{} (after {tries} tries)", self.message)
        } else {
            self.message
        };
        Error::Remote {
            failure: self.failure,
            message,
        }
    }
}

/// What follows an answer's `[DONE]` on its connection (the body's end): read to its end, the
/// connection goes back to the pool for the next request instead of being closed.
pub(crate) type Rest = Box<dyn Read + Send>;

/// Runs one completion of `body` (the request's JSON), passing each piece of text to `on_text`
/// (which answers `false` when nobody listens any more). Stops with `Cancelled` once `abort` is
/// set: between tries, and at the next piece of a stream.
pub(crate) fn complete(
    shared: &Shared,
    body: &str,
    prompt_estimate: usize,
    spread: usize,
    abort: &AtomicBool,
    on_text: &mut dyn FnMut(&str) -> bool,
) -> Result<(Generation, Option<Rest>)> {
    let policy = shared.config.retry;
    let mut tries = 0;
    loop {
        tries += 1;
        if abort.load(Ordering::SeqCst) {
            return Err(Error::Cancelled);
        }
        let started = Instant::now();
        let failure = match send(shared, body) {
            Ok(response) => {
                match read_answer(shared, response, started, prompt_estimate, abort, on_text) {
                    Ok(generation) => return Ok(generation),
                    Err(Answer::Failed(failure)) => failure,
                    Err(Answer::Stopped(error)) => return Err(error),
                }
            }
            Err(failure) => failure,
        };
        if !failure.retryable || tries >= policy.attempts {
            return Err(failure.into_error(tries));
        }
        let wait = policy.delay(tries + 1, failure.retry_after, spread);
        let until = Instant::now() + wait;
        while Instant::now() < until {
            if abort.load(Ordering::SeqCst) {
                return Err(Error::Cancelled);
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
        }
    }
}

fn send(shared: &Shared, body: &str) -> std::result::Result<ureq::Response, Failure> {
    let url = shared.config.chat_url();
    let mut request = shared
        .agent
        .post(&url)
        .set("Content-Type", "application/json")
        .set("Accept", "text/event-stream");
    if let Some(key) = shared.config.api_key.as_deref().filter(|k| !k.is_empty()) {
        request = request.set("Authorization", &format!("Bearer {key}"));
    }
    match request.send_string(body) {
        Ok(response) => Ok(response),
        Err(ureq::Error::Status(status, response)) => {
            let retry_after = response.header("retry-after").and_then(parse_retry_after);
            let text = response_text(response);
            Err(status_failure(shared, &url, status, &text, retry_after))
        }
        Err(ureq::Error::Transport(transport)) => Err(transport_failure(&url, &transport)),
    }
}

/// At most 64 KiB of an error response, which is all a message needs.
fn response_text(response: ureq::Response) -> String {
    let mut bytes = Vec::new();
    let _ = response
        .into_reader()
        .take(64 * 1024)
        .read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The server's own words for a failure: `error.message` (OpenAI, vLLM, llama.cpp), `error`
/// as a string (Ollama), `detail` (FastAPI servers), else the start of the body.
fn server_message(body: &str) -> String {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let from_json = json.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error"))
            .or_else(|| v.get("detail"))
            .or_else(|| v.get("message"))
            .map(|m| match m {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    });
    let message = from_json.unwrap_or_else(|| body.trim().to_string());
    let message: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if message.chars().count() > 300 {
        format!("{}…", message.chars().take(300).collect::<String>())
    } else {
        message
    }
}

fn says_context_too_long(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("context length")
        || m.contains("context window")
        || m.contains("context size")
        || m.contains("maximum context")
        || m.contains("too many tokens")
        || (m.contains("exceed") && m.contains("token"))
}

fn says_model_missing(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("model")
        && (m.contains("not found") || m.contains("does not exist") || m.contains("no such"))
}

fn status_failure(
    shared: &Shared,
    url: &str,
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
) -> Failure {
    let said = server_message(body);
    let said_part = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    let model = &shared.config.model;
    match status {
        401 | 403 => Failure::new(
            RemoteFailure::Unauthorized,
            format!(
                "the remote engine at {url} refused the API key (HTTP {status}{said_part}); check the key in Settings or PRECIS_REMOTE_API_KEY"
            ),
        ),
        _ if says_model_missing(&said) => Failure::new(
            RemoteFailure::ModelNotFound,
            format!(
                "the remote engine has no model `{model}` (HTTP {status}{said_part}); use a name the server lists (Ollama: `ollama list`; others: GET /v1/models)"
            ),
        ),
        _ if says_context_too_long(&said) => Failure::new(
            RemoteFailure::ContextTooLong,
            format!(
                "the text does not fit the remote model's context (HTTP {status}{said_part}); set the context length in Settings (or --remote-context) to what the server allows"
            ),
        ),
        404 | 405 => Failure::new(
            RemoteFailure::Unreachable,
            format!(
                "no OpenAI-compatible API at {url} (HTTP {status}); the address usually ends in /v1, e.g. http://127.0.0.1:8080/v1 (llama.cpp), http://127.0.0.1:11434/v1 (Ollama)"
            ),
        ),
        408 | 429 | 500 | 502 | 503 | 504 => Failure::new(
            RemoteFailure::Server,
            if status == 429 {
                format!("the remote engine is busy and refused the request (HTTP 429{said_part})")
            } else {
                format!("the remote engine failed (HTTP {status}{said_part})")
            },
        )
        .retryable(retry_after),
        _ => Failure::new(
            RemoteFailure::Server,
            format!("the remote engine refused the request (HTTP {status}{said_part})"),
        ),
    }
}

fn transport_failure(url: &str, transport: &ureq::Transport) -> Failure {
    use ureq::ErrorKind;
    let detail = transport
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| transport.to_string());
    match transport.kind() {
        ErrorKind::InvalidUrl | ErrorKind::UnknownScheme => Failure::new(
            RemoteFailure::Unreachable,
            format!("{url} is not a usable address ({detail}); it looks like http://host:port/v1"),
        ),
        ErrorKind::Dns => Failure::new(
            RemoteFailure::Unreachable,
            format!("cannot reach the remote engine at {url}: the host name was not found"),
        ),
        ErrorKind::ConnectionFailed => Failure::new(
            RemoteFailure::Unreachable,
            format!(
                "cannot reach the remote engine at {url}: the connection was refused (is the server running, and is the address right?)"
            ),
        )
        .retryable(None),
        _ => Failure::new(
            RemoteFailure::Unreachable,
            format!("cannot reach the remote engine at {url}: {transport}"),
        )
        .retryable(None),
    }
}

/// Why an answer did not complete: a failure (retried while no text came yet) or a stop that
/// ends everything (cancelled, or a failure after text was shown).
enum Answer {
    Failed(Failure),
    Stopped(Error),
}

fn read_answer(
    shared: &Shared,
    response: ureq::Response,
    started: Instant,
    prompt_estimate: usize,
    abort: &AtomicBool,
    on_text: &mut dyn FnMut(&str) -> bool,
) -> std::result::Result<(Generation, Option<Rest>), Answer> {
    let streamed = response
        .content_type()
        .eq_ignore_ascii_case("text/event-stream");
    if !streamed {
        // A server that ignores `stream` sends the whole answer as one JSON object.
        let body = response_text(response);
        let json: Value = serde_json::from_str(&body).map_err(|_| {
            Answer::Failed(bad_response(format!(
                "the answer is neither a stream nor JSON: `{}`",
                snippet(&body)
            )))
        })?;
        let mut answer = AnswerState::new(started, prompt_estimate);
        answer.take_chunk(&json, true).map_err(Answer::Failed)?;
        let text = std::mem::take(&mut answer.text);
        if !on_text(&text) {
            return Err(Answer::Stopped(Error::Cancelled));
        }
        answer.text = text;
        return Ok((answer.finish(), None));
    }
    let mut events = EventReader::new(BufReader::new(response.into_reader()));
    let mut answer = AnswerState::new(started, prompt_estimate);
    loop {
        if abort.load(Ordering::SeqCst) {
            return Err(Answer::Stopped(Error::Cancelled));
        }
        let event = match events.next_event() {
            Ok(event) => event,
            Err(e) => {
                let message = if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) {
                    format!(
                        "the remote engine sent nothing for {} s",
                        shared.config.timeout.as_secs()
                    )
                } else if e.kind() == std::io::ErrorKind::InvalidData {
                    format!("the remote engine's stream is not OpenAI's format ({e})")
                } else {
                    format!("the connection to the remote engine broke mid-answer (the server stopped, or the network failed): {e}")
                };
                let failure = Failure::new(RemoteFailure::Server, message);
                return Err(answer.failed(failure));
            }
        };
        match event {
            Some(Event::Done) if answer.finish.is_some() => {
                return Ok((answer.finish(), Some(Box::new(events.into_inner()))))
            }
            Some(Event::Done) => {
                // Every OpenAI-compatible server says why an answer ended before `[DONE]`;
                // llama-cpp-python's server ends a stream early without a reason when another
                // request arrives, unless it runs with `--interrupt_requests False`.
                let failure = Failure::new(
                    RemoteFailure::Server,
                    "the remote engine ended the answer without finishing it (llama-cpp-python's server does this when requests overlap: start it with --interrupt_requests False, or send one request at a time)".into(),
                );
                return Err(answer.failed(failure.retryable(None)));
            }
            None if answer.finish.is_some() => return Ok((answer.finish(), None)),
            None => {
                let failure = Failure::new(
                    RemoteFailure::Server,
                    "the remote engine closed the stream mid-answer (the server stopped, or the connection broke)".into(),
                );
                return Err(answer.failed(failure.retryable(None)));
            }
            Some(Event::Data(data)) => {
                let json: Value = serde_json::from_str(&data).map_err(|_| {
                    answer.failed(bad_response(format!(
                        "a streamed event is not JSON: `{}`",
                        snippet(&data)
                    )))
                })?;
                let before = answer.text.len();
                answer
                    .take_chunk(&json, false)
                    .map_err(|f| answer.failed(f))?;
                if answer.text.len() > before && !on_text(&answer.text[before..]) {
                    return Err(Answer::Stopped(Error::Cancelled));
                }
            }
        }
    }
}

fn bad_response(message: String) -> Failure {
    Failure::new(
        RemoteFailure::BadResponse,
        format!("the remote engine's answer is not OpenAI-compatible: {message}"),
    )
}

fn snippet(text: &str) -> String {
    let s: String = text.chars().take(80).collect();
    if s.len() < text.len() {
        format!("{s}…")
    } else {
        s
    }
}

/// What has arrived of one answer.
struct AnswerState {
    text: String,
    finish: Option<FinishReason>,
    prompt_tokens: Option<usize>,
    completion_tokens: Option<usize>,
    cached_tokens: usize,
    /// Chunks that brought text: the token count when the server reports no usage.
    text_chunks: usize,
    started: Instant,
    first_text: Option<Instant>,
    prompt_estimate: usize,
}

impl AnswerState {
    fn new(started: Instant, prompt_estimate: usize) -> Self {
        Self {
            text: String::new(),
            finish: None,
            prompt_tokens: None,
            completion_tokens: None,
            cached_tokens: 0,
            text_chunks: 0,
            started,
            first_text: None,
            prompt_estimate,
        }
    }

    /// Takes one chunk (`whole`: a non-streamed response, whose text is in `message`).
    fn take_chunk(&mut self, json: &Value, whole: bool) -> std::result::Result<(), Failure> {
        if json.get("error").is_some() {
            let said = server_message(&json.to_string());
            let failure = if says_context_too_long(&said) {
                RemoteFailure::ContextTooLong
            } else {
                RemoteFailure::Server
            };
            return Err(Failure::new(
                failure,
                format!("the remote engine failed mid-answer: {said}"),
            ));
        }
        let choice = json.pointer("/choices/0");
        let text_field = if whole { "message" } else { "delta" };
        let piece = choice
            .and_then(|c| c.get(text_field))
            .and_then(|m| m.get("content"))
            .or_else(|| choice.and_then(|c| c.get("text")))
            .and_then(Value::as_str);
        if let Some(piece) = piece.filter(|p| !p.is_empty()) {
            self.first_text.get_or_insert_with(Instant::now);
            self.text.push_str(piece);
            self.text_chunks += 1;
        }
        if let Some(reason) = choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str)
        {
            self.finish = Some(if reason == "length" {
                FinishReason::Length
            } else {
                FinishReason::Stop
            });
        }
        if let Some(usage) = json.get("usage").filter(|u| u.is_object()) {
            let count = |key: &str| usage.get(key).and_then(Value::as_u64).map(|n| n as usize);
            self.prompt_tokens = count("prompt_tokens").or(self.prompt_tokens);
            self.completion_tokens = count("completion_tokens").or(self.completion_tokens);
            if let Some(cached) = usage
                .pointer("/prompt_tokens_details/cached_tokens")
                .and_then(Value::as_u64)
            {
                self.cached_tokens = cached as usize;
            }
        }
        if choice.is_none() && json.get("usage").is_none() {
            return Err(bad_response(format!(
                "no `choices` in `{}`",
                snippet(&json.to_string())
            )));
        }
        Ok(())
    }

    /// A failure is retried only while no text was shown.
    fn failed(&self, failure: Failure) -> Answer {
        if self.text.is_empty() {
            Answer::Failed(failure)
        } else {
            Answer::Stopped(failure.into_error(1))
        }
    }

    fn finish(self) -> Generation {
        let end = Instant::now();
        let first = self.first_text.unwrap_or(end);
        Generation {
            prompt_tokens: self.prompt_tokens.unwrap_or(self.prompt_estimate),
            reused_tokens: self.cached_tokens,
            // Servers send about a token per chunk.
            generated_tokens: self.completion_tokens.unwrap_or(self.text_chunks),
            finish: self.finish.unwrap_or(FinishReason::Stop),
            prefill_secs: first.duration_since(self.started).as_secs_f64(),
            decode_secs: end.duration_since(first).as_secs_f64(),
            // Servers do not send the log-probabilities unless asked, and not all can: a
            // remote text has no confidence.
            logprob: LogProb::default(),
            text: self.text,
        }
    }
}
