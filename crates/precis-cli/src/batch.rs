//! `precis batch`: every article of a folder through the same job as `precis summarize`, into
//! an output folder laid out like the input. The journal beside the output (path + content
//! hash → done / failed / interrupted) makes a rerun skip finished articles, so an interrupted
//! or crashed batch resumes where it stopped; `report.json` and a one-screen summary say what
//! was done, skipped and failed, and why. One bad file never stops the batch.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use precis_core::document::folder::{articles_in, FolderListing};
use precis_core::document::ReadLimits;
use precis_core::models::{load_shared, LoadedModels, ModelChoice};
use precis_core::pipeline::{self, Outcome, Request};
use precis_core::progress::{CancelToken, Stage};
use precis_core::reading;
use precis_core::translate::parallel_from_env;
use precis_export::ExportFormat;
use precis_store::batch::{Journal, Recorded};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::args::BatchArgs;
use crate::common;
use crate::progress;
use crate::summarize;

/// The report's file name in the output folder.
pub const REPORT_FILE: &str = "report.json";

#[derive(Serialize, Default)]
struct Report {
    input_dir: PathBuf,
    output_dir: PathBuf,
    target: String,
    /// Articles found in the folder.
    articles: usize,
    done: Vec<DoneArticle>,
    /// Done by an earlier run (same content): not redone.
    skipped: Vec<PathBuf>,
    failed: Vec<FailedArticle>,
    /// Not reached: the run was cancelled first.
    not_started: Vec<PathBuf>,
    /// Folder entries that could not be listed (loops, permissions).
    unreadable: Vec<FailedArticle>,
    cancelled: bool,
    seconds: f64,
    generated_tokens: u64,
    tokens_per_second: f64,
}

#[derive(Serialize)]
struct DoneArticle {
    path: PathBuf,
    outputs: Vec<PathBuf>,
    seconds: f64,
    generated_tokens: u64,
}

#[derive(Serialize)]
struct FailedArticle {
    path: PathBuf,
    error: String,
}

