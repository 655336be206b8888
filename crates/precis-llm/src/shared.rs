//! One engine shared by several jobs running at once (`precis batch --jobs N`): the engine
//! lives on its own thread, and each job holds a [`SharedClient`], a [`Generator`] that hands
//! its conversations to that thread. All clients' conversations join one continuous batch
//! ([`Generator::run_jobs`]), so the slots one article leaves free (a short article, the last
//! paragraphs of a long one, a look-up or a retry waiting for its turn) decode another
//! article's paragraphs in the same step: every weight read once for all of them.
//!
//! A client's run ends as it would on an engine of its own: with its jobs done, with its own
//! failure (a prompt too long for the context fails that job's client only), or with
//! `Error::Cancelled` when its token is set — its conversations are then dropped from the batch
//! and the other clients' go on.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::chat::Message;
use crate::progress::CancelToken;
use crate::{Error, Generation, GenerationParams, GenerationStats, Generator, Job, JobSource};
use crate::{ModelInfo, Result};

/// Counts a text's tokens without the engine (which is busy on its thread).
pub type TokenCounter = Arc<dyn Fn(&str) -> usize + Send + Sync>;

/// How often a client waiting for its engine looks at its cancel token.
const POLL: Duration = Duration::from_millis(25);

/// A conversation on its way to the engine thread.
struct Submitted {
    job: Job,
    replies: Sender<Reply>,
    /// Set when the client stops listening: its conversations leave the batch.
    abandoned: Arc<AtomicBool>,
}

/// What the engine thread tells a client about one of its conversations (by the client's id).
enum Reply {
    Text(usize, String),
    Done(usize, Generation),
    Failed(usize, Error),
}

/// The engine on its thread. Dropping it stops what it runs and ends the thread; a client still
/// held then gets an error.
pub struct SharedEngine {
    submit: Option<Sender<Submitted>>,
    info: ModelInfo,
    counter: TokenCounter,
    /// Cleared when the engine thread ends (a panic included), so no client waits on it.
    alive: Arc<AtomicBool>,
    /// Set on drop: the engine stops what it is running (a remote request included) and its
    /// thread ends, even while a client is still held somewhere.
    shut_down: CancelToken,
    thread: Option<JoinHandle<()>>,
}

impl SharedEngine {
    /// Moves `engine` to a thread of its own, decoding up to `max_parallel` conversations of
    /// all clients together; `counter` counts tokens as the engine does.
    pub fn spawn(
        engine: Box<dyn Generator + Send>,
        counter: TokenCounter,
        max_parallel: usize,
    ) -> Result<Self> {
        let info = engine.info().clone();
        let (submit, submitted) = mpsc::channel();
        let alive = Arc::new(AtomicBool::new(true));
        let flag = SetOnDrop(alive.clone(), false);
        let shut_down = CancelToken::new();
        let stop = shut_down.clone();
        let thread = std::thread::Builder::new()
            .name("precis-engine".into())
            .spawn(move || {
                let _clear_when_ended = flag;
                serve(engine, submitted, max_parallel.max(1), &stop)
            })
            .map_err(|e| Error::Inference(format!("cannot start the engine thread: {e}")))?;
        Ok(Self {
            submit: Some(submit),
            info,
            counter,
            alive,
            shut_down,
            thread: Some(thread),
        })
    }

    /// A handle for one job (one thread).
    pub fn client(&self) -> SharedClient {
        SharedClient {
            submit: self
                .submit
                .clone()
                .expect("the engine thread runs until drop"),
            info: self.info.clone(),
            counter: self.counter.clone(),
            alive: self.alive.clone(),
            stats: GenerationStats::default(),
        }
    }
}

