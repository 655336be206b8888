//! What the commands share: reading input within limits, loading models with progress, and
//! rendering and writing results.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use precis_core::document::{self, Document, ReadLimits};
use precis_core::llm::{Generator, LlmEngine};
use precis_core::models;
use precis_core::mt::{self, MachineTranslator, MarianEngine};
use precis_core::pipeline::{Engines, Outcome};
use precis_core::progress::Stage;
use precis_export::{self as export, ExportFormat, ExportOptions};

use crate::args::{InputArgs, ModelArgs};
use crate::progress;

/// Reads an article file within the limits of `--max-size` and `--chapter`; with `--lines`,
/// one paragraph per line.
pub fn read(path: &Path, input: &InputArgs) -> Result<Document> {
    let limits = ReadLimits {
        max_bytes: input.max_size.saturating_mul(1024 * 1024),
        chapter: input.chapter,
    };
    if path.as_os_str() == "-" {
        if std::io::stdin().is_terminal() {
            eprintln!("precis: reading the article from standard input (end it with Ctrl-D)");
        }
        return Ok(if input.lines {
            document::read_stdin_lines(&limits)?
        } else {
            document::read_stdin(&limits)?
        });
    }
    Ok(if input.lines {
        document::read_lines(path, &limits)?
    } else {
        document::read_file(path, &limits)?
    })
}

/// Loads the LLM `spec` names (a catalog id or a GGUF path; none: the default installed one).
pub fn load_model(spec: Option<&str>, quiet: bool) -> Result<LlmEngine> {
    let path = models::resolve(spec)?;
    let reporter = progress::Reporter::new(quiet);
    reporter.stage(Stage::LoadingModel, &path.display().to_string());
    // As the core's error, like every other (main looks for `precis_core::Error`).
    let engine = LlmEngine::load(&path).map_err(precis_core::Error::from)?;
    reporter.finish();
    Ok(engine)
}

/// Loads the `--translation-model`, if one was given.
pub fn load_translation_model(model: &ModelArgs, quiet: bool) -> Result<Option<MarianEngine>> {
    let Some(spec) = &model.translation_model else {
        return Ok(None);
    };
    let reporter = progress::Reporter::new(quiet);
    reporter.stage(Stage::LoadingModel, spec);
    let engine = mt::load(spec)?;
    reporter.finish();
    Ok(Some(engine))
}

/// The loaded models, as the pipeline takes them.
pub fn engines<'a>(
    llm: &'a mut Option<LlmEngine>,
    translator: &'a mut Option<MarianEngine>,
) -> Engines<'a> {
    Engines {
        llm: llm.as_mut().map(|l| l as &mut dyn Generator),
        translation: translator.as_mut().map(|t| t as &mut dyn MachineTranslator),
    }
}

pub fn emit(text: &str, out: Option<&Path>) -> Result<()> {
    emit_bytes(text.as_bytes(), out)
}

/// Writes `bytes` to `out` atomically, or to stdout.
pub fn emit_bytes(bytes: &[u8], out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) => export::write_atomic(path, bytes)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
        }
    }
    Ok(())
}

/// Renders the outcomes in `format`. JSON is the outcomes themselves (one object for one
/// article, else an array); md and txt join several articles; the others hold one.
pub fn render_all(outcomes: &[Outcome], format: ExportFormat) -> Result<Vec<u8>> {
    if format == ExportFormat::Json {
        let json = match outcomes {
            [outcome] => serde_json::to_string_pretty(outcome)?,
            _ => serde_json::to_string_pretty(outcomes)?,
        };
        return Ok((json + "\n").into_bytes());
    }
    // Everything the run produced goes out: summaries and, with --translate, the bilingual text.
    let opts = ExportOptions {
        include_translation: true,
        processed_at: None,
    };
    if let [outcome] = outcomes {
        return Ok(export::render(outcome, format, &opts)?);
    }
    if !matches!(format, ExportFormat::Md | ExportFormat::Txt) {
        anyhow::bail!(
            "--format {} holds one article; process the files one at a time (or use md, txt or json)",
            format.extension()
        );
    }
    let parts = outcomes
        .iter()
        .map(|o| export::render(o, format, &opts))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(&b"\n---\n\n"[..]))
}
