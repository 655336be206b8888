//! The remote engine against a small local fake of an OpenAI-compatible server: streaming,
//! usage, retries (429 with Retry-After, 5xx), a slow drip cancelled, a stalled stream timed
//! out, malformed events, the errors users meet (refused connection, wrong address, key,
//! model, context) and the concurrency limit. The real server (llama.cpp's) is in
//! `tests/remote_server.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use precis_llm::chat::Message;
use precis_llm::progress::CancelToken;
use precis_llm::{
    Error, FinishReason, Generation, GenerationParams, Generator, Job, JobSource, RemoteFailure,
};
use precis_remote::{RemoteConfig, RemoteEngine, RetryPolicy};

/// A request as the fake server received it.
#[derive(Clone, Debug)]
struct Received {
    head: String,
    body: String,
}

/// What the fake server counted.
#[derive(Default)]
struct Counters {
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// Streams whose client went away while the server was still writing.
    closed_by_client: AtomicUsize,
    received: Mutex<Vec<Received>>,
}

type Script = dyn Fn(usize, &Received, &mut TcpStream) -> std::io::Result<()> + Send + Sync;

/// Serves `script` on 127.0.0.1 (each connection on its own thread; `script` gets the request's
/// number, from 0) and returns the API's base address.
fn serve(
    script: impl Fn(usize, &Received, &mut TcpStream) -> std::io::Result<()> + Send + Sync + 'static,
) -> (String, Arc<Counters>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}/v1", listener.local_addr().unwrap());
    let counters = Arc::new(Counters::default());
    let script: Arc<Script> = Arc::new(script);
    let shared = counters.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (counters, script) = (shared.clone(), script.clone());
            std::thread::spawn(move || {
                let Some(received) = read_request(&mut stream) else {
                    return;
                };
                let n = counters.requests.fetch_add(1, Ordering::SeqCst);
                counters.received.lock().unwrap().push(received.clone());
                let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                counters.most_in_flight.fetch_max(now, Ordering::SeqCst);
                if script(n, &received, &mut stream).is_err() {
                    counters.closed_by_client.fetch_add(1, Ordering::SeqCst);
                }
                counters.in_flight.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (address, counters)
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn sse_head(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
    )
}

fn piece(stream: &mut TcpStream, text: &str) -> std::io::Result<()> {
    let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    write!(stream, "data: {chunk}\n\n")?;
    stream.flush()
}

fn finish(
    stream: &mut TcpStream,
    reason: &str,
    prompt: usize,
    completion: usize,
) -> std::io::Result<()> {
    let last = serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]});
    let usage = serde_json::json!({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}});
    write!(stream, "data: {last}\n\ndata: {usage}\n\ndata: [DONE]\n\n")?;
    stream.flush()
}

/// A whole streamed answer.
fn answer(stream: &mut TcpStream, pieces: &[&str]) -> std::io::Result<()> {
    sse_head(stream)?;
    for p in pieces {
        piece(stream, p)?;
    }
    finish(stream, "stop", 21, pieces.len())
}

fn status(stream: &mut TcpStream, code: u16, headers: &str, body: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {code} Whatever\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn connect(address: &str, configure: impl FnOnce(&mut RemoteConfig)) -> RemoteEngine {
    let mut config = RemoteConfig::new(address, "qwen2.5-0.5b");
    config.retry = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
    };
    config.timeout = Duration::from_secs(10);
    configure(&mut config);
    RemoteEngine::new(config).unwrap()
}

fn ask(engine: &mut RemoteEngine) -> (Result<Generation, Error>, Vec<String>) {
    let mut pieces = Vec::new();
    let result = engine.generate(
        &[Message::system("Translate."), Message::user("Hello, world")],
        &GenerationParams::default(),
        &mut |t| pieces.push(t.to_string()),
        &CancelToken::new(),
    );
    (result, pieces)
}

fn failure(result: Result<Generation, Error>) -> (RemoteFailure, String) {
    match result {
        Err(Error::Remote { failure, message }) => (failure, message),
        other => panic!("expected a remote failure, got {other:?}"),
    }
}

