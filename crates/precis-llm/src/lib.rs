//! Précis's LLM runtime: local text generation with GGUF models (the architectures in
//! [`arch`]) on our own kernels ([`kernels`]), with the chat templates ([`chat`]), the
//! tokenizer read from the GGUF file ([`tokenizer`]), prompt caches ([`prompt_cache`],
//! [`caches`]), the progress events and cancel token every long operation shares
//! ([`progress`]), and with the `reference` feature the engine benchmark ([`bench`]).
//!
//! It must not depend on `precis-core` nor know about readers, storage (the history), the UI,
//! or translation and summary policy: it runs conversations it is given. Its errors
//! ([`Error`]) become `precis_core::Error` with the same message and code.
//!
//! One [`LlmEngine`] holds a loaded model and its tokenizer (read from the GGUF metadata). It is
//! loaded once and reused; each [`LlmEngine::generate`] call starts a fresh conversation.

pub mod arch;
#[cfg(feature = "reference")]
pub mod bench;
pub mod caches;
pub mod chat;
pub mod decoder;
pub mod error;
pub mod kernels;
pub mod progress;
pub mod prompt_cache;
mod sampling;
pub mod shared;
pub mod speculative;
pub mod stream;
pub mod tokenizer;

pub use error::{Error, RemoteFailure, Result};

use std::fs::File;
use std::io::BufReader;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::quantized::gguf_file;
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;
use ts_rs::TS;

use crate::progress::CancelToken;
use chat::{ChatTemplate, Message, Piece, PromptFormat};
use decoder::{Decoder, KvCache};
use sampling::Sampler;
use stream::TokenStream;

/// Facts about a loaded model, for display and for reports.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ModelInfo {
    pub name: String,
    pub path: PathBuf,
    pub architecture: String,
    #[ts(type = "number")]
    pub size_bytes: u64,
    pub context_length: usize,
    pub layers: usize,
    pub embedding_length: usize,
}

/// How to pick tokens.
#[derive(Debug, Clone)]
pub struct GenerationParams {
    pub max_new_tokens: usize,
    /// `None` is greedy decoding (the default: faithful and reproducible).
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub seed: u64,
    /// 1.0 disables the penalty.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            max_new_tokens: 512,
            temperature: None,
            top_p: None,
            seed: 299792458,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn.
    Stop,
    /// `max_new_tokens` was reached.
    Length,
    /// The output started repeating itself and was cut at the first repetition.
    Loop,
}

#[derive(Debug, Clone, Serialize)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    /// Leading prompt tokens taken from the previous turn's cache instead of being processed.
    pub reused_tokens: usize,
    pub generated_tokens: usize,
    pub finish: FinishReason,
    pub prefill_secs: f64,
    pub decode_secs: f64,
    /// How sure the model was of the tokens it picked.
    pub logprob: LogProb,
}

/// Log-probabilities of picked tokens, added up: their mean is a text's confidence (0 = every
/// token certain; the further below 0, the more the model hesitated). Sums, so the pieces of a
/// paragraph combine into the paragraph's mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LogProb {
    pub sum: f64,
    pub tokens: usize,
}

impl LogProb {
    pub fn add(&mut self, logprob: f32) {
        // A token the model gave no chance at all (only a sampled pick can be one) would turn
        // the mean into -inf; it counts as very unlikely instead.
        self.sum += f64::from(logprob.max(-30.0));
        self.tokens += 1;
    }

    pub fn combined(self, other: LogProb) -> LogProb {
        LogProb {
            sum: self.sum + other.sum,
            tokens: self.tokens + other.tokens,
        }
    }

    /// The mean log-probability per token; `None` with no tokens.
    pub fn mean(&self) -> Option<f32> {
        (self.tokens > 0).then(|| (self.sum / self.tokens as f64) as f32)
    }
}

/// Running totals over an engine's life, for speed reports.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, TS)]
#[ts(rename = "Stats")]
pub struct GenerationStats {
    /// Prompt tokens processed (cached prefixes excluded).
    #[ts(type = "number")]
    pub prompt_tokens: u64,
    /// Prompt tokens served from the cache of a previous turn.
    #[ts(type = "number")]
    pub reused_tokens: u64,
    #[ts(type = "number")]
    pub generated_tokens: u64,
    pub prefill_secs: f64,
    pub decode_secs: f64,
    /// Tokens guessed by prompt lookup ([`speculative`]) and checked by the model.
    #[serde(default)]
    #[ts(type = "number")]
    pub draft_tokens: u64,
    /// Of those, the ones the model agreed with (each a decoding step saved).
    #[serde(default)]
    #[ts(type = "number")]
    pub accepted_draft_tokens: u64,
}

impl GenerationStats {
    /// The work done between `earlier` and `self`, with throughput.
    pub fn since(&self, earlier: &GenerationStats) -> GenerationStats {
        GenerationStats {
            prompt_tokens: self.prompt_tokens - earlier.prompt_tokens,
            reused_tokens: self.reused_tokens - earlier.reused_tokens,
            generated_tokens: self.generated_tokens - earlier.generated_tokens,
            prefill_secs: self.prefill_secs - earlier.prefill_secs,
            decode_secs: self.decode_secs - earlier.decode_secs,
            draft_tokens: self.draft_tokens - earlier.draft_tokens,
            accepted_draft_tokens: self.accepted_draft_tokens - earlier.accepted_draft_tokens,
        }
    }
    pub fn prefill_tokens_per_sec(&self) -> f64 {
        self.prompt_tokens as f64 / self.prefill_secs.max(1e-9)
    }
    pub fn decode_tokens_per_sec(&self) -> f64 {
        self.generated_tokens as f64 / self.decode_secs.max(1e-9)
    }
}

