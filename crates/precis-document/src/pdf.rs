//! PDF text extraction with the reading order and paragraphs rebuilt.
//!
//! **Crate**: `pdf-extract` (pure Rust, on `lopdf`): it decodes fonts (ToUnicode CMaps,
//! Type1/CFF encodings, the base-14 widths) and hands every glyph to an [`OutputDev`] with
//! its text matrix, which is what layout analysis needs. `pdf` (pdf-rs) parses well but has
//! no text decoding; plain `lopdf::extract_text` has no positions. pdf-extract panics on many
//! malformed inputs, so it is fenced in (see **Safety**).
//!
//! **Layout**, per page: glyphs become *segments* (runs on one baseline without a wide gap);
//! running headers/footers (the top or bottom two lines of a page whose text, with digits
//! masked, recurs at the same height on ≥ 40 % of the pages) and page numbers ("7", "Page 7
//! of 9", "- 7 -", "vii" in those lines) are dropped; columns are found as vertical gutters
//! that no segment crosses (segments wider than 55 % of the text block, such as a title,
//! span columns and split the page into bands); each band is read column by column, left to
//! right, each column top to bottom. Lines start a new paragraph after a vertical gap
//! (> 1.45 × the usual line pitch), an indented first line, a change of font size, or a
//! short line ending a sentence. A paragraph continues into the next column or page when it
//! has no final punctuation and the next line starts in lower case.
//!
//! **Hyphens** at a line end: a soft hyphen is always removed. A hard hyphen between two
//! lower-case letters is removed ("inter-" + "national" → "international") unless the
//! hyphenated word occurs elsewhere in the document and the joined word does not (so
//! "cease-" + "fire" stays "cease-fire" in an article that writes "cease-fire" on another
//! line). Other hyphens ("COVID-" + "19", "Jean-" + "Pierre") are kept, halves joined.
//!
//! **Title**: the Info dictionary's `/Title` or XMP `dc:title` (unless it looks like a file
//! name or a placeholder), else the largest-font lines at the top of page 1 when they are
//! clearly larger than the body text. `/Author` gives the byline, `/CreationDate` the date.
//!
//! **Safety**: the parser runs on its own thread (large stack) under `catch_unwind`, per
//! page, with a wall-clock deadline; its panics never reach the caller and are not printed.
//! Before parsing, every Flate stream is inflated with a cap (a "PDF bomb" is refused), and
//! the drawing graph is checked: Form XObjects that invoke themselves (pdf-extract would
//! recurse until the stack overflows) or expand exponentially are refused, and image
//! XObjects are replaced by empty forms (pdf-extract would otherwise parse image bytes as
//! drawing operators). Page count and extracted characters are capped.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::{mpsc, Once};
use std::time::{Duration, Instant};

use pdf_extract::{Dictionary, MediaBox, Object, ObjectId, OutputDev, OutputError, Stream};

use super::plain::letters_and_digits;
use super::raw::RawDocument;
use super::ReadError;

/// Pages read at most (a longer document is refused rather than silently cut).
const MAX_PAGES: usize = 5_000;
/// Characters extracted at most.
const MAX_CHARS: usize = 20_000_000;
/// One stream may inflate to at most this many bytes.
const MAX_STREAM_BYTES: u64 = 128 * 1024 * 1024;
/// All streams together may inflate to at most this many bytes.
const MAX_TOTAL_INFLATED: u64 = 768 * 1024 * 1024;
/// Form XObject invocations (upper bound) allowed for one page.
const MAX_FORM_EXPANSION: u64 = 200_000;
/// Wall-clock budget for reading one PDF.
const DEADLINE: Duration = Duration::from_secs(120);
/// Stack for the parser thread (lopdf and pdf-extract recurse on nested objects).
const PARSER_STACK: usize = 256 * 1024 * 1024;
/// Name of the parser thread; the panic hook stays silent for it.
const THREAD_NAME: &str = "precis-pdf-reader";

/// Reads a PDF into title, byline, date and paragraphs. `name` is used in error messages.
pub(crate) fn parse_pdf(bytes: &[u8], name: &str) -> Result<RawDocument, ReadError> {
    install_quiet_panic_hook();
    let owned = bytes.to_vec();
    let worker_name = name.to_owned();
    let (tx, rx) = mpsc::channel();
    let deadline = Instant::now() + DEADLINE;
    let spawned = std::thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .stack_size(PARSER_STACK)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                extract(&owned, &worker_name, deadline)
            }))
            .unwrap_or_else(|_| {
                Err(ReadError::Corrupt {
                    name: worker_name.clone(),
                    reason: "the PDF parser failed on its internal structure".to_owned(),
                })
            });
            let _ = tx.send(result);
        });
    if spawned.is_err() {
        return Err(ReadError::Corrupt {
            name: name.to_owned(),
            reason: "no thread could be started to read it".to_owned(),
        });
    }
    // On timeout the worker is abandoned (it stops at its next deadline check).
    match rx.recv_timeout(DEADLINE + Duration::from_secs(5)) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(limit(
            name,
            format!("reading it took longer than {} s", DEADLINE.as_secs()),
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ReadError::Corrupt {
            name: name.to_owned(),
            reason: "the PDF parser stopped unexpectedly".to_owned(),
        }),
    }
}

fn limit(name: &str, detail: String) -> ReadError {
    ReadError::Limit {
        name: name.to_owned(),
        detail,
    }
}

fn corrupt(name: &str, reason: impl Into<String>) -> ReadError {
    ReadError::Corrupt {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// pdf-extract reports malformed input by panicking; those panics are caught, so keep them
/// off stderr. Panics on other threads still go to the previous hook.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(THREAD_NAME) {
                previous(info);
            }
        }));
    });
}

// ---------------------------------------------------------------------------
// Loading and hardening