#[test]
fn a_streamed_answer_arrives_in_pieces_with_the_servers_token_counts() {
    let (address, counters) = serve(|_, _, s| answer(s, &["你好", "，世界"]));
    let mut engine = connect(&address, |c| c.api_key = Some("sk-test-key".into()));
    let (result, pieces) = ask(&mut engine);
    let generation = result.unwrap();
    assert_eq!(pieces, ["你好", "，世界"]);
    assert_eq!(generation.text, "你好，世界");
    assert_eq!(generation.finish, FinishReason::Stop);
    assert_eq!(
        (generation.prompt_tokens, generation.generated_tokens),
        (21, 2)
    );
    assert_eq!(
        generation.logprob.mean(),
        None,
        "no confidence from a server"
    );
    assert_eq!(engine.stats().generated_tokens, 2);

    let received = counters.received.lock().unwrap()[0].clone();
    assert!(received.head.starts_with("POST /v1/chat/completions "));
    assert!(
        received.head.contains("Bearer sk-test-key"),
        "{}",
        received.head
    );
    let body: serde_json::Value = serde_json::from_str(&received.body).unwrap();
    assert_eq!(body["model"], "qwen2.5-0.5b");
    assert_eq!(body["stream"], true);
    assert_eq!(body["temperature"], 0.0, "greedy, as the local engine");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "Hello, world");
}

#[test]
fn a_length_cut_and_a_server_that_does_not_stream() {
    let (address, _) = serve(|n, _, s| {
        if n == 0 {
            sse_head(s)?;
            piece(s, "Once upon")?;
            finish(s, "length", 5, 2)
        } else {
            status(
                s,
                200,
                "",
                r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"whole answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2}}"#,
            )
        }
    });
    let mut engine = connect(&address, |_| {});
    let cut = ask(&mut engine).0.unwrap();
    assert_eq!(
        (cut.text.as_str(), cut.finish),
        ("Once upon", FinishReason::Length)
    );
    let (whole, pieces) = ask(&mut engine);
    assert_eq!(whole.unwrap().text, "whole answer");
    assert_eq!(pieces, ["whole answer"]);
}

