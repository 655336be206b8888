//! Text from scans and pictures through Tesseract: a PDF without a text layer, or an image
//! (PNG, JPEG, TIFF, WebP), is read by the `tesseract` command (Debian: `tesseract-ocr` and
//! `tesseract-ocr-eng`), a PDF's pages first rendered at 300 dpi by poppler's `pdftoppm`
//! (`poppler-utils`). Page by page, with progress and cancel, a page limit and a time limit per
//! page. Tesseract's layout analysis orders columns; the blank lines it leaves between blocks
//! make paragraphs; a word hyphenated at a line end is joined, as in PDFs. The document is
//! marked [`Document::from_ocr`], so the window and exports can say where its text came from.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{read_limited, Document, ReadError, ReadLimits, SourceFormat};

/// Pages read from one scanned PDF at most (a longer one is refused before any work).
pub const MAX_PAGES: usize = 100;
/// The longest one page may take (rendering or recognising).
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(180);
/// Resolution pages are rendered at: what Tesseract is trained for (measured: BENCHMARKS.md).
pub const DPI: u32 = 300;

/// Told of each page read, and asked whether to stop.
pub trait PageObserver {
    fn page_done(&mut self, done: usize, total: usize);
    fn cancelled(&self) -> bool;
}

/// Watches nothing and never cancels.
pub struct Unobserved;

impl PageObserver for Unobserved {
    fn page_done(&mut self, _: usize, _: usize) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// Reads an article file like [`crate::read_file`]; a scan or a picture, which has no text
/// layer, is read through OCR ([`ReadError::Cancelled`] once `observer` says so).
pub fn read_file_with_ocr(
    path: &Path,
    limits: &ReadLimits,
    observer: &mut dyn PageObserver,
) -> Result<Document, ReadError> {
    let (name, bytes) = read_limited(path, limits)?;
    match crate::parse_bytes_with(&bytes, &name, None, limits) {
        Err(ReadError::NoTextLayer { .. }) => recognise(&bytes, &name, limits, observer),
        other => other,
    }
}

/// The text of a scanned PDF or a picture (`bytes`), page by page.
pub fn recognise(
    bytes: &[u8],
    name: &str,
    limits: &ReadLimits,
    observer: &mut dyn PageObserver,
) -> Result<Document, ReadError> {
    let failed = |failure: ToolFailure| match failure {
        ToolFailure::Cancelled => ReadError::Cancelled,
        ToolFailure::Failed(reason) => ReadError::Ocr {
            name: name.to_owned(),
            reason,
        },
    };
    let dir = tempfile::Builder::new()
        .prefix("precis-ocr-")
        .tempdir()
        .map_err(|e| {
            failed(ToolFailure::Failed(format!(
                "no temporary folder for the pages: {e}"
            )))
        })?;
    let is_pdf = crate::sniff::is_pdf(bytes, false);
    let input = dir.path().join(if is_pdf { "scan.pdf" } else { "picture" });
    std::fs::write(&input, bytes).map_err(|e| {
        failed(ToolFailure::Failed(format!(
            "cannot write a temporary copy: {e}"
        )))
    })?;
    let mut texts = Vec::new();
    if is_pdf {
        let pages = page_count(&input, observer).map_err(failed)?;
        if pages > MAX_PAGES {
            return Err(failed(ToolFailure::Failed(format!(
                "it has {pages} pages; OCR reads at most {MAX_PAGES} (split the scan)"
            ))));
        }
        for page in 1..=pages {
            let image = dir.path().join(format!("page-{page}"));
            let mut render = Command::new("pdftoppm");
            render
                .args(["-r", &DPI.to_string(), "-gray", "-png", "-singlefile"])
                .args(["-f", &page.to_string(), "-l", &page.to_string()])
                .arg(&input)
                .arg(&image);
            run(render, "pdftoppm", "poppler-utils", limits, observer).map_err(failed)?;
            texts.push(tesseract(&image.with_extension("png"), limits, observer).map_err(failed)?);
            observer.page_done(page, pages);
        }
    } else {
        texts.push(tesseract(&input, limits, observer).map_err(failed)?);
        observer.page_done(1, 1);
    }
    let mut paragraphs: Vec<String> = texts.iter().flat_map(|t| paragraphs_of(t)).collect();
    if paragraphs.is_empty() {
        return Err(ReadError::NoText {
            name: name.to_owned(),
        });
    }
    // Everything on the page is the article (a scan has no menus to drop); a short first block
    // without a closing stop is its headline.
    let headline = paragraphs[0].chars().count() <= 150
        && !paragraphs[0].ends_with(['.', ',', ';', ':'])
        && paragraphs.len() > 1;
    let title = if headline {
        paragraphs.remove(0)
    } else {
        String::new()
    };
    let raw = crate::raw::RawDocument {
        title,
        paragraphs,
        ..Default::default()
    };
    let format = if is_pdf {
        SourceFormat::Pdf
    } else {
        SourceFormat::Image
    };
    let mut doc = crate::finish(raw, name.to_owned(), format, "OCR")?;
    doc.from_ocr = true;
    Ok(doc)
}

fn page_count(pdf: &Path, observer: &mut dyn PageObserver) -> Result<usize, ToolFailure> {
    let mut info = Command::new("pdfinfo");
    info.arg(pdf);
    let limits = ReadLimits::default();
    let out = run(info, "pdfinfo", "poppler-utils", &limits, observer)?;
    out.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| ToolFailure::Failed("pdfinfo did not say how many pages it has".to_owned()))
}