impl Drop for SharedEngine {
    fn drop(&mut self) {
        self.submit = None;
        self.shut_down.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The engine thread: waits for a conversation, then runs batches until none is left; ends
/// when `stop` is set or no client is left.
fn serve(
    mut engine: Box<dyn Generator + Send>,
    submitted: Receiver<Submitted>,
    max: usize,
    stop: &CancelToken,
) {
    loop {
        let first = match submitted.recv_timeout(POLL) {
            Ok(first) => first,
            Err(RecvTimeoutError::Timeout) if !stop.is_cancelled() => continue,
            Err(_) => return,
        };
        let mut source = Clients {
            submitted: &submitted,
            queue: VecDeque::from([first]),
            running: HashMap::new(),
            next_id: 0,
        };
        if let Err(e) = engine.run_jobs(&mut source, max, stop) {
            // The engine itself failed (not one conversation): every client waiting hears it.
            for (_, owner) in source.running.drain() {
                let _ = owner.replies.send(Reply::Failed(owner.id, copy_of(&e)));
            }
            for s in source.queue.drain(..) {
                let _ = s.replies.send(Reply::Failed(s.job.id, copy_of(&e)));
            }
        }
    }
}

/// A running conversation's client.
struct Owner {
    id: usize,
    replies: Sender<Reply>,
    abandoned: Arc<AtomicBool>,
}

/// Every client's conversations as one [`JobSource`], first come first served.
struct Clients<'a> {
    submitted: &'a Receiver<Submitted>,
    queue: VecDeque<Submitted>,
    /// By the engine's id for the conversation.
    running: HashMap<usize, Owner>,
    next_id: usize,
}

impl JobSource for Clients<'_> {
    fn next_job(&mut self) -> Option<Job> {
        self.queue.extend(self.submitted.try_iter());
        while let Some(Submitted {
            mut job,
            replies,
            abandoned,
        }) = self.queue.pop_front()
        {
            if abandoned.load(Ordering::SeqCst) {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            self.running.insert(
                id,
                Owner {
                    id: job.id,
                    replies,
                    abandoned,
                },
            );
            job.id = id;
            return Some(job);
        }
        None
    }

    fn on_text(&mut self, id: usize, text: &str) {
        if let Some(owner) = self.running.get(&id) {
            let _ = owner.replies.send(Reply::Text(owner.id, text.to_string()));
        }
    }

    fn done(&mut self, id: usize, generation: Generation) -> Result<()> {
        if let Some(owner) = self.running.remove(&id) {
            let _ = owner.replies.send(Reply::Done(owner.id, generation));
        }
        Ok(())
    }

    fn failed(&mut self, id: usize, error: Error) -> Result<()> {
        if let Some(owner) = self.running.remove(&id) {
            let _ = owner.replies.send(Reply::Failed(owner.id, error));
        }
        Ok(())
    }

    fn abandoned(&mut self, id: usize) -> bool {
        let gone = self
            .running
            .get(&id)
            .is_none_or(|owner| owner.abandoned.load(Ordering::SeqCst));
        if gone {
            self.running.remove(&id);
        }
        gone
    }
}

/// The same failure for another listener (errors hold I/O errors, which do not clone).
fn copy_of(e: &Error) -> Error {
    match e {
        Error::Cancelled => Error::Cancelled,
        Error::Remote { failure, message } => Error::Remote {
            failure: *failure,
            message: message.clone(),
        },
        other => Error::Inference(other.to_string()),
    }
}

/// One job's handle on a [`SharedEngine`]: a [`Generator`] whose statistics are its own
/// conversations'.
pub struct SharedClient {
    submit: Sender<Submitted>,
    info: ModelInfo,
    counter: TokenCounter,
    alive: Arc<AtomicBool>,
    stats: GenerationStats,
}

/// Sets the flag to the value when dropped, whatever the reason (a return, an error, a panic).
struct SetOnDrop(Arc<AtomicBool>, bool);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(self.1, Ordering::SeqCst);
    }
}

impl Generator for SharedClient {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn stats(&self) -> GenerationStats {
        self.stats
    }

    fn count_tokens(&self, text: &str) -> usize {
        (self.counter)(text)
    }