/// One conversation for [`LlmEngine::run_jobs`].
pub struct Job {
    /// The caller's name for it, passed back in the callbacks.
    pub id: usize,
    pub messages: Vec<Message>,
    pub params: GenerationParams,
}

/// Feeds [`LlmEngine::run_jobs`] and receives its output.
pub trait JobSource {
    /// The next conversation to start, or `None` when there is none (now or later).
    fn next_job(&mut self) -> Option<Job>;
    /// New text of conversation `id`.
    fn on_text(&mut self, id: usize, text: &str);
    /// Conversation `id` finished; an error stops the run.
    fn done(&mut self, id: usize, generation: Generation) -> Result<()>;
    /// Conversation `id` failed on its own — its prompt does not fit the context, its text
    /// cannot be decoded, its remote request failed — while the others may go on; an error (by
    /// default this one) stops the run.
    fn failed(&mut self, _id: usize, error: Error) -> Result<()> {
        Err(error)
    }
    /// Whether conversation `id` is no longer wanted: it leaves the batch unfinished, with no
    /// `done` (a client of a [`shared::SharedEngine`] that was cancelled). Engines ask between
    /// steps (a remote one drops the request).
    fn abandoned(&mut self, _id: usize) -> bool {
        false
    }
}

/// What the pipeline, the summarizer and the translator need of a model: the seam between
/// them and an engine. [`LlmEngine`] (the GGUF decoder on our kernels) is the one for real
/// models; tests script one to check the translation scheduler without a model.
pub trait Generator {
    /// Facts about the model, for display and reports.
    fn info(&self) -> &ModelInfo;
    /// Running totals over the engine's life.
    fn stats(&self) -> GenerationStats;
    /// Tokens `text` takes in this model's vocabulary (sizes pieces to the context window).
    fn count_tokens(&self, text: &str) -> usize;
    /// One chat turn, streamed to `on_text`; `Error::Cancelled` once `cancel` is set.
    fn generate(
        &mut self,
        messages: &[Message],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str),
        cancel: &CancelToken,
    ) -> Result<Generation>;
    /// Many independent turns, up to `max_parallel` at once, as `jobs` offers them.
    fn run_jobs(
        &mut self,
        jobs: &mut dyn JobSource,
        max_parallel: usize,
        cancel: &CancelToken,
    ) -> Result<()>;
}

/// One chat turn as the only job of [`Generator::run_jobs`]: `generate` for engines whose work
/// is all jobs (the remote engine, a shared engine's client).
pub fn generate_as_job(
    engine: &mut dyn Generator,
    messages: &[Message],
    params: &GenerationParams,
    on_text: &mut dyn FnMut(&str),
    cancel: &CancelToken,
) -> Result<Generation> {
    struct SingleTurn<'a> {
        job: Option<Job>,
        on_text: &'a mut dyn FnMut(&str),
        generation: Option<Generation>,
    }
    impl JobSource for SingleTurn<'_> {
        fn next_job(&mut self) -> Option<Job> {
            self.job.take()
        }
        fn on_text(&mut self, _id: usize, text: &str) {
            (self.on_text)(text)
        }
        fn done(&mut self, _id: usize, generation: Generation) -> Result<()> {
            self.generation = Some(generation);
            Ok(())
        }
    }
    let mut turn = SingleTurn {
        job: Some(Job {
            id: 0,
            messages: messages.to_vec(),
            params: params.clone(),
        }),
        on_text,
        generation: None,
    };
    engine.run_jobs(&mut turn, 1, cancel)?;
    turn.generation
        .ok_or_else(|| Error::Inference("the engine ended a turn without an answer".into()))
}

impl Generator for LlmEngine {
    fn info(&self) -> &ModelInfo {
        LlmEngine::info(self)
    }
    fn stats(&self) -> GenerationStats {
        LlmEngine::stats(self)
    }
    fn count_tokens(&self, text: &str) -> usize {
        LlmEngine::count_tokens(self, text)
    }
    fn generate(
        &mut self,
        messages: &[Message],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str),
        cancel: &CancelToken,
    ) -> Result<Generation> {
        LlmEngine::generate(self, messages, params, on_text, cancel)
    }
    fn run_jobs(
        &mut self,
        jobs: &mut dyn JobSource,
        max_parallel: usize,
        cancel: &CancelToken,
    ) -> Result<()> {
        LlmEngine::run_jobs(self, jobs, max_parallel, cancel)
    }
}

fn count_with(tokenizer: &Tokenizer, text: &str) -> usize {
    tokenizer
        .encode(text, false)
        .map(|e| e.len())
        .unwrap_or(text.len() / 3)
}

/// `<think>\n\n</think>\n\n` as token ids for a model whose chat template can turn thinking
/// off (`enable_thinking`, Qwen3's hybrid models: this is what their template writes then) and
/// whose vocabulary has the thinking tokens; nothing for other models (Qwen3 "Instruct-2507"
/// files never think, and their template writes no such block).
fn no_thinking_prefix(chat_template: Option<&str>, tokenizer: &Tokenizer) -> Vec<u32> {
    let (Some(open), Some(close)) = (
        tokenizer.token_to_id(chat::THINK_START),
        tokenizer.token_to_id(chat::THINK_END),
    ) else {
        return Vec::new();
    };
    if !chat_template.is_some_and(|t| t.contains("enable_thinking")) {
        return Vec::new();
    }
    let blank = tokenizer
        .encode("\n\n", false)
        .map(|e| e.get_ids().to_vec())
        .unwrap_or_default();
    let mut ids = vec![open];
    ids.extend_from_slice(&blank);
    ids.push(close);
    ids.extend_from_slice(&blank);
    ids
}