pub fn run(args: &BatchArgs, quiet: bool, cancel: &CancelToken) -> Result<()> {
    let mut listing = articles_in(&args.input_dir)
        .with_context(|| format!("cannot read the folder {}", args.input_dir.display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    // An output folder inside the input holds Markdown and HTML results, which are articles
    // too: never read back as input.
    if let Ok(out) = std::fs::canonicalize(&args.out) {
        listing
            .articles
            .retain(|p| !std::fs::canonicalize(p).is_ok_and(|p| p.starts_with(&out)));
    }
    let journal = Journal::open(&args.out)?;
    let remote = args.job.model.remote.config()?;
    let choice = args.job.model.choice(remote.as_ref());
    let req = summarize::request(&args.job, &choice)?;
    let formats: Vec<ExportFormat> = dedup(args.format.iter().map(|&f| f.into()));
    let names = output_stems(&args.input_dir, &listing.articles);
    let limits = ReadLimits {
        max_bytes: args.max_size.saturating_mul(1024 * 1024),
        chapter: None,
    };

    let started = Instant::now();
    let mut report = Report {
        input_dir: args.input_dir.clone(),
        output_dir: args.out.clone(),
        target: req.target.code.to_string(),
        articles: listing.articles.len(),
        unreadable: unreadable(&listing),
        ..Report::default()
    };
    // What needs doing: the rest was done by an earlier run or cannot be read.
    let mut todo = VecDeque::new();
    for path in &listing.articles {
        let rel = relative(&args.input_dir, path);
        if cancel.is_cancelled() {
            report.not_started.push(rel);
            continue;
        }
        let key = rel.to_string_lossy().into_owned();
        let hash = match content_hash(path, limits.max_bytes) {
            Ok(hash) => hash,
            Err(e) => {
                report.failed.push(FailedArticle {
                    path: rel,
                    error: format!("cannot be read: {e}"),
                });
                continue;
            }
        };
        if let Some(Recorded::Done { outputs }) = journal.recorded(&key, &hash)? {
            if outputs.iter().all(|o| args.out.join(o).is_file()) {
                report.skipped.push(rel);
                continue;
            }
        }
        todo.push_back(Pending {
            path: path.clone(),
            rel,
            key,
            hash,
        });
    }

    let jobs = usize::from(args.jobs).clamp(1, todo.len().max(1));
    let work = Work {
        limits: &limits,
        req: &req,
        choice,
        formats: &formats,
        out: &args.out,
        names: &names,
        // Several articles' progress lines would interleave: each only says when it starts.
        quiet: quiet || jobs > 1,
        cancel,
    };
    // Articles at once share one model: loaded once, their paragraphs decoded together.
    let shared = if jobs > 1 && choice.has_llm() {
        let reporter = progress::Reporter::new(quiet);
        let loaded = load_shared(choice, parallel_from_env(), &mut reporter.sink());
        reporter.finish();
        match loaded {
            Ok(engine) => Some(engine),
            Err(e) => {
                // No model, no article: none is started.
                if let Some(first) = todo.pop_front() {
                    report.failed.push(FailedArticle {
                        path: first.rel,
                        error: format!("{:#}", anyhow::Error::from(e)),
                    });
                }
                report.not_started.extend(todo.drain(..).map(|p| p.rel));
                None
            }
        }
    } else {
        None
    };

    let total = listing.articles.len();
    let to_do = todo.len();
    let queue = Mutex::new(todo);
    let stop = AtomicBool::new(false);
    let (news_tx, news) = mpsc::channel::<News>();
    let processing = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        // Should this thread stop early (the journal failing), no worker starts another article.
        let _stop_workers = StopOnDrop(&stop);
        for _ in 0..jobs {
            let (queue, stop, news_tx, work) = (&queue, &stop, news_tx.clone(), &work);
            let models = match &shared {
                Some(engine) => LoadedModels::sharing(engine.client()),
                None => LoadedModels::new(),
            };
            scope.spawn(move || worker(work, models, queue, stop, &news_tx));
        }
        drop(news_tx);
        let mut announced = total - to_do;
        let mut failed_here = 0;
        for event in news {
            match event {
                News::Started(key, hash) => {
                    announced += 1;
                    // Failed articles took time too: the rate counts every article ended.
                    let ended = report.done.len() + failed_here;
                    let secs = processing.elapsed().as_secs_f64();
                    let left = to_do.saturating_sub(ended);
                    let eta = (ended > 0).then(|| secs / ended as f64 * left as f64);
                    let speed = tokens_per_second(report.generated_tokens, secs);
                    announce(quiet, announced, total, &key, eta, speed);
                    journal.started(&key, &hash)?;
                }
                News::Finished(pending, result, seconds) => match result {
                    Ok((outputs, tokens)) => {
                        journal.done(&pending.key, &pending.hash, &outputs, seconds, tokens)?;
                        report.generated_tokens += tokens;
                        report.done.push(DoneArticle {
                            path: pending.rel,
                            outputs,
                            seconds,
                            generated_tokens: tokens,
                        });
                    }
                    Err(e) if is_cancel(&e) => {
                        // Left marked as started: the next run does it again, from the start.
                        report.not_started.push(pending.rel);
                    }
                    Err(e) => {
                        failed_here += 1;
                        let error = format!("{e:#}");
                        journal.failed(&pending.key, &pending.hash, &error, seconds)?;
                        if is_engine_failure(&e) {
                            // No model, no article: the rest would fail the same way.
                            stop.store(true, Ordering::SeqCst);
                        }
                        report.failed.push(FailedArticle {
                            path: pending.rel,
                            error,
                        });
                    }
                },
            }
        }
        Ok(())
    })?;
    drop(shared);
    // Not taken by a worker: cancelled or stopped first.
    let rest = queue.into_inner().unwrap_or_else(|e| e.into_inner());
    report.not_started.extend(rest.into_iter().map(|p| p.rel));
    report.cancelled = cancel.is_cancelled();
    report.seconds = started.elapsed().as_secs_f64();
    report.tokens_per_second =
        tokens_per_second(report.generated_tokens, processing.elapsed().as_secs_f64())
            .unwrap_or(0.0);
    let json = serde_json::to_string_pretty(&report)? + "\n";
    let report_path = args.out.join(REPORT_FILE);
    precis_export::write_atomic(&report_path, json.as_bytes())?;
    if !quiet {
        eprint!("{}", summary(&report, &report_path));
    }
    if report.cancelled {
        return Err(precis_core::Error::Cancelled.into());
    }
    match report.failed.len() {
        0 => Ok(()),
        n => anyhow::bail!(
            "{n} of {} articles failed; the reasons are in {}",
            report.articles,
            report_path.display()
        ),
    }
}