fn extract(bytes: &[u8], name: &str, deadline: Instant) -> Result<RawDocument, ReadError> {
    check_inflation(bytes, name)?;
    let has_encrypt = find(bytes, b"/Encrypt").is_some();
    let mut doc = match pdf_extract::Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(e) if has_encrypt => {
            // lopdf fails this way on encryption it cannot open.
            let _ = e;
            return Err(ReadError::Encrypted {
                name: name.to_owned(),
            });
        }
        Err(e) => return Err(corrupt(name, first_line(&e.to_string()))),
    };
    if doc.trailer.get(b"Encrypt").is_ok() && doc.encryption_state.is_none() {
        // An empty user password did not open it.
        return Err(ReadError::Encrypted {
            name: name.to_owned(),
        });
    }
    let pages: Vec<(u32, ObjectId)> = doc.get_pages().into_iter().collect();
    if pages.is_empty() {
        return Err(corrupt(name, "it has no pages"));
    }
    if pages.len() > MAX_PAGES {
        return Err(limit(
            name,
            format!(
                "it has {} pages, more than the {MAX_PAGES} read at most",
                pages.len()
            ),
        ));
    }
    let had_images = neutralize_images(&mut doc);
    check_forms(&doc, &pages, name)?;
    check_page_trees(&doc, &pages, name)?;
    let meta = read_metadata(&doc);

    let mut sink = Collector::new(deadline);
    for &(number, _) in &pages {
        if Instant::now() > deadline {
            return Err(limit(
                name,
                format!("reading it took longer than {} s", DEADLINE.as_secs()),
            ));
        }
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut sink, number)
        }));
        match ok {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => {
                // A page the parser cannot handle is skipped; the rest of the
                // document is still read (as viewers do).
                sink.abandon_page();
                if sink.stop.is_some() {
                    break;
                }
                sink.failed_pages += 1;
            }
        }
    }
    match sink.stop {
        Some(Stop::Deadline) => {
            return Err(limit(
                name,
                format!("reading it took longer than {} s", DEADLINE.as_secs()),
            ))
        }
        Some(Stop::TooMuchText) => {
            return Err(limit(
                name,
                format!("it holds more than {MAX_CHARS} characters of text"),
            ))
        }
        None => {}
    }
    if sink.failed_pages == pages.len() {
        return Err(corrupt(name, "none of its pages could be read"));
    }
    let text_chars: usize = sink
        .pages
        .iter()
        .flat_map(|p| &p.glyphs)
        .filter(|g| !g.text.trim().is_empty())
        .count();
    if text_chars == 0 {
        return if had_images {
            Err(ReadError::NoTextLayer {
                name: name.to_owned(),
            })
        } else {
            Err(ReadError::NoText {
                name: name.to_owned(),
            })
        };
    }
    let layout = layout_document(&sink.pages);
    let mut raw = assemble(layout, meta.title);
    raw.byline = meta.byline;
    raw.published = meta.published;
    Ok(raw)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Inflates every zlib stream in the file with a cap, so lopdf (which inflates without
/// limits) never sees a stream that unpacks to gigabytes.
fn check_inflation(bytes: &[u8], name: &str) -> Result<(), ReadError> {
    let mut total: u64 = 0;
    let mut at = 0;
    while let Some(pos) = find(&bytes[at..], b"stream") {
        let start = at + pos;
        at = start + 6;
        if start >= 3 && &bytes[start - 3..start] == b"end" {
            continue;
        }
        let mut data = &bytes[at..];
        if data.starts_with(b"\r\n") {
            data = &data[2..];
        } else if data.starts_with(b"\n") || data.starts_with(b"\r") {
            data = &data[1..];
        } else {
            continue;
        }
        let mut size = inflated_size(flate2::read::ZlibDecoder::new(data));
        if size == 0 && data.len() > 2 {
            // lopdf retries a broken zlib header as raw deflate.
            size = inflated_size(flate2::read::DeflateDecoder::new(&data[2..]));
        }
        if size > MAX_STREAM_BYTES {
            return Err(limit(
                name,
                format!(
                    "a compressed stream unpacks to more than {} MiB (a possible PDF bomb)",
                    MAX_STREAM_BYTES >> 20
                ),
            ));
        }
        total += size;
        if total > MAX_TOTAL_INFLATED {
            return Err(limit(
                name,
                format!(
                    "its compressed streams unpack to more than {} MiB (a possible PDF bomb)",
                    MAX_TOTAL_INFLATED >> 20
                ),
            ));
        }
    }
    Ok(())
}

/// Bytes a decoder yields, counting stops just past the per-stream cap.
fn inflated_size(mut decoder: impl Read) -> u64 {
    let mut buf = [0u8; 64 * 1024];
    let mut size: u64 = 0;
    loop {
        match decoder.read(&mut buf) {
            Ok(0) | Err(_) => return size,
            Ok(n) => {
                size += n as u64;
                if size > MAX_STREAM_BYTES {
                    return size;
                }
            }
        }
    }
}

/// Replaces image XObjects with empty forms; returns whether there were any.
fn neutralize_images(doc: &mut pdf_extract::Document) -> bool {
    let mut found = false;
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object {
            let is_image = stream
                .dict
                .get(b"Subtype")
                .and_then(Object::as_name)
                .is_ok_and(|n| n == b"Image");
            if is_image {
                found = true;
                let mut dict = Dictionary::new();
                dict.set("Type", Object::Name(b"XObject".to_vec()));
                dict.set("Subtype", Object::Name(b"Form".to_vec()));
                dict.set(
                    "BBox",
                    Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
                );
                *stream = Stream::new(dict, Vec::new());
            }
        }
    }
    found
}

fn deref<'a>(doc: &'a pdf_extract::Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

fn dict_entry<'a>(
    doc: &'a pdf_extract::Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Object> {
    dict.get(key).ok().and_then(|o| deref(doc, o))
}

