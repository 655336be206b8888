//! Text renderings of a finished job (Markdown, plain text, JSON) and atomic file writes.

use std::io::Write;
use std::path::Path;

use crate::pipeline::Outcome;
use crate::summarize::Summary;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Text,
    Json,
}

fn heading(md: bool, level: usize, text: &str) -> String {
    if md {
        format!("{} {text}\n\n", "#".repeat(level))
    } else if level <= 1 {
        format!("{text}\n{}\n\n", "=".repeat(text.chars().count().max(3)))
    } else {
        format!("{text}\n{}\n\n", "-".repeat(text.chars().count().max(3)))
    }
}

fn summary_block(md: bool, s: &Summary, label: &str) -> String {
    let mut out = heading(md, 2, label);
    out.push_str(&s.text());
    out.push_str("\n\n");
    out
}

/// Markdown or plain text: title, source, model, summary (target language, then original),
/// then the translation paragraph by paragraph.
pub fn render_text(o: &Outcome, md: bool) -> String {
    let d = &o.document;
    let mut out = heading(
        md,
        1,
        if d.title.is_empty() {
            &d.source_name
        } else {
            &d.title
        },
    );
    if let Some(sub) = &d.subtitle {
        out.push_str(&if md {
            format!("*{sub}*\n\n")
        } else {
            format!("{sub}\n\n")
        });
    }
    let model = o
        .model
        .as_ref()
        .map(|m| m.name.as_str())
        .unwrap_or("extractive (no model)");
    out.push_str(&format!("Source: {} · Model: {model}\n\n", d.source_name));
    if let Some(s) = &o.summary {
        out.push_str(&summary_block(md, s, &format!("Summary ({})", s.language)));
    }
    if let Some(s) = &o.summary_original {
        out.push_str(&summary_block(md, s, &format!("Summary ({})", s.language)));
    }
    if let Some(t) = &o.translation {
        out.push_str(&heading(md, 2, &format!("Translation ({})", t.language)));
        if !t.title.is_empty() {
            out.push_str(&heading(md, 3, &t.title));
        }
        if let Some(sub) = &t.subtitle {
            out.push_str(&format!("{sub}\n\n"));
        }
        for p in &t.paragraphs {
            out.push_str(&p.text);
            out.push_str("\n\n");
            for w in &p.warnings {
                out.push_str(&if md {
                    format!("> ⚠ {w}\n\n")
                } else {
                    format!("[warning: {w}]\n\n")
                });
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

pub fn render(o: &Outcome, format: Format) -> String {
    match format {
        Format::Markdown => render_text(o, true),
        Format::Text => render_text(o, false),
        Format::Json => serde_json::to_string_pretty(o).unwrap_or_default() + "\n",
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// crash or a full disk never leaves a half-written file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    // Temporary files are created private (0600); a saved document should not be.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(err)?;
    }
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_reports_bad_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.md");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let e = write_atomic(&dir.path().join("missing/out.md"), b"x").unwrap_err();
        assert_eq!(e.code(), "write_failed");
    }
}