/// Sets the flag when dropped, however the scope is left.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// An article to process.
struct Pending {
    path: PathBuf,
    /// Its path in the input folder: its name in the journal and the report.
    rel: PathBuf,
    key: String,
    hash: String,
}

/// What the processing of every article shares.
struct Work<'a> {
    limits: &'a ReadLimits,
    req: &'a Request,
    choice: ModelChoice<'a>,
    formats: &'a [ExportFormat],
    out: &'a Path,
    names: &'a HashMap<PathBuf, PathBuf>,
    quiet: bool,
    cancel: &'a CancelToken,
}

/// A worker's news for the thread that keeps the journal and the report.
enum News {
    /// An article (journal key, content hash) was started.
    Started(String, String),
    /// An article's outputs (relative to the output folder) and generated tokens, or why it
    /// failed; and the seconds it took.
    Finished(Pending, Result<(Vec<PathBuf>, u64)>, f64),
}

/// Processes articles from `queue` until it is empty, the run is cancelled or `stop` is set.
fn worker(
    work: &Work,
    mut models: LoadedModels,
    queue: &Mutex<VecDeque<Pending>>,
    stop: &AtomicBool,
    news: &mpsc::Sender<News>,
) {
    loop {
        if work.cancel.is_cancelled() || stop.load(Ordering::SeqCst) {
            return;
        }
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        let Some(pending) = next else { return };
        let started = News::Started(pending.key.clone(), pending.hash.clone());
        if news.send(started).is_err() {
            // Nobody keeps the journal any more: leave the article for the next run.
            queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_front(pending);
            return;
        }
        let started = Instant::now();
        let result = process(&pending.path, work, &mut models).and_then(|outcome| {
            let stem = &work.names[&pending.path];
            let outputs = write_outputs(&outcome, work.formats, work.out, stem)?;
            Ok((outputs, outcome.stats.map_or(0, |s| s.generated_tokens)))
        });
        let seconds = started.elapsed().as_secs_f64();
        let _ = news.send(News::Finished(pending, result, seconds));
    }
}

/// Reads and processes one article.
fn process(path: &Path, work: &Work, models: &mut LoadedModels) -> Result<Outcome> {
    let (limits, req, choice, cancel) = (work.limits, work.req, work.choice, work.cancel);
    let reporter = progress::Reporter::new(work.quiet);
    let mut sink = reporter.sink();
    let doc = match reading::read_article(path, limits, &mut sink, cancel) {
        Ok(doc) => doc,
        Err(e) => {
            reporter.finish();
            return Err(e.into());
        }
    };
    let result = models
        .prepare(req, &doc, choice, &mut sink)
        .and_then(|job| {
            reporter.stage(Stage::Summarizing, &doc.source_name);
            pipeline::run_with(doc, req, job, &mut sink, cancel)
        });
    reporter.finish();
    Ok(result?)
}

/// Writes the article's results as `<stem>.<format>` under `out`; returns the paths relative to
/// `out`.
fn write_outputs(
    outcome: &Outcome,
    formats: &[ExportFormat],
    out: &Path,
    stem: &Path,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(formats.len());
    for &format in formats {
        let bytes = common::render_all(std::slice::from_ref(outcome), format)?;
        let rel = output_path(stem, format);
        let path = out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        precis_export::write_atomic(&path, &bytes)?;
        written.push(rel);
    }
    Ok(written)
}

/// Each article's output path without extension, relative to the output folder: its path in
/// the input folder less its extension ("news/a.html" → "news/a"), or with it where two
/// articles would otherwise share one ("news/a.html" and "news/a.pdf" → "news/a.html.*").
fn output_stems(root: &Path, articles: &[PathBuf]) -> HashMap<PathBuf, PathBuf> {
    let plain = |p: &Path| relative(root, p).with_extension("");
    let mut count: HashMap<PathBuf, usize> = HashMap::new();
    for p in articles {
        *count.entry(plain(p)).or_default() += 1;
    }
    articles
        .iter()
        .map(|p| {
            let stem = plain(p);
            let stem = if count[&stem] > 1 {
                relative(root, p)
            } else {
                stem
            };
            (p.clone(), stem)
        })
        .collect()
}

/// `stem` with the format's extension appended ("news/a.html" → "news/a.html.md").
fn output_path(stem: &Path, format: ExportFormat) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(format.extension());
    PathBuf::from(name)
}

fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// SHA-256 of the file's bytes, reading at most `max_bytes` + 1 (a larger file fails in the
/// reader anyway, with the size error).
fn content_hash(path: &Path, max_bytes: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut limited = file.take(max_bytes.saturating_add(1));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = limited.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn dedup(formats: impl Iterator<Item = ExportFormat>) -> Vec<ExportFormat> {
    let mut out: Vec<ExportFormat> = Vec::new();
    for f in formats {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

fn unreadable(listing: &FolderListing) -> Vec<FailedArticle> {
    listing
        .problems
        .iter()
        .map(|(path, error)| FailedArticle {
            path: path.clone(),
            error: error.clone(),
        })
        .collect()
}

fn is_cancel(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<precis_core::Error>(),
        Some(precis_core::Error::Cancelled)
    )
}

/// A failure of the engine, not of the article: no model installed, or one that cannot load.
fn is_engine_failure(e: &anyhow::Error) -> bool {
    use precis_core::llm::RemoteFailure;
    matches!(
        e.downcast_ref::<precis_core::Error>(),
        Some(precis_core::Error::EngineUnavailable { .. })
            | Some(precis_core::Error::Remote {
                failure: RemoteFailure::Unreachable
                    | RemoteFailure::Unauthorized
                    | RemoteFailure::ModelNotFound,
                ..
            })
    )
}

fn tokens_per_second(tokens: u64, secs: f64) -> Option<f64> {
    (tokens > 0 && secs > 0.0).then(|| tokens as f64 / secs)
}

/// The line before each article: where the batch is, its speed and the time left.
fn announce(quiet: bool, n: usize, total: usize, name: &str, eta: Option<f64>, speed: Option<f64>) {
    if quiet {
        return;
    }
    let mut line = format!("[batch {n}/{total}] {name}");
    if let Some(speed) = speed {
        line.push_str(&format!(" — {speed:.1} tokens/s"));
    }
    if let Some(eta) = eta {
        line.push_str(&format!(" — about {} left", duration(eta)));
    }
    eprintln!("{line}");
}

fn duration(secs: f64) -> String {
    let secs = secs.round() as u64;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// The one-screen summary printed at the end.
fn summary(report: &Report, report_path: &Path) -> String {
    let mut s = format!(
        "\nBatch of {} articles in {}: {} done, {} skipped (done before), {} failed{}{}.\n",
        report.articles,
        duration(report.seconds),
        report.done.len(),
        report.skipped.len(),
        report.failed.len(),
        if report.not_started.is_empty() {
            String::new()
        } else {
            format!(", {} not started", report.not_started.len())
        },
        if report.cancelled { " (cancelled)" } else { "" },
    );
    const SHOWN: usize = 10;
    for f in report.failed.iter().take(SHOWN) {
        s.push_str(&format!("  failed: {}: {}\n", f.path.display(), f.error));
    }
    if report.failed.len() > SHOWN {
        s.push_str(&format!("  … and {} more\n", report.failed.len() - SHOWN));
    }
    for u in report.unreadable.iter().take(SHOWN) {
        s.push_str(&format!(
            "  not listed: {}: {}\n",
            u.path.display(),
            u.error
        ));
    }
    if report.cancelled {
        s.push_str("Run the same command again to resume: finished articles are not redone.\n");
    }
    s.push_str(&format!("Report: {}\n", report_path.display()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_follow_the_input_and_never_collide() {
        let root = Path::new("/in");
        let articles: Vec<PathBuf> = ["/in/a.html", "/in/a.pdf", "/in/news/b.txt", "/in/c.md"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let stems = output_stems(root, &articles);
        assert_eq!(stems[Path::new("/in/a.html")], Path::new("a.html"));
        assert_eq!(stems[Path::new("/in/a.pdf")], Path::new("a.pdf"));
        assert_eq!(stems[Path::new("/in/news/b.txt")], Path::new("news/b"));
        assert_eq!(stems[Path::new("/in/c.md")], Path::new("c"));
        assert_eq!(
            output_path(&stems[Path::new("/in/a.html")], ExportFormat::Md),
            Path::new("a.html.md")
        );
        assert_eq!(
            output_path(&stems[Path::new("/in/news/b.txt")], ExportFormat::Json),
            Path::new("news/b.json")
        );
    }
}