/// The largest context we use, whatever the model allows: bounds memory (the KV cache is
/// allocated at this length: 224 MB for Qwen2.5 1.5B, 96 MB for 0.5B; Qwen3's wider KV heads
/// take about 900 MB for 0.6B/1.7B and 1.2 GB for 4B/8B) and time.
const MAX_CONTEXT: usize = 4096;
/// Prefill goes in chunks of this many tokens: big enough for the kernels to reuse each weight
/// across many tokens, small enough that a cancel is seen within a fraction of a second.
pub const PREFILL_CHUNK: usize = 64;

/// Prompts of other kinds whose computed start is kept beside the current one.
const OTHER_PROMPTS: usize = 2;

/// A prompt sharing fewer tokens than this with the cached one is of another kind (only the
/// chat template's opening in common) and is computed in another cache.
const MIN_SHARED_PROMPT: usize = 32;

pub struct LlmEngine {
    model: Decoder,
    /// The conversation cache: what the last prompt left, reused by the next one.
    cache: KvCache,
    /// Earlier prompts of other kinds (the look-up prompt between translations), least
    /// recently used first, so alternating kinds each keep their instructions computed.
    other_prompts: Vec<KvCache>,
    /// Computed prompt starts kept on disk for the next run (`None`: not kept).
    prompt_store: Option<prompt_cache::PromptStore>,
    tokenizer: Tokenizer,
    stop_tokens: Vec<u32>,
    /// Token ids that open every answer: Qwen3's empty thinking block, which is how its own chat
    /// template turns thinking off (we want the answer, not a monologue, in the output).
    answer_prefix: Vec<u32>,
    format: PromptFormat,
    /// Put in front of every prompt that does not start with it (models that want BOS).
    bos: Option<u32>,
    /// (spelling, id) of every added token (control and user-defined), longest first: what a
    /// template's own text ([`Piece::Format`]) may spell.
    control_spellings: Vec<(String, u32)>,
    /// First bytes of those spellings, so that text is only searched where one may start.
    control_first_bytes: std::collections::HashSet<u8>,
    info: ModelInfo,
    stats: GenerationStats,
    /// Speculative decoding of single turns with prompt-lookup drafts (`None`: off).
    prompt_lookup: Option<speculative::PromptLookup>,
}