    fn generate(
        &mut self,
        messages: &[Message],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str),
        cancel: &CancelToken,
    ) -> Result<Generation> {
        crate::generate_as_job(self, messages, params, on_text, cancel)
    }

    fn run_jobs(
        &mut self,
        jobs: &mut dyn JobSource,
        max_parallel: usize,
        cancel: &CancelToken,
    ) -> Result<()> {
        let abandoned = Arc::new(AtomicBool::new(false));
        let _leave = SetOnDrop(abandoned.clone(), true);
        let (replies, news) = mpsc::channel();
        let mut outstanding = 0usize;
        loop {
            cancel.check()?;
            while outstanding < max_parallel.max(1) {
                let Some(job) = jobs.next_job() else { break };
                self.submit
                    .send(Submitted {
                        job,
                        replies: replies.clone(),
                        abandoned: abandoned.clone(),
                    })
                    .map_err(|_| Error::Inference("the engine thread has stopped".into()))?;
                outstanding += 1;
            }
            if outstanding == 0 {
                return Ok(());
            }
            match news.recv_timeout(POLL) {
                Ok(Reply::Text(id, text)) => jobs.on_text(id, &text),
                Ok(Reply::Done(id, generation)) => {
                    outstanding -= 1;
                    add(&mut self.stats, &generation);
                    jobs.done(id, generation)?;
                }
                Ok(Reply::Failed(id, error)) => {
                    outstanding -= 1;
                    jobs.failed(id, error)?;
                }
                Err(RecvTimeoutError::Timeout) if self.alive.load(Ordering::SeqCst) => {}
                Err(_) => return Err(Error::Inference("the engine thread has stopped".into())),
            }
        }
    }
}