/// The Resources a page uses (inherited through its parents).
fn page_resources<'a>(
    doc: &'a pdf_extract::Document,
    page: &'a Dictionary,
) -> Option<&'a Dictionary> {
    let mut node = page;
    for _ in 0..64 {
        if let Some(Object::Dictionary(res)) = dict_entry(doc, node, b"Resources") {
            return Some(res);
        }
        node = match dict_entry(doc, node, b"Parent") {
            Some(Object::Dictionary(parent)) => parent,
            _ => return None,
        };
    }
    None
}

/// pdf-extract follows `/Parent` recursively for inherited attributes; refuse cycles.
fn check_page_trees(
    doc: &pdf_extract::Document,
    pages: &[(u32, ObjectId)],
    name: &str,
) -> Result<(), ReadError> {
    for &(_, id) in pages {
        let mut seen = HashSet::new();
        let mut current = Some(id);
        while let Some(node) = current {
            if !seen.insert(node) || seen.len() > 256 {
                return Err(corrupt(name, "its page tree loops back on itself"));
            }
            current = doc
                .get_dictionary(node)
                .ok()
                .and_then(|d| d.get(b"Parent").ok())
                .and_then(|p| p.as_reference().ok());
        }
    }
    Ok(())
}

/// Form XObjects a form or page may invoke: `(id, stream)` pairs from a Resources dict.
fn forms_in<'a>(
    doc: &'a pdf_extract::Document,
    resources: Option<&'a Dictionary>,
) -> Vec<(ObjectId, &'a Stream)> {
    let Some(Object::Dictionary(xobjects)) = resources.and_then(|r| dict_entry(doc, r, b"XObject"))
    else {
        return Vec::new();
    };
    xobjects
        .iter()
        .filter_map(|(_, o)| {
            let id = o.as_reference().ok()?;
            match doc.get_object(id).ok()? {
                Object::Stream(s) => Some((id, s)),
                _ => None,
            }
        })
        .collect()
}

/// Counts `Do` operators in a stream (an upper bound on the forms it draws).
fn count_do(stream: &Stream) -> u64 {
    let data = if stream.dict.get(b"Filter").is_ok() {
        stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone())
    } else {
        stream.content.clone()
    };
    count_do_in(&data)
}

fn count_do_in(data: &[u8]) -> u64 {
    data.windows(2)
        .enumerate()
        .filter(|&(i, w)| {
            w == b"Do"
                && (i == 0 || data[i - 1].is_ascii_whitespace() || data[i - 1] == b'/')
                && data.get(i + 2).is_none_or(|c| !c.is_ascii_alphanumeric())
        })
        .count() as u64
}

/// Refuses drawings that pdf-extract would expand forever (a form invoking itself, also
/// through inherited resources) or exponentially (forms drawing forms drawing forms…).
/// The cost of a page is bounded above by `Do`s in its content × the dearest form its
/// resources offer, recursively; forms are memoised so the check itself stays linear.
fn check_forms(
    doc: &pdf_extract::Document,
    pages: &[(u32, ObjectId)],
    name: &str,
) -> Result<(), ReadError> {
    let mut memo = Memo::default();
    for &(_, page_id) in pages {
        let Ok(page) = doc.get_dictionary(page_id) else {
            continue;
        };
        // pdf-extract concatenates a page's content streams; one stream listed a
        // million times would be copied a million times.
        let ids = doc.get_page_contents(page_id);
        let (mut bytes, mut calls) = (0u64, 0u64);
        for id in ids {
            let (len, dos) = *memo.contents.entry(id).or_insert_with(|| {
                match doc.get_object(id).and_then(Object::as_stream) {
                    Ok(stream) => {
                        let data = stream
                            .decompressed_content()
                            .unwrap_or_else(|_| stream.content.clone());
                        (data.len() as u64, count_do_in(&data))
                    }
                    Err(_) => (0, 0),
                }
            });
            bytes = bytes.saturating_add(len);
            calls = calls.saturating_add(dos);
        }
        if bytes > MAX_STREAM_BYTES {
            return Err(limit(
                name,
                format!(
                    "a page's drawing instructions exceed {} MiB",
                    MAX_STREAM_BYTES >> 20
                ),
            ));
        }
        let resources = page_resources(doc, page);
        let mut path = Vec::new();
        let dearest = form_cost(doc, resources, &mut path, &mut memo, name)?;
        if calls.saturating_mul(dearest) > MAX_FORM_EXPANSION {
            return Err(too_many_forms(name));
        }
    }
    Ok(())
}

#[derive(Default)]
struct Memo {
    /// `Do` count per form.
    calls: HashMap<ObjectId, u64>,
    /// Cost per (form, resources it runs with).
    cost: HashMap<(ObjectId, usize), u64>,
    /// Inflated length and `Do` count per page content stream.
    contents: HashMap<ObjectId, (u64, u64)>,
}

fn too_many_forms(name: &str) -> ReadError {
    limit(
        name,
        "its drawings nest too deeply or repeat too often to be read safely".to_owned(),
    )
}

/// The largest number of form invocations one `Do` with these resources can cause.
fn form_cost<'a>(
    doc: &'a pdf_extract::Document,
    resources: Option<&'a Dictionary>,
    path: &mut Vec<ObjectId>,
    memo: &mut Memo,
    name: &str,
) -> Result<u64, ReadError> {
    let mut dearest = 0u64;
    for (id, form) in forms_in(doc, resources) {
        if path.contains(&id) {
            return Err(corrupt(name, "a drawing in it invokes itself in a loop"));
        }
        if path.len() >= 32 {
            return Err(too_many_forms(name));
        }
        let own = match dict_entry(doc, &form.dict, b"Resources") {
            Some(Object::Dictionary(d)) => Some(d),
            // pdf-extract gives a form without Resources its caller's.
            _ => resources,
        };
        let key = (id, own.map_or(0, |d| d as *const Dictionary as usize));
        let cost = match memo.cost.get(&key) {
            Some(&c) => c,
            None => {
                let calls = *memo.calls.entry(id).or_insert_with(|| count_do(form));
                let inner = if calls > 0 {
                    path.push(id);
                    let c = form_cost(doc, own, path, memo, name);
                    path.pop();
                    calls.saturating_mul(c?)
                } else {
                    0
                };
                let c = inner.saturating_add(1);
                if c > MAX_FORM_EXPANSION {
                    return Err(too_many_forms(name));
                }
                memo.cost.insert(key, c);
                c
            }
        };
        dearest = dearest.max(cost);
    }
    Ok(dearest)
}