fn invalid(path: &Path, reason: impl Into<String>) -> Error {
    Error::ModelInvalid {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Opens the model file and reads its GGUF header: (the file, its size in bytes, the header).
fn open_gguf(path: &Path) -> Result<(File, u64, gguf_file::Content)> {
    if !path.is_file() {
        return Err(Error::ModelMissing {
            path: path.to_path_buf(),
        });
    }
    let size_bytes = std::fs::metadata(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::new(&file);
    let content = gguf_file::Content::read(&mut reader).map_err(|e| {
        invalid(
            path,
            format!("not a GGUF file or its header is damaged ({e})"),
        )
    })?;
    Ok((file, size_bytes, content))
}

/// A string in the GGUF metadata.
fn meta_str(content: &gguf_file::Content, key: &str) -> Option<String> {
    content
        .metadata
        .get(key)
        .and_then(|v| v.to_string().ok())
        .cloned()
}

/// A token id in the GGUF metadata, if it is one of the vocabulary's.
fn meta_token_id(content: &gguf_file::Content, tokenizer: &Tokenizer, key: &str) -> Option<u32> {
    content
        .metadata
        .get(key)
        .and_then(|v| v.to_u32().ok())
        .filter(|&id| (id as usize) < tokenizer.get_vocab_size(true))
}

/// The model's facts from the GGUF metadata; an error for an architecture we do not run.
fn model_info(path: &Path, content: &gguf_file::Content, size_bytes: u64) -> Result<ModelInfo> {
    let meta_usize = |key: &str| -> Result<usize> {
        content
            .metadata
            .get(key)
            .and_then(|v| v.to_u32().ok())
            .map(|v| v as usize)
            .ok_or_else(|| invalid(path, format!("metadata key `{key}` is missing")))
    };
    let architecture = meta_str(content, "general.architecture").unwrap_or_default();
    if arch::architecture(&architecture).is_none() {
        return Err(invalid(path, arch::unsupported(&architecture)));
    }
    let context_length = meta_usize(&format!("{architecture}.context_length"))?;
    let layers = meta_usize(&format!("{architecture}.block_count"))?;
    let embedding_length = meta_usize(&format!("{architecture}.embedding_length"))?;
    let name = meta_str(content, "general.name").unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Ok(ModelInfo {
        name,
        path: path.to_path_buf(),
        architecture,
        size_bytes,
        context_length,
        layers,
        embedding_length,
    })
}

/// How prompts are written for this model: its own chat template (`chat_template`), else
/// ChatML where its vocabulary has ChatML's tokens; a model with neither is a base model.
fn prompt_format(
    path: &Path,
    content: &gguf_file::Content,
    tokenizer: &Tokenizer,
    chat_template: Option<&str>,
) -> Result<PromptFormat> {
    let spelling = |key: &str| {
        meta_token_id(content, tokenizer, key)
            .and_then(|id| tokenizer.id_to_token(id))
            .unwrap_or_default()
    };
    let has_chatml = tokenizer.token_to_id(chat::IM_START).is_some()
        && tokenizer.token_to_id(chat::IM_END).is_some();
    Ok(match chat_template {
        Some(source) => {
            match ChatTemplate::new(
                source,
                &spelling("tokenizer.ggml.bos_token_id"),
                &spelling("tokenizer.ggml.eos_token_id"),
            )
            .and_then(PromptFormat::template)
            {
                Ok(format) => format,
                // A template our renderer cannot run, in a file that speaks ChatML anyway.
                Err(_) if has_chatml => PromptFormat::ChatMl,
                Err(e) => return Err(invalid(path, e)),
            }
        }
        None if has_chatml => PromptFormat::ChatMl,
        None => return Err(invalid(path, chat::BASE_MODEL)),
    })
}

/// The tokens that end generation, sorted: the end of the turn, whichever token the model's
/// format uses. Only where the spelling is a special token: Gemma's vocabulary, for one, has
/// `</s>` as an ordinary piece of HTML, which must not end a turn.
fn end_of_turn_tokens(
    path: &Path,
    content: &gguf_file::Content,
    tokenizer: &Tokenizer,
) -> Result<Vec<u32>> {
    let special: std::collections::HashSet<u32> = tokenizer
        .get_added_tokens_decoder()
        .into_iter()
        .filter(|(_, t)| t.special)
        .map(|(id, _)| id)
        .collect();
    let token_id = |key: &str| meta_token_id(content, tokenizer, key);
    let mut stop_tokens: Vec<u32> = chat::END_OF_TURN
        .iter()
        .filter_map(|t| tokenizer.token_to_id(t))
        .filter(|id| special.contains(id))
        .chain(token_id("tokenizer.ggml.eos_token_id"))
        .chain(token_id("tokenizer.ggml.eot_token_id"))
        .collect();
    stop_tokens.sort_unstable();
    stop_tokens.dedup();
    if stop_tokens.is_empty() {
        return Err(invalid(path, "its vocabulary has no end-of-turn token"));
    }
    Ok(stop_tokens)
}

/// Every added token's (spelling, id), longest first: what a template's own text may contain;
/// and the first bytes of those spellings.
fn added_token_spellings(
    tokenizer: &Tokenizer,
) -> (Vec<(String, u32)>, std::collections::HashSet<u8>) {
    let mut control_spellings: Vec<(String, u32)> = tokenizer
        .get_added_tokens_decoder()
        .into_iter()
        .map(|(id, t)| (t.content, id))
        .filter(|(s, _)| !s.is_empty())
        .collect();
    control_spellings.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
    let control_first_bytes = control_spellings
        .iter()
        .map(|(s, _)| s.as_bytes()[0])
        .collect();
    (control_spellings, control_first_bytes)
}

/// The decoder over the file's weights, for up to [`MAX_CONTEXT`] positions, with its tile
/// cache ([`caches::tile_cache`]).
fn load_decoder(
    path: &Path,
    content: &gguf_file::Content,
    file: &File,
    context_length: usize,
) -> Result<Decoder> {
    let tile_cache = caches::tile_cache(path);
    // candle validates offsets, but a hostile file must never take the app down with it.
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        Decoder::from_gguf_cached(
            content,
            file,
            context_length.min(MAX_CONTEXT),
            tile_cache.as_ref(),
        )
    }))
    .map_err(|_| invalid(path, "its tensors are inconsistent (loader panicked)"))?
    .map_err(|e| {
        invalid(
            path,
            format!("its tensors cannot be read ({e}); the file may be truncated"),
        )
    })
}