fn tesseract(
    image: &Path,
    limits: &ReadLimits,
    observer: &mut dyn PageObserver,
) -> Result<String, ToolFailure> {
    let mut command = Command::new("tesseract");
    // --psm 3: fully automatic page segmentation (columns in reading order). One OpenMP
    // thread: Tesseract's default team spins on small machines (measured on 2 cores: 10 s a
    // page with it, 1.5 s without).
    command
        .arg(image)
        .args(["stdout", "-l", "eng", "--psm", "3"])
        .env("OMP_THREAD_LIMIT", "1");
    run(
        command,
        "tesseract",
        "tesseract-ocr tesseract-ocr-eng",
        limits,
        observer,
    )
}

/// Runs a tool to completion within [`PAGE_TIMEOUT`], its output capped at the size limit;
/// stops it when the observer cancels.
fn run(
    mut command: Command,
    tool: &str,
    package: &str,
    limits: &ReadLimits,
    observer: &mut dyn PageObserver,
) -> Result<String, ToolFailure> {
    let failed = |reason: String| ToolFailure::Failed(reason);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            failed(if e.kind() == std::io::ErrorKind::NotFound {
                format!("`{tool}` is not installed; install it (Debian/Ubuntu: `sudo apt install {package}`) to read scans and pictures")
            } else {
                format!("cannot start `{tool}`: {e}")
            })
        })?;
    let cap = limits.max_bytes.max(1 << 20);
    let stdout = child.stdout.take().map(|s| capture(s, cap));
    let stderr = child.stderr.take().map(|s| capture(s, 64 * 1024));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| failed(e.to_string()))? {
            break status;
        }
        if observer.cancelled() {
            stop(&mut child);
            return Err(ToolFailure::Cancelled);
        }
        if started.elapsed() > PAGE_TIMEOUT {
            stop(&mut child);
            return Err(failed(format!(
                "`{tool}` took over {} s on one page",
                PAGE_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = stdout
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    let err = stderr
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    if !status.success() {
        let said = String::from_utf8_lossy(&err);
        let said = said
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(failed(format!("`{tool}` failed ({status}): {said}")));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Why a tool did not give its output.
enum ToolFailure {
    Cancelled,
    Failed(String),
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn capture(mut stream: impl Read + Send + 'static, cap: u64) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = (&mut stream).take(cap).read_to_end(&mut bytes);
        // Drain the rest so the tool never blocks on a full pipe.
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
        bytes
    })
}

/// Tesseract's text as paragraphs: blocks are separated by blank lines; a block's lines are
/// joined, a word hyphenated at a line end put back together; lone page numbers dropped.
pub fn paragraphs_of(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    for block in text.split("\n\n") {
        let mut paragraph = String::new();
        for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if paragraph.is_empty() {
                paragraph.push_str(line);
                continue;
            }
            let continues_lowercase = line.chars().next().is_some_and(char::is_lowercase);
            let hyphenated = paragraph.ends_with('-')
                && paragraph[..paragraph.len() - 1]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphabetic);
            if hyphenated && continues_lowercase {
                paragraph.pop();
            } else {
                paragraph.push(' ');
            }
            paragraph.push_str(line);
        }
        let paragraph = fix_pipes(paragraph.replace('\u{0c}', "").trim());
        let page_number = paragraph
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
        if !paragraph.is_empty() && !page_number {
            paragraphs.push(paragraph);
        }
    }
    paragraphs
}

/// Tesseract reads a capital I in sans-serif type as `|` now and then ("| said"); a `|`
/// standing alone between words is that I (prose has no use for a lone bar).
fn fix_pipes(text: &str) -> String {
    text.split(' ')
        .map(|word| match word {
            "|" => "I",
            "|'m" | "|’m" => "I'm",
            "|'ve" | "|’ve" => "I've",
            "|'d" | "|’d" => "I'd",
            "|'ll" | "|’ll" => "I'll",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_paragraphs_with_hyphenated_words_joined() {
        let text = "The Syrian govern-\nment said on Tues-\nday that talks\nwould resume.\n\n12\n\nA second para-\nGraph stays apart.\n\u{0c}";
        assert_eq!(
            paragraphs_of(text),
            vec![
                "The Syrian government said on Tuesday that talks would resume.",
                "A second para- Graph stays apart."
            ]
        );
        assert_eq!(
            paragraphs_of("| don't use it, |'m sure. A | B"),
            ["I don't use it, I'm sure. A I B"]
        );
    }
}