fn add(stats: &mut GenerationStats, gen: &Generation) {
    // A server may report more cached tokens than prompt tokens.
    stats.prompt_tokens += gen.prompt_tokens.saturating_sub(gen.reused_tokens) as u64;
    stats.reused_tokens += gen.reused_tokens as u64;
    stats.generated_tokens += gen.generated_tokens as u64;
    stats.prefill_secs += gen.prefill_secs;
    stats.decode_secs += gen.decode_secs;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FinishReason;
    use std::path::PathBuf;
    use std::sync::Mutex;

    /// An engine that answers each conversation with its user message in capitals after three
    /// steps, decoding up to `max_parallel` together; it records the most it ever ran at once
    /// and fails a conversation whose message is "too long".
    struct Steps {
        info: ModelInfo,
        widest: Arc<Mutex<usize>>,
    }

    impl Generator for Steps {
        fn info(&self) -> &ModelInfo {
            &self.info
        }
        fn stats(&self) -> GenerationStats {
            GenerationStats::default()
        }
        fn count_tokens(&self, text: &str) -> usize {
            text.len()
        }
        fn generate(
            &mut self,
            _: &[Message],
            _: &GenerationParams,
            _: &mut dyn FnMut(&str),
            _: &CancelToken,
        ) -> Result<Generation> {
            unreachable!("clients send single turns as jobs")
        }
        fn run_jobs(
            &mut self,
            jobs: &mut dyn JobSource,
            max_parallel: usize,
            cancel: &CancelToken,
        ) -> Result<()> {
            let mut running: Vec<(usize, String, usize)> = Vec::new();
            loop {
                cancel.check()?;
                running.retain(|(id, _, _)| !jobs.abandoned(*id));
                while running.len() < max_parallel {
                    let Some(job) = jobs.next_job() else { break };
                    let text = job.messages[0].content.clone();
                    if text == "too long" {
                        jobs.failed(job.id, Error::Inference("prompt too long".into()))?;
                        continue;
                    }
                    running.push((job.id, text, 0));
                }
                if running.is_empty() {
                    return Ok(());
                }
                let mut widest = self.widest.lock().unwrap();
                *widest = (*widest).max(running.len());
                drop(widest);
                std::thread::sleep(Duration::from_millis(5));
                for (id, text, steps) in running.iter_mut() {
                    *steps += 1;
                    let shown = (*steps).min(text.len());
                    jobs.on_text(*id, &text[..shown]);
                }
                let finished: Vec<_> = running.iter().filter(|r| r.2 == 3).cloned().collect();
                running.retain(|r| r.2 < 3);
                for (id, text, _) in finished {
                    jobs.done(id, answer(&text.to_uppercase()))?;
                }
            }
        }
    }

    fn answer(text: &str) -> Generation {
        Generation {
            text: text.to_string(),
            prompt_tokens: 10,
            reused_tokens: 4,
            generated_tokens: 3,
            finish: FinishReason::Stop,
            prefill_secs: 0.0,
            decode_secs: 0.0,
            logprob: Default::default(),
        }
    }

    fn engine(max_parallel: usize) -> (SharedEngine, Arc<Mutex<usize>>) {
        let widest = Arc::new(Mutex::new(0));
        let steps = Steps {
            info: ModelInfo {
                name: "steps".into(),
                path: PathBuf::from("steps.gguf"),
                architecture: "test".into(),
                size_bytes: 0,
                context_length: 64,
                layers: 1,
                embedding_length: 1,
            },
            widest: widest.clone(),
        };
        let counter: TokenCounter = Arc::new(|text: &str| text.len());
        let shared = SharedEngine::spawn(Box::new(steps), counter, max_parallel).unwrap();
        (shared, widest)
    }

    fn turns(texts: &[&str]) -> Vec<Vec<Message>> {
        texts.iter().map(|t| vec![Message::user(*t)]).collect()
    }

    /// Runs the conversations through `client` with `max_parallel` of them at once.
    fn run(
        client: &mut SharedClient,
        texts: &[&str],
        max_parallel: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<String>> {
        struct Fixed {
            queue: VecDeque<Job>,
            answers: Vec<Option<String>>,
        }
        impl JobSource for Fixed {
            fn next_job(&mut self) -> Option<Job> {
                self.queue.pop_front()
            }
            fn on_text(&mut self, _: usize, _: &str) {}
            fn done(&mut self, id: usize, generation: Generation) -> Result<()> {
                self.answers[id] = Some(generation.text);
                Ok(())
            }
        }
        let mut fixed = Fixed {
            queue: turns(texts)
                .into_iter()
                .enumerate()
                .map(|(id, messages)| Job {
                    id,
                    messages,
                    params: GenerationParams::default(),
                })
                .collect(),
            answers: vec![None; texts.len()],
        };
        client.run_jobs(&mut fixed, max_parallel, cancel)?;
        Ok(fixed.answers.into_iter().map(Option::unwrap).collect())
    }

    #[test]
    fn clients_on_two_threads_share_the_batch_and_get_their_own_answers() {
        let (shared, widest) = engine(4);
        let (mut a, mut b) = (shared.client(), shared.client());
        let never = CancelToken::new();
        std::thread::scope(|s| {
            let first = s.spawn(|| run(&mut a, &["one", "two", "three"], 2, &never));
            let second = s.spawn(|| run(&mut b, &["four", "five", "six"], 2, &never));
            assert_eq!(first.join().unwrap().unwrap(), ["ONE", "TWO", "THREE"]);
            assert_eq!(second.join().unwrap().unwrap(), ["FOUR", "FIVE", "SIX"]);
        });
        // Each client has at most 2 at once: more than 2 in a step means both were in it.
        assert!(
            *widest.lock().unwrap() > 2,
            "the clients never shared a step"
        );
        assert!(
            *widest.lock().unwrap() <= 4,
            "the engine's cap was not kept"
        );
        // A client's statistics are its own conversations'.
        assert_eq!(a.stats().generated_tokens, 9);
        assert_eq!(a.stats().reused_tokens, 12);
        assert_eq!(a.count_tokens("abc"), 3);
        assert_eq!(a.info().name, "steps");
        let mut streamed = String::new();
        let single = a
            .generate(
                &[Message::user("seven")],
                &GenerationParams::default(),
                &mut |t| streamed = t.to_string(),
                &never,
            )
            .unwrap();
        assert_eq!((single.text.as_str(), streamed.as_str()), ("SEVEN", "sev"));
    }

    #[test]
    fn a_failed_or_cancelled_client_leaves_the_others_running() {
        let (shared, _) = engine(4);
        let (mut a, mut b, mut c) = (shared.client(), shared.client(), shared.client());
        let never = CancelToken::new();
        let stop = CancelToken::new();
        let texts: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let long: Vec<&str> = texts.iter().map(String::as_str).collect();
        std::thread::scope(|s| {
            let failing = s.spawn(|| run(&mut a, &["fine", "too long", "fine"], 2, &never));
            let cancelled = s.spawn(|| run(&mut b, &long, 2, &stop));
            let other = s.spawn(|| run(&mut c, &long, 2, &never));
            let err = failing.join().unwrap().unwrap_err();
            assert_eq!(err.to_string(), "inference failed: prompt too long");
            std::thread::sleep(Duration::from_millis(30));
            stop.cancel();
            assert!(matches!(cancelled.join().unwrap(), Err(Error::Cancelled)));
            let answers = other.join().unwrap().unwrap();
            assert_eq!(answers.len(), 40);
            assert_eq!(answers[39], "W39");
        });
        // The cancelled client's conversations left the batch: its count stopped short.
        assert!(b.stats().generated_tokens < 40 * 3);
        drop((a, b, c));
        drop(shared); // joins the engine thread
    }
}