impl LlmEngine {
    /// Loads a GGUF file of an architecture in [`arch::ARCHITECTURES`]. Errors are specific:
    /// missing file, not GGUF, wrong architecture, missing tokenizer, truncated tensors.
    pub fn load(path: &Path) -> Result<Self> {
        let (file, size_bytes, content) = open_gguf(path)?;
        let info = model_info(path, &content, size_bytes)?;
        let tokenizer = tokenizer::from_gguf(&content)
            .map_err(|e| invalid(path, format!("its tokenizer cannot be built ({e})")))?;
        let chat_template = meta_str(&content, "tokenizer.chat_template");
        let format = prompt_format(path, &content, &tokenizer, chat_template.as_deref())?;
        let stop_tokens = end_of_turn_tokens(path, &content, &tokenizer)?;
        let bos = tokenizer::bos_to_add(&content);
        let (control_spellings, control_first_bytes) = added_token_spellings(&tokenizer);
        let model = load_decoder(path, &content, &file, info.context_length)?;
        let cache = model.new_cache(model.max_positions());
        // A template turns thinking off itself (enable_thinking); ChatML needs the empty block.
        let answer_prefix = match format {
            PromptFormat::ChatMl => no_thinking_prefix(chat_template.as_deref(), &tokenizer),
            PromptFormat::Template { .. } => Vec::new(),
        };

        Ok(Self {
            model,
            cache,
            other_prompts: Vec::new(),
            prompt_store: caches::prompt_store(path),
            tokenizer,
            stop_tokens,
            answer_prefix,
            format,
            bos,
            control_spellings,
            control_first_bytes,
            info,
            stats: GenerationStats::default(),
            prompt_lookup: speculative::PromptLookup::from_env(),
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn stats(&self) -> GenerationStats {
        self.stats
    }

    /// Turns speculative decoding with prompt-lookup drafts on (with these settings) or off;
    /// on by default (`PRECIS_DRAFT=0` turns it off). Greedy output is the same either way.
    pub fn set_prompt_lookup(&mut self, lookup: Option<speculative::PromptLookup>) {
        self.prompt_lookup = lookup;
    }

    /// [`Self::count_tokens`] for other threads (a [`shared::SharedEngine`]'s clients).
    pub fn token_counter(&self) -> shared::TokenCounter {
        let tokenizer = self.tokenizer.clone();
        std::sync::Arc::new(move |text: &str| count_with(&tokenizer, text))
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The usable context window in tokens.
    pub fn context_window(&self) -> usize {
        self.info.context_length.min(MAX_CONTEXT)
    }

    pub fn count_tokens(&self, text: &str) -> usize {
        count_with(&self.tokenizer, text)
    }

    /// The prompt's token ids, as the model will see them.
    pub fn prompt_tokens(&self, messages: &[Message]) -> Result<Vec<u32>> {
        let pieces = self.format.render(messages).map_err(|e| {
            Error::Inference(format!("the model's chat template cannot be used: {e}"))
        })?;
        let mut ids = self.tokens_of(&pieces)?;
        if let Some(bos) = self.bos.filter(|&b| ids.first() != Some(&b)) {
            ids.insert(0, bos);
        }
        ids.extend_from_slice(&self.answer_prefix);
        Ok(ids)
    }

    /// Whether prompts come from the model's own chat template (else: the built-in ChatML).
    pub fn uses_chat_template(&self) -> bool {
        matches!(self.format, PromptFormat::Template { .. })
    }

    /// Token ids of prompt pieces: control tokens by id, a template's own text with its
    /// control-token spellings as control tokens, message text as plain text only. The plain
    /// text between two control tokens is encoded as one string, as llama.cpp does (so a
    /// SentencePiece model's space prefix comes once per run, and merges cross from a
    /// template's text into a message's); the tokenizer never makes control tokens of it.
    pub fn tokens_of(&self, pieces: &[Piece]) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut plain = String::new();
        let flush = |plain: &mut String, ids: &mut Vec<u32>| -> Result<()> {
            if !plain.is_empty() {
                let enc = self
                    .tokenizer
                    .encode(plain.as_str(), false)
                    .map_err(|e| Error::Inference(format!("tokenizer: {e}")))?;
                ids.extend_from_slice(enc.get_ids());
                plain.clear();
            }
            Ok(())
        };
        for piece in pieces {
            match piece {
                Piece::Format(text) => {
                    let mut at = 0;
                    while at < text.len() {
                        let found = self
                            .control_first_bytes
                            .contains(&text.as_bytes()[at])
                            .then(|| {
                                self.control_spellings
                                    .iter()
                                    .find(|(s, _)| text[at..].starts_with(s.as_str()))
                            })
                            .flatten();
                        if let Some((s, id)) = found {
                            flush(&mut plain, &mut ids)?;
                            ids.push(*id);
                            at += s.len();
                        } else {
                            let c = text[at..].chars().next().unwrap_or(' ');
                            plain.push(c);
                            at += c.len_utf8();
                        }
                    }
                }
                Piece::Control(tok) => {
                    flush(&mut plain, &mut ids)?;
                    ids.push(
                        self.tokenizer
                            .token_to_id(tok)
                            .ok_or_else(|| Error::Inference(format!("token {tok} missing")))?,
                    );
                }
                Piece::Text(text) => plain.push_str(&strip_control_tokens(text)),
            }
        }
        flush(&mut plain, &mut ids)?;
        Ok(ids)
    }

    fn check_prompt(&self, prompt: &[u32], params: &GenerationParams) -> Result<usize> {
        if prompt.is_empty() {
            return Err(Error::Inference("empty prompt".into()));
        }
        let window = self.context_window();
        if prompt.len() + 1 >= window {
            return Err(Error::Inference(format!(
                "the prompt has {} tokens, more than the model's {window}-token window",
                prompt.len()
            )));
        }
        Ok(params.max_new_tokens.min(window - prompt.len() - 1))
    }

    /// Runs one chat turn. `on_text` receives each new piece of text as it is generated.
    /// Stops at `<|im_end|>`, at `max_new_tokens`, on a detected loop, or when `cancel` is set
    /// (then returns `Error::Cancelled`).
    pub fn generate(
        &mut self,
        messages: &[Message],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str),
        cancel: &CancelToken,
    ) -> Result<Generation> {
        let prompt = self.prompt_tokens(messages)?;
        let max_new = self.check_prompt(&prompt, params)?;
        let mut sampler = Sampler::new(params);

        // Reuse what the cache already holds of this prompt (the instructions, typically), then
        // prefill the rest in chunks so cancellation stays responsive.
        let started = Instant::now();
        let reused = self.cache_for(&prompt);
        self.cache.truncate(reused);
        let mut next = None;
        let chunks = prompt[reused..].len().div_ceil(PREFILL_CHUNK);
        for (i, chunk) in prompt[reused..].chunks(PREFILL_CHUNK).enumerate() {
            cancel.check()?;
            let logits = self.model.forward(&mut self.cache, chunk)?;
            // Only the last chunk's logits pick the first token (a sampler draws once).
            if i + 1 == chunks {
                next = Some(sampler.next(logits, &[])?);
            }
        }
        let prefill_secs = started.elapsed().as_secs_f64();
        let mut next = next.ok_or_else(|| Error::Inference("empty prompt".into()))?;

        let decode_start = Instant::now();
        let mut seq = Sequence::new(&self.tokenizer, max_new);
        // Drafts need a deterministic choice to compare with: greedy (a repeat penalty is
        // deterministic too: each row is judged after the guesses before it are accepted).
        let lookup = self.prompt_lookup.filter(|_| sampler.greedy());
        let mut context = if lookup.is_some() {
            prompt.clone()
        } else {
            Vec::new()
        };
        let mut draft = Vec::new();
        let vocab = self.model.vocab_size();
        loop {
            cancel.check()?;
            if seq.accept(next, &self.stop_tokens, &mut |t| on_text(t)) {
                break;
            }
            let Some(lookup) = lookup else {
                let logits = self.model.forward(&mut self.cache, &[next])?;
                next = sampler.next(logits, &seq.generated)?;
                continue;
            };
            // Guess the tokens after `next`, run them all, keep the guesses the model agrees
            // with (each row's greedy choice is the next token), forget the rest.
            context.push(next);
            let room = (self.cache.capacity() - self.cache.len())
                .min(max_new - seq.generated.len() + 1)
                .saturating_sub(1);
            lookup.draft(&context, room, &mut draft);
            let mut input = Vec::with_capacity(1 + draft.len());
            input.push(next);
            input.extend_from_slice(&draft);
            let logits = self.model.forward_all(&mut self.cache, &input)?;
            next = sampler.next(&logits[..vocab], &seq.generated)?;
            let mut agreed = 0;
            let mut finished = false;
            for (j, &guess) in draft.iter().enumerate() {
                if next != guess {
                    break;
                }
                agreed += 1;
                context.push(guess);
                if seq.accept(guess, &self.stop_tokens, &mut |t| on_text(t)) {
                    finished = true;
                    break;
                }
                next = sampler.next(&logits[(j + 1) * vocab..][..vocab], &seq.generated)?;
            }
            self.cache
                .truncate(self.cache.len() - (draft.len() - agreed));
            self.stats.draft_tokens += draft.len() as u64;
            self.stats.accepted_draft_tokens += agreed as u64;
            if finished {
                break;
            }
        }
        let decode_secs = decode_start.elapsed().as_secs_f64();
        let mut gen = seq.finish(
            &self.tokenizer,
            &mut |t| on_text(t),
            prompt.len(),
            reused,
            prefill_secs,
            decode_secs,
        )?;
        gen.logprob = sampler.logprob();
        self.record(&gen);
        Ok(gen)
    }

    /// Runs many independent chat turns with continuous batching: up to `max_parallel`
    /// conversations decode together, one token each per step, so every weight is read once per
    /// step for all of them; when one finishes, the next one `jobs` offers takes its place. Each
    /// prompt reuses the instructions it shares with the previous one (computed once, copied).
    /// Prompts are built when a slot frees, so a job can use what earlier jobs produced.
    pub fn run_jobs(
        &mut self,
        jobs: &mut dyn JobSource,
        max_parallel: usize,
        cancel: &CancelToken,
    ) -> Result<()> {
        struct Running<'t> {
            id: usize,
            cache: KvCache,
            sampler: Sampler,
            seq: Sequence<'t>,
            prompt_tokens: usize,
            reused: usize,
            prefill_secs: f64,
            started: Instant,
            pending: u32,
        }
        let max_parallel = max_parallel.max(1);
        let mut running: Vec<Running> = Vec::with_capacity(max_parallel);
        let vocab = self.model.vocab_size();
        loop {
            cancel.check()?;
            running.retain(|r| !jobs.abandoned(r.id));
            // Fill free slots (a source may offer new jobs after one is done, e.g. a retry).
            while running.len() < max_parallel {
                let Some(job) = jobs.next_job() else {
                    break;
                };
                let prepared = self.prompt_tokens(&job.messages).and_then(|prompt| {
                    let max_new = self.check_prompt(&prompt, &job.params)?;
                    Ok((prompt, max_new))
                });
                let (prompt, max_new) = match prepared {
                    Ok(prepared) => prepared,
                    Err(e) => {
                        jobs.failed(job.id, e)?;
                        continue;
                    }
                };
                let started = Instant::now();
                // The main cache takes this prompt (all but its last token) after what it shares
                // with the previous one; the job's own cache is a copy of that.
                let keep = prompt.len() - 1;
                let reused = cache_for(
                    &self.model,
                    &mut self.cache,
                    &mut self.other_prompts,
                    self.prompt_store.as_mut(),
                    &prompt,
                );
                self.cache.truncate(reused);
                for chunk in prompt[reused..keep].chunks(PREFILL_CHUNK) {
                    cancel.check()?;
                    self.model.forward(&mut self.cache, chunk)?;
                }
                let mut cache = self.model.new_cache(prompt.len() + max_new + 1);
                cache.copy_prefix(&self.cache, keep)?;
                let prefill_secs = started.elapsed().as_secs_f64();
                self.stats.prompt_tokens += (keep - reused) as u64;
                self.stats.reused_tokens += reused as u64;
                self.stats.prefill_secs += prefill_secs;
                running.push(Running {
                    id: job.id,
                    cache,
                    sampler: Sampler::new(&job.params),
                    seq: Sequence::new(&self.tokenizer, max_new),
                    prompt_tokens: prompt.len(),
                    reused,
                    prefill_secs,
                    started: Instant::now(),
                    pending: prompt[keep],
                });
            }
            if running.is_empty() {
                return Ok(());
            }
            // One step for every running conversation.
            let step_start = Instant::now();
            let inputs: Vec<[u32; 1]> = running.iter().map(|r| [r.pending]).collect();
            let input_refs: Vec<&[u32]> = inputs.iter().map(|t| &t[..]).collect();
            let mut cache_refs: Vec<&mut KvCache> =
                running.iter_mut().map(|r| &mut r.cache).collect();
            let logits = self.model.forward_batch(&mut cache_refs, &input_refs)?;
            let mut finished = Vec::new();
            for (row, r) in running.iter_mut().enumerate() {
                let next = r
                    .sampler
                    .next(&logits[row * vocab..][..vocab], &r.seq.generated)?;
                let id = r.id;
                if r.seq
                    .accept(next, &self.stop_tokens, &mut |t| jobs.on_text(id, t))
                {
                    finished.push(row);
                } else {
                    r.pending = next;
                }
            }
            self.stats.decode_secs += step_start.elapsed().as_secs_f64();
            for row in finished.into_iter().rev() {
                let r = running.remove(row);
                let id = r.id;
                let finished = r.seq.finish(
                    &self.tokenizer,
                    &mut |t| jobs.on_text(id, t),
                    r.prompt_tokens,
                    r.reused,
                    r.prefill_secs,
                    r.started.elapsed().as_secs_f64(),
                );
                match finished {
                    Ok(mut gen) => {
                        gen.logprob = r.sampler.logprob();
                        self.stats.generated_tokens += gen.generated_tokens as u64;
                        jobs.done(id, gen)?;
                    }
                    // This conversation's text, not the engine, failed.
                    Err(e) => jobs.failed(id, e)?,
                }
            }
        }
    }

    fn cache_for(&mut self, prompt: &[u32]) -> usize {
        cache_for(
            &self.model,
            &mut self.cache,
            &mut self.other_prompts,
            self.prompt_store.as_mut(),
            prompt,
        )
    }

    /// Keeps computed prompt starts in `store` for later runs (or not, with `None`); by
    /// default beside the model's tile cache ([`caches::prompt_store`]).
    pub fn set_prompt_store(&mut self, store: Option<prompt_cache::PromptStore>) {
        self.prompt_store = store;
    }

    /// Runs the given conversations with [`Self::run_jobs`] and returns their results in order.
    pub fn generate_batch(
        &mut self,
        conversations: &[Vec<Message>],
        params: &GenerationParams,
        max_parallel: usize,
        on_text: &mut dyn FnMut(usize, &str),
        cancel: &CancelToken,
    ) -> Result<Vec<Generation>> {
        struct Fixed<'a> {
            queue: std::collections::VecDeque<Job>,
            results: Vec<Option<Generation>>,
            on_text: &'a mut dyn FnMut(usize, &str),
        }
        impl JobSource for Fixed<'_> {
            fn next_job(&mut self) -> Option<Job> {
                self.queue.pop_front()
            }
            fn on_text(&mut self, id: usize, text: &str) {
                (self.on_text)(id, text)
            }
            fn done(&mut self, id: usize, generation: Generation) -> Result<()> {
                self.results[id] = Some(generation);
                Ok(())
            }
        }
        let mut source = Fixed {
            queue: conversations
                .iter()
                .enumerate()
                .map(|(id, messages)| Job {
                    id,
                    messages: messages.clone(),
                    params: params.clone(),
                })
                .collect(),
            results: vec![None; conversations.len()],
            on_text,
        };
        self.run_jobs(&mut source, max_parallel, cancel)?;
        source
            .results
            .into_iter()
            .map(|g| g.ok_or_else(|| Error::Inference("a conversation did not finish".into())))
            .collect()
    }

    fn record(&mut self, gen: &Generation) {
        self.stats.prompt_tokens += (gen.prompt_tokens - gen.reused_tokens) as u64;
        self.stats.reused_tokens += gen.reused_tokens as u64;
        self.stats.generated_tokens += gen.generated_tokens as u64;
        self.stats.prefill_secs += gen.prefill_secs;
        self.stats.decode_secs += gen.decode_secs;
    }
}