// ---------------------------------------------------------------------------
// Metadata

struct Meta {
    title: Option<String>,
    byline: Option<String>,
    published: Option<String>,
}

fn read_metadata(doc: &pdf_extract::Document) -> Meta {
    let info = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_dict().ok());
    let text = |key: &[u8]| -> Option<String> {
        let value = info.and_then(|d| dict_entry(doc, d, key))?;
        let s = clean(&decode_pdf_string(value.as_str().ok()?));
        (!s.is_empty()).then_some(s)
    };
    let xmp = xmp_title(doc);
    let title = text(b"Title")
        .filter(|t| usable_title(t))
        .or_else(|| xmp.filter(|t| usable_title(t)));
    let byline = text(b"Author").filter(|a| !is_placeholder(a));
    let published = text(b"CreationDate").and_then(|d| pdf_date(&d));
    Meta {
        title,
        byline,
        published,
    }
}

fn is_placeholder(s: &str) -> bool {
    let lower = s.trim().to_lowercase();
    matches!(
        lower.as_str(),
        "" | "untitled" | "unspecified" | "unknown" | "anonymous" | "title" | "author" | "user"
    )
}

fn usable_title(title: &str) -> bool {
    let lower = title.trim().to_lowercase();
    !is_placeholder(&lower)
        && !lower.starts_with("microsoft word - ")
        && ![
            ".pdf", ".doc", ".docx", ".odt", ".rtf", ".tex", ".dvi", ".indd", ".qxd",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext))
        && title.chars().any(char::is_alphabetic)
}

/// `D:20240131…` → `2024-01-31`.
fn pdf_date(raw: &str) -> Option<String> {
    let s = raw.trim().trim_start_matches("D:");
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let year = &digits[..4];
    match (digits.get(4..6), digits.get(6..8)) {
        (Some(m), Some(d)) => Some(format!("{year}-{m}-{d}")),
        (Some(m), None) => Some(format!("{year}-{m}")),
        _ => Some(year.to_owned()),
    }
}

