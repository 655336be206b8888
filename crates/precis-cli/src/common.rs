//! What the commands share: reading input within limits, and rendering and writing results.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use precis_core::document::{self, Document, ReadLimits};
use precis_core::pipeline::Outcome;
use precis_export::{self as export, ExportFormat, ExportOptions};

use precis_core::lang::Language;
use precis_core::progress::{CancelToken, Event};
use precis_core::reading;
use precis_core::translate::KnownTerms;
use precis_store::history::{data_dir, database_path, History};

use crate::args::{GlossaryArgs, InputArgs};

/// The database the window keeps (history, glossary, name memory).
pub fn open_database() -> Result<History> {
    let dir = data_dir().ok_or_else(|| {
        anyhow::anyhow!("no data directory is known for this user; set PRECIS_DATA_DIR")
    })?;
    Ok(History::open(&database_path(&dir))?)
}

/// The terminology a run into `target` brings: the `--glossary` file's entries first, then the
/// stored glossary and the names remembered from articles processed in the window. A database
/// that cannot be opened costs only its entries (with a warning), not the run.
pub fn known_terms(target: &Language, args: &GlossaryArgs) -> Result<KnownTerms> {
    let file = args.entries()?;
    let stored = match open_database().and_then(|db| Ok(db.known_terms(target.code)?)) {
        Ok(known) => known,
        Err(e) => {
            eprintln!("precis: warning: your stored glossary is not used: {e:#}");
            KnownTerms::default()
        }
    };
    Ok(stored.preferring(file))
}

/// Reads an article file within the limits of `--max-size` and `--chapter`; with `--lines`,
/// one paragraph per line. A scan or a picture is read through OCR, page by page (a line per
/// page on stderr unless `quiet`; Ctrl-C stops it).
pub fn read(path: &Path, input: &InputArgs, quiet: bool, cancel: &CancelToken) -> Result<Document> {
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
    if input.lines {
        return Ok(document::read_lines(path, &limits)?);
    }
    let name = path.display().to_string();
    let mut pages = |event: Event| {
        if let (false, Event::Progress { done, total, .. }) = (quiet, event) {
            eprintln!("precis: OCR of {name}: page {done} of {total} read");
        }
    };
    Ok(reading::read_article(path, &limits, &mut pages, cancel)?)
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