/// Makes `cache` the cache holding the longest start of `prompt` (swapping it with one of
/// `others`, or reading it from `store`) and returns how many of its tokens need no
/// processing. A prompt sharing little with the current one (a different kind of request) is
/// computed in another cache, so the current instructions stay for the prompts that come back
/// to them. Starts shared by prompts are kept in `store` for later runs.
fn cache_for(
    model: &Decoder,
    cache: &mut KvCache,
    others: &mut Vec<KvCache>,
    store: Option<&mut prompt_cache::PromptStore>,
    prompt: &[u32],
) -> usize {
    let in_memory = choose_cache(model, cache, others, prompt);
    let Some(store) = store else {
        return in_memory;
    };
    if in_memory >= MIN_SHARED_PROMPT {
        store.note_shared(cache, in_memory);
        return in_memory;
    }
    // Read or not (a file that fails half-way leaves the cache empty), the cache says what
    // it holds.
    store.load_longest(prompt, in_memory, cache);
    cache.prefix_len(prompt)
}

/// [`cache_for`] among the caches in memory.
fn choose_cache(
    model: &Decoder,
    cache: &mut KvCache,
    others: &mut Vec<KvCache>,
    prompt: &[u32],
) -> usize {
    let current = cache.prefix_len(prompt);
    let best_other = (others.iter())
        .map(|c| c.prefix_len(prompt))
        .enumerate()
        .max_by_key(|&(i, n)| (n, i));
    let index = match best_other {
        Some((i, n)) if n > current => i,
        _ if current < MIN_SHARED_PROMPT && cache.len() >= MIN_SHARED_PROMPT => {
            if others.len() < OTHER_PROMPTS {
                others.push(model.new_cache(model.max_positions()));
                others.len() - 1
            } else {
                0
            }
        }
        _ => return current,
    };
    let mut chosen = others.remove(index);
    std::mem::swap(&mut chosen, cache);
    others.push(chosen);
    cache.prefix_len(prompt)
}

