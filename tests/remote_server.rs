//! The remote engine against a real OpenAI-compatible server: llama.cpp's, from
//! `llama-cpp-python[server]==0.3.36` (scripts/test.sh builds it into a venv and sets
//! PRECIS_LLAMA_SERVER_PYTHON), serving the Qwen2.5 0.5B mirror on 127.0.0.1. Between `precis`
//! and the server sits a small relay that counts requests in flight, so the concurrency limit is
//! seen from outside.
//!
//! One test, in phases (the server loads once; two cores do not run two of these at a time):
//! the sample article summarized and translated through the server; a stream cancelled in the
//! middle, the server still serving after it; a batch whose server is killed mid-article (a
//! clear error, the finished article kept) and resumed when the server is back.
//!
//! Without the server's venv or the model it prints why it did nothing — unless
//! PRECIS_REQUIRE_TOOLS=1 (CI), where that is a failure.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use precis_core::llm::chat::Message;
use precis_core::llm::{GenerationParams, Generator};
use precis_core::models;
use precis_core::progress::CancelToken;
use precis_core::remote::{RemoteConfig, RemoteEngine};

/// The name the server is told to answer to.
const MODEL_ALIAS: &str = "qwen2.5-0.5b";

fn required() -> bool {
    std::env::var_os("PRECIS_REQUIRE_TOOLS").is_some()
}