fn xmp_title(doc: &pdf_extract::Document) -> Option<String> {
    let root = doc
        .trailer
        .get(b"Root")
        .ok()
        .and_then(|o| deref(doc, o))?
        .as_dict()
        .ok()?;
    let Object::Stream(stream) = dict_entry(doc, root, b"Metadata")? else {
        return None;
    };
    let data = if stream.dict.get(b"Filter").is_ok() {
        stream.decompressed_content().ok()?
    } else {
        stream.content.clone()
    };
    let xml = String::from_utf8_lossy(&data);
    let start = xml.find("<dc:title")?;
    let rest = &xml[start..];
    let end = rest.find("</dc:title>")?;
    let inner = &rest[..end];
    // The first rdf:li holds the default-language title.
    let li = inner.find("<rdf:li")?;
    let after = &inner[li..];
    let open_end = after.find('>')? + 1;
    let close = after.find("</rdf:li>")?;
    let title = unescape_xml(after.get(open_end..close)?);
    let title = clean(&title);
    (!title.is_empty()).then_some(title)
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn clean(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// PDF text strings: UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding.
fn decode_pdf_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    const HIGH: [char; 33] = [
        '•', '†', '‡', '…', '—', '–', 'ƒ', '⁄', '‹', '›', '−', '‰', '„', '“', '”', '‘', '’', '‚',
        '™', 'ﬁ', 'ﬂ', 'Ł', 'Œ', 'Š', 'Ÿ', 'Ž', 'ı', 'ł', 'œ', 'š', 'ž', '\u{FFFD}', '€',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0xA0 => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Collecting glyphs

#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    /// Baseline, measured downwards from the top of the page.
    y: f64,
    /// Advance width in page units.
    w: f64,
    size: f64,
    text: String,
}

#[derive(Debug, Default)]
struct PageGlyphs {
    height: f64,
    glyphs: Vec<Glyph>,
}

enum Stop {
    Deadline,
    TooMuchText,
}

struct Collector {
    pages: Vec<PageGlyphs>,
    current: Option<PageGlyphs>,
    top: f64,
    left: f64,
    chars: usize,
    deadline: Instant,
    stop: Option<Stop>,
    failed_pages: usize,
    calls: u32,
}

impl Collector {
    fn new(deadline: Instant) -> Self {
        Collector {
            pages: Vec::new(),
            current: None,
            top: 0.0,
            left: 0.0,
            chars: 0,
            deadline,
            stop: None,
            failed_pages: 0,
            calls: 0,
        }
    }

    /// Keeps what a failed page produced before it failed.
    fn abandon_page(&mut self) {
        if let Some(page) = self.current.take() {
            self.pages.push(page);
        }
    }
}

fn stop_error() -> OutputError {
    OutputError::FormatError(std::fmt::Error)
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.abandon_page();
        let height = (media_box.ury - media_box.lly).abs();
        self.top = media_box.ury.max(media_box.lly);
        self.left = media_box.llx.min(media_box.urx);
        self.current = Some(PageGlyphs {
            height: if height.is_finite() && height > 0.0 {
                height
            } else {
                792.0
            },
            glyphs: Vec::new(),
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.abandon_page();
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &pdf_extract::Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        self.calls = self.calls.wrapping_add(1);
        if self.calls.is_multiple_of(4096) && Instant::now() > self.deadline {
            self.stop = Some(Stop::Deadline);
            return Err(stop_error());
        }
        // Rotated or mirrored text (watermarks, margin labels) is not body text.
        if trm.m12.abs() > 0.1 * trm.m11.abs()
            || trm.m21.abs() > 0.1 * trm.m22.abs()
            || trm.m11 <= 0.0
        {
            return Ok(());
        }
        let size = (font_size * trm.m11 * font_size * trm.m22).abs().sqrt();
        let (x, y) = (trm.m31 - self.left, self.top - trm.m32);
        if !(x.is_finite() && y.is_finite() && size.is_finite()) || size <= 0.0 || char.is_empty() {
            return Ok(());
        }
        self.chars += char.chars().count();
        if self.chars > MAX_CHARS {
            self.stop = Some(Stop::TooMuchText);
            return Err(stop_error());
        }
        let w = width * size;
        if let Some(page) = self.current.as_mut() {
            page.glyphs.push(Glyph {
                x,
                y,
                w: if w.is_finite() { w.max(0.0) } else { 0.0 },
                size,
                text: char.to_owned(),
            });
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Layout

/// A run of glyphs on one baseline.
#[derive(Debug, Clone)]
struct Segment {
    text: String,
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
}

/// A text line of one column, in reading order.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    /// First line of a column (or a new page).
    column_start: bool,
    col_left: f64,
    col_right: f64,
    pitch: f64,
}

fn segments(page: &PageGlyphs) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut cur: Option<Segment> = None;
    let mut pending_space = false;
    for g in &page.glyphs {
        if g.text.chars().all(char::is_whitespace) {
            pending_space = true;
            continue;
        }
        let text = normalize_glyph(&g.text);
        if let Some(seg) = cur.as_mut() {
            let same_line = (g.y - seg.y).abs() <= 0.35 * seg.size.max(g.size);
            let gap = g.x - seg.x1;
            if same_line && gap >= -0.6 * g.size && gap <= 1.0 * g.size.max(seg.size) {
                if (pending_space || gap > 0.15 * g.size) && !seg.text.ends_with(' ') {
                    seg.text.push(' ');
                }
                seg.text.push_str(&text);
                seg.x1 = seg.x1.max(g.x + g.w);
                seg.size = seg.size.max(g.size);
                pending_space = false;
                continue;
            }
        }
        if let Some(seg) = cur.take() {
            out.push(seg);
        }
        pending_space = false;
        cur = Some(Segment {
            text,
            x0: g.x,
            x1: g.x + g.w,
            y: g.y,
            size: g.size,
        });
    }
    out.extend(cur);
    for s in &mut out {
        s.text = s.text.trim().to_owned();
    }
    out.retain(|s| !s.text.is_empty());
    out
}

/// Expands typographic ligatures (fonts often map them to a single code point).
fn normalize_glyph(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'ﬀ' => out.push_str("ff"),
            'ﬁ' => out.push_str("fi"),
            'ﬂ' => out.push_str("fl"),
            'ﬃ' => out.push_str("ffi"),
            'ﬄ' => out.push_str("ffl"),
            'ﬅ' | 'ﬆ' => out.push_str("st"),
            '\u{0}' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text with digits masked, for comparing running headers across pages.
fn header_key(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_page_number(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| matches!(c, '-' | '–' | '—' | '|' | '[' | ']' | '(' | ')'))
        .trim()
        .to_lowercase();
    let t = t
        .strip_prefix("page ")
        .or_else(|| t.strip_prefix("p. "))
        .or_else(|| t.strip_prefix("seite "))
        .unwrap_or(&t)
        .trim();
    let words: Vec<&str> = t.split_whitespace().collect();
    let number = |w: &str| {
        (!w.is_empty() && w.len() <= 5 && w.chars().all(|c| c.is_ascii_digit())) || is_roman(w)
    };
    match words.as_slice() {
        [n] => number(n) || n.split('/').all(number) && n.contains('/'),
        [a, sep, b] => number(a) && matches!(*sep, "of" | "/" | "von" | "de" | "sur") && number(b),
        _ => false,
    }
}

/// A canonical lower-case Roman numeral up to 399 ("xiv", not "civil").
fn is_roman(w: &str) -> bool {
    if w.is_empty() || w.len() > 9 {
        return false;
    }
    let value = |c| match c {
        'i' => Some(1),
        'v' => Some(5),
        'x' => Some(10),
        'l' => Some(50),
        'c' => Some(100),
        _ => None,
    };
    let Some(digits) = w.chars().map(value).collect::<Option<Vec<i32>>>() else {
        return false;
    };
    let mut n = 0;
    for (i, &d) in digits.iter().enumerate() {
        if digits.get(i + 1).is_some_and(|&next| next > d) {
            n -= d;
        } else {
            n += d;
        }
    }
    // Re-render and compare, so only well-formed numerals count.
    let mut m = n;
    let mut canon = String::new();
    for (v, r) in [
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ] {
        while m >= v {
            canon.push_str(r);
            m -= v;
        }
    }
    n > 0 && canon == w
}

/// Indices of segments (per page) that are running headers, footers or page numbers.
fn furniture(pages: &[Vec<Segment>], heights: &[f64]) -> Vec<HashSet<usize>> {
    let body_size = median(pages.iter().flatten().map(|s| s.size).collect()).unwrap_or(10.0);
    // Baselines set apart from the rest of the page by a wide gap (running heads are).
    let isolated: Vec<Vec<f64>> = pages
        .iter()
        .map(|segs| {
            let mut ys: Vec<f64> = segs.iter().map(|s| s.y).collect();
            ys.sort_by(f64::total_cmp);
            ys.dedup_by(|a, b| (*a - *b).abs() < 2.0);
            let n = ys.len();
            let wide = |a: f64, b: f64| (b - a).abs() > 2.0 * body_size;
            let mut out = Vec::new();
            if n >= 2 {
                if wide(ys[0], ys[1]) {
                    out.push(ys[0]);
                }
                if wide(ys[n - 2], ys[n - 1]) {
                    out.push(ys[n - 1]);
                }
            }
            if n >= 3 {
                if wide(ys[1], ys[2]) {
                    out.push(ys[1]);
                }
                if wide(ys[n - 3], ys[n - 2]) {
                    out.push(ys[n - 2]);
                }
            }
            out
        })
        .collect();
    // The top two and bottom two distinct baselines of each page are candidates.
    let candidates: Vec<Vec<usize>> = pages
        .iter()
        .map(|segs| {
            let mut ys: Vec<f64> = segs.iter().map(|s| s.y).collect();
            ys.sort_by(f64::total_cmp);
            ys.dedup_by(|a, b| (*a - *b).abs() < 2.0);
            let n = ys.len();
            let edge: Vec<f64> = if n <= 4 {
                ys.clone()
            } else {
                vec![ys[0], ys[1], ys[n - 2], ys[n - 1]]
            };
            (0..segs.len())
                .filter(|&i| edge.iter().any(|y| (segs[i].y - y).abs() < 2.0))
                .collect()
        })
        .collect();
    // How many pages carry each (masked text, height) pair.
    let mut seen: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
    for (p, idx) in candidates.iter().enumerate() {
        for &i in idx {
            seen.entry(header_key(&pages[p][i].text))
                .or_default()
                .push((p, pages[p][i].y));
        }
    }
    let n_pages = pages.len();
    let needed = ((n_pages as f64) * 0.4).ceil().max(2.0) as usize;
    let mut out = vec![HashSet::new(); n_pages];
    for (p, idx) in candidates.iter().enumerate() {
        for &i in idx {
            let seg = &pages[p][i];
            let near_edge = seg.y < heights[p] * 0.15 || seg.y > heights[p] * 0.85;
            let repeated = n_pages >= 2
                && seen.get(&header_key(&seg.text)).is_some_and(|v| {
                    let mut pages_at_y: Vec<usize> = v
                        .iter()
                        .filter(|(_, y)| (y - seg.y).abs() < 3.0)
                        .map(|(q, _)| *q)
                        .collect();
                    pages_at_y.dedup();
                    pages_at_y.len() >= needed
                });
            // Chapter running heads recur on fewer pages: two suffice for a line at the
            // page edge that a wide gap sets apart from the body.
            let repeated_at_edge = near_edge
                && n_pages >= 3
                && isolated[p].iter().any(|y| (seg.y - y).abs() < 2.0)
                && seen.get(&header_key(&seg.text)).is_some_and(|v| {
                    let mut at_y: Vec<usize> = v
                        .iter()
                        .filter(|(_, y)| (y - seg.y).abs() < 3.0)
                        .map(|(q, _)| *q)
                        .collect();
                    at_y.dedup();
                    at_y.len() >= 2
                });
            if repeated || repeated_at_edge || (near_edge && is_page_number(&seg.text)) {
                out[p].insert(i);
            }
        }
    }
    out
}

fn median(v: Vec<f64>) -> Option<f64> {
    quantile(v, 0.5)
}

fn quantile(mut v: Vec<f64>, q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    Some(v[i.min(v.len() - 1)])
}

/// Column gutters of a page: x-ranges that no (non-spanning) segment crosses.
fn gutters(segs: &[Segment], body_size: f64) -> (Vec<f64>, f64) {
    let left = segs.iter().map(|s| s.x0).fold(f64::INFINITY, f64::min);
    let right = segs.iter().map(|s| s.x1).fold(f64::NEG_INFINITY, f64::max);
    let width = right - left;
    if !(width.is_finite() && width > 0.0) {
        return (Vec::new(), width);
    }
    let bins = (width.ceil() as usize).clamp(1, 20_000);
    let scale = bins as f64 / width;
    let mut covered = vec![false; bins];
    for s in segs.iter().filter(|s| s.x1 - s.x0 < 0.55 * width) {
        let a = (((s.x0 - left) * scale).floor().max(0.0) as usize).min(bins - 1);
        let b = (((s.x1 - left) * scale).ceil().max(0.0) as usize).min(bins);
        for c in &mut covered[a..b] {
            *c = true;
        }
    }
    let mut cuts = Vec::new();
    let mut i = 0;
    while i < bins {
        if covered[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < bins && !covered[i] {
            i += 1;
        }
        if start == 0 || i >= bins {
            continue;
        }
        let gap = (i - start) as f64 / scale;
        if gap < 0.8 * body_size {
            continue;
        }
        let cut = left + (start + i) as f64 / 2.0 / scale;
        cuts.push(cut);
    }
    // A real column has several lines on each side.
    let mut bounds = vec![f64::NEG_INFINITY];
    bounds.extend(cuts.iter().copied());
    bounds.push(f64::INFINITY);
    let mut kept = Vec::new();
    let mut from = f64::NEG_INFINITY;
    for (k, &cut) in cuts.iter().enumerate() {
        let next = bounds[k + 2];
        let before = segs.iter().filter(|s| s.x0 >= from && s.x1 <= cut).count();
        let after = segs.iter().filter(|s| s.x0 >= cut && s.x1 <= next).count();
        if before >= 3 && after >= 3 {
            kept.push(cut);
            from = cut;
        }
    }
    (kept, width)
}

/// Orders a page's segments into column lines.
fn page_lines(segs: Vec<Segment>, body_size: f64) -> Vec<Line> {
    if segs.is_empty() {
        return Vec::new();
    }
    let (cuts, _) = gutters(&segs, body_size);
    let column_of = |s: &Segment| -> Option<usize> {
        // None: the segment spans a gutter.
        let c0 = cuts.iter().filter(|&&c| s.x0 >= c).count();
        let c1 = cuts.iter().filter(|&&c| s.x1 > c).count();
        (c0 == c1).then_some(c0)
    };
    let mut sorted = segs;
    sorted.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let mut out = Vec::new();
    let mut band: Vec<Vec<Segment>> = vec![Vec::new(); cuts.len() + 1];
    for seg in sorted {
        match column_of(&seg) {
            Some(c) => band[c].push(seg),
            None => {
                flush_band(&mut band, &mut out);
                out.extend(column_lines(vec![seg], true));
            }
        }
    }
    flush_band(&mut band, &mut out);
    out
}

fn flush_band(band: &mut [Vec<Segment>], out: &mut Vec<Line>) {
    for column in band.iter_mut() {
        if !column.is_empty() {
            out.extend(column_lines(std::mem::take(column), true));
        }
    }
}

/// Merges a column's segments into lines (same baseline) sorted top to bottom.
fn column_lines(mut segs: Vec<Segment>, first_is_start: bool) -> Vec<Line> {
    segs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let mut merged: Vec<Segment> = Vec::new();
    for s in segs {
        if let Some(last) = merged.last_mut() {
            if (s.y - last.y).abs() <= 0.35 * s.size.max(last.size) {
                last.text.push(' ');
                last.text.push_str(&s.text);
                last.x1 = last.x1.max(s.x1);
                last.x0 = last.x0.min(s.x0);
                last.size = last.size.max(s.size);
                continue;
            }
        }
        merged.push(s);
    }
    let col_left = merged.iter().map(|s| s.x0).fold(f64::INFINITY, f64::min);
    let col_right = merged
        .iter()
        .map(|s| s.x1)
        .fold(f64::NEG_INFINITY, f64::max);
    let pitches: Vec<f64> = merged
        .windows(2)
        .filter(|w| (w[0].size - w[1].size).abs() < 0.5)
        .map(|w| w[1].y - w[0].y)
        .filter(|d| *d > 0.0)
        .collect();
    // A low quantile, not the median: with short paragraphs, half the steps can be
    // paragraph gaps.
    let pitch = quantile(pitches, 0.25).unwrap_or(0.0);
    merged
        .into_iter()
        .enumerate()
        .map(|(i, s)| Line {
            text: s.text,
            x0: s.x0,
            x1: s.x1,
            y: s.y,
            size: s.size,
            column_start: first_is_start && i == 0,
            col_left,
            col_right,
            pitch,
        })
        .collect()
}

struct Layout {
    /// Paragraphs in order; the first-page title candidate is marked.
    paragraphs: Vec<Para>,
}

#[derive(Debug)]
struct Para {
    text: String,
    size: f64,
    page: usize,
    /// Index among page 1's paragraphs (for the title fallback).
    order: usize,
}

fn layout_document(pages: &[PageGlyphs]) -> Layout {
    let segs: Vec<Vec<Segment>> = pages.iter().map(segments).collect();
    let heights: Vec<f64> = pages.iter().map(|p| p.height).collect();
    let drop = furniture(&segs, &heights);
    let body_size = median(
        segs.iter()
            .flatten()
            .flat_map(|s| std::iter::repeat_n(s.size, s.text.chars().count().min(200)))
            .collect(),
    )
    .unwrap_or(10.0);
    let mut lines_by_page: Vec<Vec<Line>> = Vec::new();
    for (p, page) in segs.into_iter().enumerate() {
        let kept: Vec<Segment> = page
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !drop[p].contains(i))
            .map(|(_, s)| s)
            .collect();
        lines_by_page.push(page_lines(kept, body_size));
    }
    let vocabulary = vocabulary(&lines_by_page);
    let mut paragraphs: Vec<Para> = Vec::new();
    let mut prev: Option<Line> = None;
    for (p, lines) in lines_by_page.into_iter().enumerate() {
        for line in lines {
            let new_para = match &prev {
                None => true,
                Some(prev) => starts_paragraph(prev, &line),
            };
            if new_para || paragraphs.is_empty() {
                let order = paragraphs.iter().filter(|q| q.page == p).count();
                paragraphs.push(Para {
                    text: line.text.clone(),
                    size: line.size,
                    page: p,
                    order,
                });
            } else if let Some(para) = paragraphs.last_mut() {
                join_line(&mut para.text, &line.text, &vocabulary);
            }
            prev = Some(line);
        }
    }
    Layout { paragraphs }
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end().chars().last().is_some_and(|c| {
        matches!(
            c,
            '.' | '!' | '?' | ':' | '"' | '”' | '’' | ')' | '…' | '。'
        )
    })
}

fn starts_lowercase(text: &str) -> bool {
    text.chars().next().is_some_and(char::is_lowercase)
}

/// List items start their own paragraph.
fn starts_with_bullet(text: &str) -> bool {
    text.starts_with([
        '•', '◦', '▪', '▫', '‣', '●', '○', '■', '□', '➢', '➤', '✓', '–', '—',
    ])
}

fn starts_paragraph(prev: &Line, line: &Line) -> bool {
    let size_change = (line.size - prev.size).abs() > 0.15 * prev.size.max(line.size);
    if line.column_start {
        // Across columns and pages: continue an unfinished sentence.
        let unfinished = !ends_sentence(&prev.text)
            && (starts_lowercase(&line.text) || prev.text.ends_with('-'));
        return size_change || !unfinished;
    }
    if size_change || starts_with_bullet(&line.text) {
        return true;
    }
    let dy = line.y - prev.y;
    let pitch = if line.pitch > 0.0 {
        line.pitch
    } else {
        1.2 * line.size
    };
    if dy > 1.45 * pitch || dy < 0.0 {
        return true;
    }
    let indent = 0.8 * line.size;
    if line.x0 > line.col_left + indent && prev.x0 <= line.col_left + indent {
        return true;
    }
    let width = line.col_right - line.col_left;
    let short = prev.x1 < line.col_left + 0.75 * width;
    short && ends_sentence(&prev.text)
}

/// Words of the document, for deciding line-end hyphens.
fn vocabulary(pages: &[Vec<Line>]) -> HashSet<String> {
    let mut words = HashSet::new();
    for line in pages.iter().flatten() {
        for w in line.text.split_whitespace() {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
            if !w.is_empty() && !w.ends_with('-') {
                words.insert(w.to_lowercase());
            }
        }
    }
    words
}

/// Appends a line to a paragraph, undoing line-end hyphenation (see the module docs).
fn join_line(para: &mut String, line: &str, vocabulary: &HashSet<String>) {
    if para.ends_with('\u{AD}') {
        para.pop();
        para.push_str(line);
        return;
    }
    if let Some(stem) = para
        .strip_suffix('-')
        .or_else(|| para.strip_suffix('\u{2010}'))
    {
        let before = stem.chars().last();
        let after = line.chars().next();
        let first_part: String = stem
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '-')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let second_part: String = line
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        let lower_pair =
            before.is_some_and(char::is_lowercase) && after.is_some_and(char::is_lowercase);
        let joined = format!("{first_part}{second_part}").to_lowercase();
        let hyphenated = format!("{first_part}-{second_part}").to_lowercase();
        let keep_hyphen =
            !lower_pair || (vocabulary.contains(&hyphenated) && !vocabulary.contains(&joined));
        let stem_len = stem.len();
        if keep_hyphen {
            para.push_str(line);
        } else {
            para.truncate(stem_len);
            para.push_str(line);
        }
        return;
    }
    para.push(' ');
    para.push_str(line);
}

fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (letters_and_digits(a), letters_and_digits(b));
    !a.is_empty() && a == b
}

fn assemble(layout: Layout, meta_title: Option<String>) -> RawDocument {
    let mut paragraphs = layout.paragraphs;
    let body_size = median(
        paragraphs
            .iter()
            .flat_map(|p| std::iter::repeat_n(p.size, p.text.chars().count().min(2_000)))
            .collect(),
    )
    .unwrap_or(10.0);
    // The largest text near the top of page 1, when clearly larger than the body.
    let candidate = paragraphs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.page == 0 && p.order < 8 && p.text.chars().count() <= 300)
        .max_by(|a, b| a.1.size.total_cmp(&b.1.size))
        .filter(|(_, p)| p.size >= 1.25 * body_size)
        .map(|(i, _)| i);
    let title = match meta_title {
        Some(title) => {
            if let Some(i) = paragraphs
                .iter()
                .take(8)
                .position(|p| p.page == 0 && same_text(&p.text, &title))
            {
                paragraphs.remove(i);
            }
            title
        }
        None => match candidate {
            Some(i) => paragraphs.remove(i).text,
            None => String::new(),
        },
    };
    RawDocument {
        title,
        paragraphs: paragraphs.into_iter().map(|p| p.text).collect(),
        ..RawDocument::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> HashSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn hyphen_rule() {
        let v = vocab(&["cease-fire"]);
        let mut p = "talks on inter-".to_owned();
        join_line(&mut p, "national trade", &v);
        assert_eq!(p, "talks on international trade");
        let mut p = "the cease-".to_owned();
        join_line(&mut p, "fire held", &v);
        assert_eq!(p, "the cease-fire held");
        let mut p = "the COVID-".to_owned();
        join_line(&mut p, "19 rules", &v);
        assert_eq!(p, "the COVID-19 rules");
        let mut p = "Jean-".to_owned();
        join_line(&mut p, "Pierre said", &v);
        assert_eq!(p, "Jean-Pierre said");
        let mut p = "soft\u{AD}".to_owned();
        join_line(&mut p, "ware", &v);
        assert_eq!(p, "software");
        let mut p = "a line".to_owned();
        join_line(&mut p, "and more", &v);
        assert_eq!(p, "a line and more");
    }

    #[test]
    fn page_numbers() {
        for yes in [
            "7",
            "- 12 -",
            "Page 3",
            "page 3 of 10",
            "3 / 10",
            "xii",
            "[4]",
            "3/10",
        ] {
            assert!(is_page_number(yes), "{yes}");
        }
        for no in [
            "In 2019 the",
            "Page three",
            "Chapter 2",
            "civil",
            "12 apples",
        ] {
            assert!(!is_page_number(no), "{no}");
        }
    }

    #[test]
    fn metadata_helpers() {
        assert_eq!(
            pdf_date("D:20240131120000+01'00'").as_deref(),
            Some("2024-01-31")
        );
        assert_eq!(pdf_date("2019").as_deref(), Some("2019"));
        assert_eq!(pdf_date("D:"), None);
        assert_eq!(
            decode_pdf_string(b"\xFE\xFF\x00C\x00a\x00f\x00\xE9"),
            "Café"
        );
        assert_eq!(decode_pdf_string(b"\x8DHi\x8E"), "“Hi”");
        assert!(!usable_title("Microsoft Word - report.docx"));
        assert!(!usable_title("untitled"));
        assert!(!usable_title("scan0001.pdf"));
        assert!(usable_title("Floods close valley roads"));
    }

    fn seg(text: &str, x0: f64, x1: f64, y: f64) -> Segment {
        Segment {
            text: text.to_owned(),
            x0,
            x1,
            y,
            size: 10.0,
        }
    }

    #[test]
    fn columns_are_read_left_then_right() {
        let mut segs = vec![seg("Title across both columns here", 50.0, 500.0, 40.0)];
        for i in 0..5 {
            let y = 80.0 + 13.0 * i as f64;
            segs.push(seg(&format!("R{i}"), 300.0, 540.0, y));
            segs.push(seg(&format!("L{i}"), 50.0, 280.0, y));
        }
        let lines = page_lines(segs, 10.0);
        let order: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            order,
            [
                "Title across both columns here",
                "L0",
                "L1",
                "L2",
                "L3",
                "L4",
                "R0",
                "R1",
                "R2",
                "R3",
                "R4"
            ]
        );
    }

    #[test]
    fn ragged_single_column_is_one_column() {
        let segs: Vec<Segment> = (0..8)
            .map(|i| {
                seg(
                    "words",
                    50.0 + if i % 3 == 0 { 12.0 } else { 0.0 },
                    300.0 + 20.0 * (i % 4) as f64,
                    80.0 + 13.0 * i as f64,
                )
            })
            .collect();
        assert!(gutters(&segs, 10.0).0.is_empty());
    }
}