/// One conversation's output as it is generated: stop, length and loop handling, streaming.
struct Sequence<'t> {
    stream: TokenStream<'t>,
    generated: Vec<u32>,
    max_new: usize,
    finish: FinishReason,
}

impl<'t> Sequence<'t> {
    fn new(tokenizer: &'t Tokenizer, max_new: usize) -> Self {
        Self {
            stream: TokenStream::new(tokenizer),
            generated: Vec::with_capacity(max_new),
            max_new,
            finish: FinishReason::Length,
        }
    }

    /// Takes the sampled token; true when the sequence is finished (nothing more to feed).
    fn accept(&mut self, next: u32, stop: &[u32], on_text: &mut dyn FnMut(&str)) -> bool {
        if self.generated.len() >= self.max_new {
            return true;
        }
        if stop.contains(&next) {
            self.finish = FinishReason::Stop;
            return true;
        }
        self.generated.push(next);
        if let Some(piece) = self.stream.push(next) {
            on_text(&piece);
        }
        if let Some(cut) = repetition_start(&self.generated) {
            self.generated.truncate(cut);
            self.finish = FinishReason::Loop;
            return true;
        }
        self.generated.len() >= self.max_new
    }

    fn finish(
        mut self,
        tokenizer: &Tokenizer,
        on_text: &mut dyn FnMut(&str),
        prompt_tokens: usize,
        reused_tokens: usize,
        prefill_secs: f64,
        decode_secs: f64,
    ) -> Result<Generation> {
        if self.finish != FinishReason::Loop {
            if let Some(rest) = self.stream.finish() {
                on_text(&rest);
            }
        }
        let text = tokenizer
            .decode(&self.generated, true)
            .map_err(|e| Error::Inference(format!("tokenizer: {e}")))?;
        Ok(Generation {
            text,
            prompt_tokens,
            reused_tokens,
            generated_tokens: self.generated.len(),
            finish: self.finish,
            prefill_secs,
            decode_secs,
            // The caller's sampler knows it.
            logprob: LogProb::default(),
        })
    }
}