/// What the test needs: the server's Python and the model file.
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let python = std::env::var_os("PRECIS_LLAMA_SERVER_PYTHON").map(PathBuf::from);
    let model = models::resolve(Some("qwen2.5-0.5b-instruct"));
    match (python, model) {
        (Some(python), Ok(model)) if python.exists() => Some((python, model)),
        (python, model) => {
            let why = match (python, model) {
                (_, Err(e)) => format!("the model is not installed: {e}"),
                (None, _) => {
                    "PRECIS_LLAMA_SERVER_PYTHON is not set (scripts/test.sh sets it)".into()
                }
                (Some(p), _) => format!("{} does not exist", p.display()),
            };
            assert!(!required(), "PRECIS_REQUIRE_TOOLS=1 but {why}");
            eprintln!("real-server test skipped: {why}");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// llama.cpp's server as a child process; dropping it ends exactly that process.
struct Server {
    child: Child,
}

impl Server {
    fn start(python: &Path, model: &Path, port: u16) -> Server {
        let child = Command::new(python)
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(model)
            .args(["--model_alias", MODEL_ALIAS, "--host", "127.0.0.1"])
            .args([
                "--port",
                &port.to_string(),
                "--n_ctx",
                "4096",
                "--n_threads",
                "2",
            ])
            // Two requests at once queue on the server instead of cutting each other off.
            .args(["--interrupt_requests", "False"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the llama.cpp server starts");
        let mut server = Server { child };
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("the llama.cpp server exited while starting: {status}");
            }
            if models_listed(port) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "the llama.cpp server did not start in 180 s"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether GET /v1/models answers with our model.
fn models_listed(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") && answer.contains(MODEL_ALIAS)
}

/// Forwards 127.0.0.1:<port> to the server, counting requests in flight: one starts when a
/// client sends on a connection that has none, and ends with the `[DONE]` of its answer or
/// with the connection.
struct Relay {
    port: u16,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl Relay {
    fn start(server_port: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_in_flight = Arc::new(AtomicUsize::new(0));
        let (count, most) = (in_flight.clone(), most_in_flight.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", server_port)) else {
                    continue; // The client sees its connection closed, as with no server.
                };
                let (count, most) = (count.clone(), most.clone());
                std::thread::spawn(move || relay_connection(client, upstream, count, most));
            }
        });
        Relay {
            port,
            in_flight,
            most_in_flight,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

fn relay_connection(
    client: TcpStream,
    upstream: TcpStream,
    count: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
) {
    let active = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let end = {
        let (active, count) = (active.clone(), count.clone());
        move || {
            if active.swap(false, Ordering::SeqCst) {
                count.fetch_sub(1, Ordering::SeqCst);
            }
        }
    };
    let (mut from_client, mut to_server) =
        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let (start_active, start_count) = (active.clone(), count.clone());
    let up = std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n @ 1..) = from_client.read(&mut buf) {
            if !start_active.swap(true, Ordering::SeqCst) {
                let now = start_count.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
            }
            if to_server.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let (mut from_server, mut to_client) = (upstream, client);
    let mut buf = [0u8; 16384];
    while let Ok(n @ 1..) = from_server.read(&mut buf) {
        // Counted as ended before the client can see it end (and send its next request).
        if buf[..n].windows(6).any(|w| w == b"[DONE]") {
            end();
        }
        if to_client.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    end();
    let _ = to_client.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
    end();
}

fn precis(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_precis"));
    command
        .args(args)
        .env("PRECIS_DATA_DIR", home.join("data"))
        .env_remove("PRECIS_REMOTE_API_KEY")
        .env_remove("PRECIS_REMOTE_URL");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn cjk_share(s: &str) -> f64 {
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    let cjk = letters
        .iter()
        .filter(|&&c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        .count();
    cjk as f64 / letters.len().max(1) as f64
}

#[test]
fn summaries_and_translations_through_a_real_llama_cpp_server() {
    let Some((python, model)) = prerequisites() else {
        return;
    };
    let port = free_port();
    let mut server = Server::start(&python, &model, port);
    let relay = Relay::start(port);
    let home = tempfile::tempdir().unwrap();

    // 1. The sample article: an LLM summary and the whole translation, two requests at a time.
    let sample = common::sample_article();
    let started = Instant::now();
    let output: Output = precis(home.path(), &["summarize"])
        .arg(&sample)
        .args([
            "--to",
            "zh-Hans",
            "--translate",
            "--engine",
            "llm",
            "--format",
            "json",
            "--quiet",
        ])
        .args([
            "--remote",
            &relay.url(),
            "--remote-model",
            MODEL_ALIAS,
            "--remote-concurrency",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "precis failed: {}",
        text(&output.stderr)
    );
    eprintln!(
        "sample through the server: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let outcome: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let outcome = if outcome.is_array() {
        outcome[0].clone()
    } else {
        outcome
    };
    let paragraphs = outcome["translation"]["paragraphs"].as_array().unwrap();
    assert!(paragraphs.len() >= 5, "{outcome}");
    // The 0.5B leaves some paragraphs in English, which are then shown as the source (as with
    // the local engine); most come back in Chinese.
    let chinese = paragraphs
        .iter()
        .filter(|p| cjk_share(p["text"].as_str().unwrap_or("")) > 0.5)
        .count();
    assert!(
        chinese * 2 >= paragraphs.len(),
        "mostly not Chinese: {outcome}"
    );
    assert_eq!(outcome["translation"]["model"], MODEL_ALIAS);
    let summary = outcome["summary"]["points"].as_array().unwrap();
    assert!(!summary.is_empty());
    let summary_text: String = summary.iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(
        cjk_share(&summary_text) > 0.5,
        "summary not in Chinese: {summary_text}"
    );
    assert_eq!(
        relay.most_in_flight.load(Ordering::SeqCst),
        2,
        "two requests at a time were asked for"
    );

    // 2. A stream cancelled in the middle; the server serves the next request.
    let mut config = RemoteConfig::new(relay.url(), MODEL_ALIAS);
    config.timeout = Duration::from_secs(60);
    let mut engine = RemoteEngine::new(config).unwrap();
    let cancel = CancelToken::new();
    let mut pieces = 0;
    let mut cancelled_at = None;
    let long = GenerationParams {
        max_new_tokens: 400,
        ..GenerationParams::default()
    };
    let result = engine.generate(
        &[Message::user(
            "Write a long story about a lighthouse keeper.",
        )],
        &long,
        &mut |_| {
            pieces += 1;
            if pieces == 5 {
                cancel.cancel();
                cancelled_at = Some(Instant::now());
            }
        },
        &cancel,
    );
    assert!(
        matches!(result, Err(precis_core::llm::Error::Cancelled)),
        "{result:?}"
    );
    assert!(cancelled_at.unwrap().elapsed() < Duration::from_millis(500));
    let deadline = Instant::now() + Duration::from_secs(10);
    while relay.in_flight.load(Ordering::SeqCst) > 0 {
        assert!(
            Instant::now() < deadline,
            "the cancelled stream stayed open"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let next = engine
        .generate(
            &[Message::user("Translate into French: good morning")],
            &GenerationParams {
                max_new_tokens: 16,
                ..GenerationParams::default()
            },
            &mut |_| {},
            &CancelToken::new(),
        )
        .expect("the server answers after a cancelled stream");
    assert!(!next.text.trim().is_empty());

    // 3. A batch of two articles, the server killed during the second: the first is kept, the
    // error is clear; with the server back, a rerun does only the second.
    let input = home.path().join("articles");
    std::fs::create_dir_all(&input).unwrap();
    let article = std::fs::read_to_string(&sample).unwrap();
    std::fs::write(input.join("a.txt"), &article).unwrap();
    std::fs::write(input.join("b.txt"), article.replace("Aleppo", "Idlib")).unwrap();
    let out = home.path().join("out");
    let batch = |relay: &Relay| {
        let mut command = precis(home.path(), &["batch"]);
        command
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .args(["--to", "zh-Hans", "--translate", "--format", "md"])
            .args(["--remote", &relay.url(), "--remote-model", MODEL_ALIAS])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    };
    let mut running = batch(&relay).spawn().unwrap();
    let first_done = out.join("a.md");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !first_done.exists() {
        assert!(
            Instant::now() < deadline,
            "the first article took over 300 s"
        );
        assert!(
            running.try_wait().unwrap().is_none(),
            "the batch ended early"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    server.kill();
    let killed_at = Instant::now();
    let status = running.wait().unwrap();
    let mut stderr = String::new();
    running
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        killed_at.elapsed() < Duration::from_secs(60),
        "slow to notice the server gone"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["done"].as_array().unwrap().len(), 1, "{report}");
    let failed = report["failed"][0]["error"].as_str().unwrap();
    assert!(
        failed.contains("remote engine")
            && (failed.contains("mid-answer") || failed.contains("cannot reach")),
        "{failed}"
    );

    let _server = Server::start(&python, &model, port);
    let rerun = batch(&relay).output().unwrap();
    assert!(rerun.status.success(), "{}", text(&rerun.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["skipped"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["done"].as_array().unwrap().len(), 1, "{report}");
    // Bilingual: the English source paragraphs beside their translation.
    let second = std::fs::read_to_string(out.join("b.md")).unwrap();
    let chinese = second
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    assert!(chinese > 300, "{second}");
}