#[test]
fn busy_and_failing_servers_are_retried_honouring_retry_after() {
    let (address, counters) = serve(|n, _, s| match n {
        0 => status(
            s,
            429,
            "Retry-After: 1\r\n",
            r#"{"error":{"message":"slots busy"}}"#,
        ),
        1 => status(s, 503, "", "overloaded"),
        _ => answer(s, &["ok"]),
    });
    let mut engine = connect(&address, |_| {});
    let started = Instant::now();
    let (result, _) = ask(&mut engine);
    assert_eq!(result.unwrap().text, "ok");
    assert_eq!(counters.requests.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );

    let (address, counters) =
        serve(|_, _, s| status(s, 500, "", r#"{"error":{"message":"CUDA out of memory"}}"#));
    let mut engine = connect(&address, |_| {});
    let (kind, message) = failure(ask(&mut engine).0);
    assert_eq!(kind, RemoteFailure::Server);
    assert!(
        message.contains("HTTP 500") && message.contains("CUDA out of memory"),
        "{message}"
    );
    assert!(message.contains("after 3 tries"), "{message}");
    assert_eq!(counters.requests.load(Ordering::SeqCst), 3);
}

#[test]
fn cancel_returns_at_once_and_closes_a_slow_drip() {
    let (address, counters) = serve(|_, _, s| {
        sse_head(s)?;
        loop {
            piece(s, "滴")?;
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let mut engine = connect(&address, |_| {});
    let cancel = CancelToken::new();
    let mut pieces = 0;
    let mut cancelled_at = None;
    let result = engine.generate(
        &[Message::user("drip")],
        &GenerationParams::default(),
        &mut |_| {
            pieces += 1;
            if pieces == 3 {
                cancel.cancel();
                cancelled_at = Some(Instant::now());
            }
        },
        &cancel,
    );
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(cancelled_at.unwrap().elapsed() < Duration::from_millis(500));
    let deadline = Instant::now() + Duration::from_secs(3);
    while counters.closed_by_client.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the stream was not closed after cancel"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_stalled_stream_times_out_and_a_cut_one_says_so() {
    let (address, _) = serve(|_, _, s| {
        sse_head(s)?;
        piece(s, "half")?;
        std::thread::sleep(Duration::from_secs(4));
        Ok(())
    });
    let mut engine = connect(&address, |c| c.timeout = Duration::from_secs(1));
    let started = Instant::now();
    let (result, pieces) = ask(&mut engine);
    let (kind, message) = failure(result);
    assert_eq!(kind, RemoteFailure::Server);
    assert!(message.contains("sent nothing for 1 s"), "{message}");
    assert_eq!(
        pieces,
        ["half"],
        "text shown is kept, and not asked for again"
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    let (address, counters) = serve(|_, _, s| {
        sse_head(s)?;
        piece(s, "first half")
    });
    let mut engine = connect(&address, |_| {});
    let (result, pieces) = ask(&mut engine);
    let (kind, message) = failure(result);
    assert_eq!(kind, RemoteFailure::Server);
    assert!(
        message.contains("closed the stream mid-answer"),
        "{message}"
    );
    assert_eq!(pieces, ["first half"]);
    assert_eq!(counters.requests.load(Ordering::SeqCst), 1);
}

#[test]
fn malformed_events_are_a_clear_error() {
    for garbage in [
        "data: {not json\n\n",
        "data: {\"id\": 1}\n\n",
        "data: [1,2]\n\n",
    ] {
        let (address, _) = serve(move |_, _, s| {
            sse_head(s)?;
            s.write_all(garbage.as_bytes())
        });
        let mut engine = connect(&address, |_| {});
        let (kind, message) = failure(ask(&mut engine).0);
        assert_eq!(kind, RemoteFailure::BadResponse, "{garbage}: {message}");
        assert!(message.contains("not OpenAI-compatible"), "{message}");
    }
}

#[test]
fn each_mistake_a_user_can_make_has_its_own_error() {
    let cases: [(u16, &str, RemoteFailure, &str); 5] = [
        (
            401,
            r#"{"error":{"message":"Incorrect API key provided"}}"#,
            RemoteFailure::Unauthorized,
            "API key",
        ),
        (
            404,
            r#"{"error":"model \"qwen9\" not found, try pulling it first"}"#,
            RemoteFailure::ModelNotFound,
            "no model `qwen2.5-0.5b`",
        ),
        (
            404,
            "<html>Not Found</html>",
            RemoteFailure::Unreachable,
            "no OpenAI-compatible API",
        ),
        (
            400,
            r#"{"error":{"message":"Requested tokens (5000) exceed context window of 4096"}}"#,
            RemoteFailure::ContextTooLong,
            "context",
        ),
        (
            400,
            r#"{"detail":"This model's maximum context length is 2048 tokens"}"#,
            RemoteFailure::ContextTooLong,
            "2048",
        ),
    ];
    for (code, body, expected, words) in cases {
        let (address, counters) = serve(move |_, _, s| status(s, code, "", body));
        let mut engine = connect(&address, |_| {});
        let (kind, message) = failure(ask(&mut engine).0);
        assert_eq!(kind, expected, "{code} {body}: {message}");
        assert!(message.contains(words), "{message}");
        assert_eq!(
            counters.requests.load(Ordering::SeqCst),
            1,
            "{code} is not retried"
        );
    }

    // Nothing listens on a port just freed.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut engine = connect(&format!("http://{free}/v1"), |_| {});
    let (kind, message) = failure(ask(&mut engine).0);
    assert_eq!(kind, RemoteFailure::Unreachable);
    assert!(
        message.contains("refused") && message.contains("after 3 tries"),
        "{message}"
    );
}

/// Offers `count` jobs and collects what comes back.
struct Jobs {
    next: usize,
    count: usize,
    done: Vec<(usize, String)>,
}

impl JobSource for Jobs {
    fn next_job(&mut self) -> Option<Job> {
        (self.next < self.count).then(|| {
            self.next += 1;
            Job {
                id: self.next - 1,
                messages: vec![Message::user(format!("job {}", self.next - 1))],
                params: GenerationParams::default(),
            }
        })
    }
    fn on_text(&mut self, _: usize, _: &str) {}
    fn done(&mut self, id: usize, generation: Generation) -> precis_llm::Result<()> {
        self.done.push((id, generation.text));
        Ok(())
    }
}

#[test]
fn no_more_requests_in_flight_than_configured() {
    // Counted here rather than by `serve`, which counts a request until its connection is
    // done: the client may see an answer end, and send its next request, a moment before.
    let answering = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now, peak) = (answering.clone(), most.clone());
    let (address, counters) = serve(move |_, received, s| {
        peak.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
        let body: serde_json::Value = serde_json::from_str(&received.body).unwrap();
        let asked = body["messages"][0]["content"].as_str().unwrap().to_string();
        sse_head(s)?;
        piece(s, "re: ")?;
        piece(s, &asked)?;
        now.fetch_sub(1, Ordering::SeqCst);
        finish(s, "stop", 21, 2)
    });
    let mut engine = connect(&address, |c| c.max_concurrent = 3);
    let mut jobs = Jobs {
        next: 0,
        count: 8,
        done: Vec::new(),
    };
    engine.run_jobs(&mut jobs, 8, &CancelToken::new()).unwrap();
    assert_eq!(jobs.done.len(), 8);
    for (id, text) in &jobs.done {
        assert_eq!(text, &format!("re: job {id}"));
    }
    assert_eq!(most.load(Ordering::SeqCst), 3);

    // The caller's own limit wins when it is lower.
    let mut jobs = Jobs {
        next: 0,
        count: 4,
        done: Vec::new(),
    };
    let before = counters.requests.load(Ordering::SeqCst);
    most.store(0, Ordering::SeqCst);
    engine.run_jobs(&mut jobs, 1, &CancelToken::new()).unwrap();
    assert_eq!(counters.requests.load(Ordering::SeqCst) - before, 4);
    assert_eq!(most.load(Ordering::SeqCst), 1);
}

#[test]
fn an_answer_ended_without_a_reason_is_not_taken_as_complete() {
    let (address, _) = serve(|_, _, s| {
        sse_head(s)?;
        piece(s, "The first")?;
        s.write_all(b"data: [DONE]\n\n")
    });
    let mut engine = connect(&address, |_| {});
    let (kind, message) = failure(ask(&mut engine).0);
    assert_eq!(kind, RemoteFailure::Server);
    assert!(message.contains("--interrupt_requests False"), "{message}");
}

/// `precis batch --jobs` with a remote engine: the engine is shared by several jobs. A job
/// cancelled mid-answer gets `Cancelled` at once and its stream is closed (its request dropped,
/// not left holding a slot) while another job's answer arrives; dropping the shared engine while
/// a request still drips stops it too, promptly.
#[test]
fn a_shared_remote_engine_drops_the_requests_of_a_cancelled_job() {
    use precis_llm::shared::{SharedEngine, TokenCounter};
    let (address, counters) = serve(|_, received, s| {
        if received.body.contains("drip") {
            sse_head(s)?;
            loop {
                piece(s, "滴")?;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        answer(s, &["好"])
    });
    let engine = connect(&address, |c| c.max_concurrent = 4);
    let counter: TokenCounter = Arc::new(precis_remote::estimate_tokens);
    let shared = SharedEngine::spawn(Box::new(engine), counter, 4).unwrap();
    let (mut dripping, mut other) = (shared.client(), shared.client());
    let cancel = CancelToken::new();
    std::thread::scope(|s| {
        let cancelled = s.spawn(|| {
            let mut pieces = 0;
            let result = dripping.generate(
                &[Message::user("drip")],
                &GenerationParams::default(),
                &mut |_| {
                    pieces += 1;
                    if pieces == 3 {
                        cancel.cancel();
                    }
                },
                &cancel,
            );
            (result, Instant::now())
        });
        let answered = s.spawn(|| {
            other.generate(
                &[Message::user("Hello")],
                &GenerationParams::default(),
                &mut |_| {},
                &CancelToken::new(),
            )
        });
        let (result, returned) = cancelled.join().unwrap();
        assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
        assert_eq!(answered.join().unwrap().unwrap().text, "好");
        let deadline = returned + Duration::from_secs(3);
        while counters.closed_by_client.load(Ordering::SeqCst) == 0 {
            assert!(
                Instant::now() < deadline,
                "the cancelled job's stream stayed open"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    });

    // A request still dripping when the engine is dropped (a batch ending on Ctrl-C).
    let mut last = shared.client();
    std::thread::scope(|s| {
        let waiting = s.spawn(|| {
            last.generate(
                &[Message::user("drip")],
                &GenerationParams::default(),
                &mut |_| {},
                &CancelToken::new(),
            )
        });
        std::thread::sleep(Duration::from_millis(300));
        let dropping = Instant::now();
        drop(shared);
        assert!(
            dropping.elapsed() < Duration::from_secs(2),
            "dropping waited for the request"
        );
        assert!(waiting.join().unwrap().is_err());
    });
    let deadline = Instant::now() + Duration::from_secs(3);
    while counters.closed_by_client.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the last stream stayed open");
        std::thread::sleep(Duration::from_millis(20));
    }
}