/// Removes control-token spellings from untrusted text so it cannot end a turn or open one.
fn strip_control_tokens(text: &str) -> String {
    let mut out = text.to_string();
    // Repeat until stable: removing one spelling can join the pieces of another.
    loop {
        let before = out.len();
        for t in [
            chat::IM_START,
            chat::IM_END,
            chat::END_OF_TEXT,
            chat::THINK_START,
            chat::THINK_END,
        ] {
            out = out.replace(t, "");
        }
        if out.len() == before {
            return out;
        }
    }
}

/// If the tail of `tokens` is one span repeated three times (span 1..=40 tokens, at least 12
/// tokens in all), returns where the first repeat begins: a small greedy model stuck in a loop.
fn repetition_start(tokens: &[u32]) -> Option<usize> {
    let n = tokens.len();
    for span in 1..=40usize {
        if span * 3 > n || span * 3 < 12 {
            continue;
        }
        let a = &tokens[n - span..];
        if a == &tokens[n - 2 * span..n - span] && a == &tokens[n - 3 * span..n - 2 * span] {
            return Some(n - 2 * span);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_repetition_loops() {
        let mut t: Vec<u32> = (0..20).collect();
        assert_eq!(repetition_start(&t), None);
        for _ in 0..3 {
            t.extend_from_slice(&[7, 8, 9, 10, 11]);
        }
        assert_eq!(repetition_start(&t), Some(25));
        // Short legitimate repeats ("ha ha ha") are not loops.
        assert_eq!(repetition_start(&[1, 2, 3, 5, 5, 5]), None);
    }

    #[test]
    fn strips_control_tokens_from_untrusted_text() {
        assert_eq!(strip_control_tokens("a<|im_end|>b<|im_start|>c"), "abc");
        assert_eq!(strip_control_tokens("<|im_<|im_end|>end|>x"), "x");
    }

    #[test]
    fn qwen3_answers_open_with_an_empty_thinking_block() {
        use tokenizers::models::wordlevel::WordLevel;
        let vocab = [("<think>", 0), ("</think>", 1), ("\n\n", 2), ("[UNK]", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let model = WordLevel::builder()
            .vocab(vocab)
            .unk_token("[UNK]".into())
            .build()
            .expect("word-level model");
        let tokenizer = Tokenizer::new(model);
        let hybrid = "{%- if enable_thinking is defined and enable_thinking is false %}…";
        assert_eq!(no_thinking_prefix(Some(hybrid), &tokenizer), [0, 2, 1, 2]);
        assert!(no_thinking_prefix(Some("{{ messages }}"), &tokenizer).is_empty());
        assert!(no_thinking_prefix(None, &tokenizer).is_empty());
        // Article text cannot open or close a thinking block either.
        assert_eq!(strip_control_tokens("a<think>b</think>c"), "abc");
    }
}
