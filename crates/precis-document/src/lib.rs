//! Précis's document readers: an article file of any supported format read into a
//! [`Document`] — title, subtitle, dateline, metadata and body paragraphs split into sentences.
//!
//! This crate owns format detection (by content as well as extension) and the readers for
//! plain text, Markdown, HTML, DOCX, ODT, EPUB, PDF and RTF; decoding (BOMs, UTF-16, legacy
//! encodings); sentence splitting; and the safety limits on what is read (file size, zip
//! bombs, hostile PDFs), with [`ReadError`] saying why a file could not be read.
//!
//! Each format is one reader module plus one entry of the reader table (`READERS`: format,
//! extensions, how it is recognised, parse function), which dispatch by extension and by
//! content both use and [`ARTICLE_EXTENSIONS`] is derived from.
//!
//! It must not depend on a model runtime, storage, the network or a UI: it is what the fuzz
//! targets build, and `precis-core` (which re-exports it as `precis_core::document`) builds
//! the rest on top of it.

mod blocks;
mod docx;
pub mod encoding;
pub mod epub;
pub mod folder;
pub mod html;
pub mod ocr;
mod odt;
mod pdf;
pub mod plain;
pub mod raw;
mod rtf;
pub mod sentences;
mod sniff;
mod text_page;
pub mod zip;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use epub::{epub_chapters, Chapter};
pub use raw::RawDocument;
pub use sentences::split_sentences;

use crate::zip::Archive;

/// The format an article was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Text,
    Markdown,
    Html,
    /// Word document (Office Open XML).
    Docx,
    /// OpenDocument Text.
    Odt,
    /// EPUB e-book.
    Epub,
    /// PDF with a text layer.
    Pdf,
    /// Rich Text Format.
    Rtf,
    /// A picture of text (PNG, JPEG, TIFF, WebP), read through OCR.
    Image,
}

/// One sentence of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Sentence {
    /// `"p{paragraph}.s{sentence}"`, 1-based, e.g. `"p1.s1"`.
    pub id: String,
    pub text: String,
}

/// One body paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Paragraph {
    /// `"p1"`, `"p2"`, … in document order.
    pub id: String,
    pub text: String,
    pub sentences: Vec<Sentence>,
}

/// An article: header fields plus body paragraphs split into sentences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Document {
    /// Headline (`""` if none was found).
    pub title: String,
    /// Subhead / standfirst.
    pub subtitle: Option<String>,
    /// Publication line, byline or date, e.g. `"Global Times - Weekend"`.
    pub dateline: Option<String>,
    /// File name the text came from.
    pub source_name: String,
    pub format: SourceFormat,
    /// Encoding the bytes were decoded from, e.g. `"UTF-8"`, `"windows-1252"`.
    pub encoding: String,
    /// ISO 639-1 code detected from the body (`"en"`), `"und"` if unknown.
    pub language: String,
    /// Body paragraphs only (title, subtitle and dateline are not included).
    pub paragraphs: Vec<Paragraph>,
    /// Author(s), from document metadata (HTML meta/JSON-LD, PDF, DOCX, ODT, EPUB, RTF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub byline: Option<String>,
    /// Publication date as the metadata gives it (ISO 8601 `2024-01-31` where known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub published: Option<String>,
    /// Site or publisher name (HTML metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub site_name: Option<String>,
    /// Lines of a text page that were not taken as the article (menus, related headlines,
    /// comments, footers), in page order, so the reader can see them and put one back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<LeftOut>>", optional)]
    pub left_out: Vec<LeftOut>,
    /// The text was recognised in page images (a scan or a picture) by OCR, so it may hold
    /// misread characters.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub from_ocr: bool,
}

/// A line of the page that is not part of the article as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LeftOut {
    /// Its place among the page's lines (0-based), which orders restored lines.
    pub line: usize,
    pub text: String,
    /// Whether it stood before the article (else after it).
    pub before_article: bool,
    /// Whether the reader put it back as a paragraph.
    #[serde(default)]
    pub restored: bool,
}

/// Limits applied when reading files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// EPUB only: read just this chapter (1-based, counting chapters that
    /// hold text, in reading order) instead of the whole book. Ignored for
    /// other formats.
    #[serde(default)]
    pub chapter: Option<usize>,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            chapter: None,
        }
    }
}

/// Why a file could not be turned into a [`Document`].
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}; check that the file exists and that you may read it", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{name} is empty; there is no text to summarize — choose a file that contains the article"
    )]
    Empty { name: String },
    #[error("{name} is too large ({} > limit of {}); raise the limit with --max-size", human_size(*size), human_size(*limit))]
    TooLarge { name: String, size: u64, limit: u64 },
    #[error("{name} is larger than the limit of {}; raise the limit with --max-size", human_size(*limit))]
    StreamTooLarge { name: String, limit: u64 },
    #[error("{name} is {kind}, not a regular file; save the article to a file and open that")]
    NotAFile { name: String, kind: &'static str },
    #[error("{name} looks like a binary file, not an article ({detail}); save the article as .txt, .md, .html, .docx, .odt, .epub, .pdf or .rtf and open that instead")]
    Binary { name: String, detail: String },
    #[error("{name} has an unsupported file type '.{extension}'; supported types are .txt .md .html .htm .xhtml .docx .odt .epub .pdf .rtf, and scans as .png .jpg .tif .webp (through OCR) — convert or rename the file if it is really text")]
    Unsupported { name: String, extension: String },
    #[error("{name} could not be decoded as text in any known encoding; re-save it as UTF-8 and try again")]
    Undecodable { name: String },
    #[error("{name} contains no article text (no body paragraphs were found); check that the file holds the article itself, not only a headline or a navigation page")]
    NoText { name: String },
    #[error("{name} is damaged or not a valid document ({reason}); re-save or re-export it and try again")]
    Corrupt { name: String, reason: String },
    #[error("{name} was not unpacked: {detail} (a possible zip bomb); re-save the document normally and try again")]
    ArchiveLimit { name: String, detail: String },
    #[error("{name} has no chapter {chapter}; choose a chapter from 1 to {count}")]
    NoSuchChapter {
        name: String,
        chapter: usize,
        count: usize,
    },
    #[error("{name} has no text layer (a scan or a picture): its text can only be read through OCR, which needs Tesseract (Debian/Ubuntu: `sudo apt install tesseract-ocr tesseract-ocr-eng poppler-utils`)")]
    NoTextLayer { name: String },
    #[error("{name} could not be read through OCR: {reason}")]
    Ocr { name: String, reason: String },
    #[error("cancelled")]
    Cancelled,
    #[error("{name} is encrypted with a password; remove the protection (open it with the password and save or print it to a new PDF) and open that file")]
    Encrypted { name: String },
    #[error("{name} was not read: {detail}; this safety limit guards against hostile files — re-save or split the document and try again")]
    Limit { name: String, detail: String },
}

fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

impl Document {
    /// Body paragraphs joined by blank lines.
    pub fn body_text(&self) -> String {
        self.paragraphs
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Number of sentences in the body.
    pub fn sentence_count(&self) -> usize {
        self.paragraphs.iter().map(|p| p.sentences.len()).sum()
    }

    /// Number of words in the body; each CJK character counts as a word.
    pub fn word_count(&self) -> usize {
        self.paragraphs.iter().map(|p| count_words(&p.text)).sum()
    }

    /// Puts the left-out line `index` (into [`Document::left_out`]) back as a paragraph, where
    /// it stood on the page relative to the article and to lines restored before it; paragraph
    /// ids are renumbered. An index out of range or a line already restored changes nothing and
    /// returns `false`.
    pub fn restore_left_out(&mut self, index: usize) -> bool {
        let Some(entry) = self.left_out.get(index).filter(|e| !e.restored).cloned() else {
            return false;
        };
        let restored_beside = |before: bool, earlier: bool| {
            self.left_out
                .iter()
                .filter(|e| {
                    e.restored && e.before_article == before && (e.line < entry.line) == earlier
                })
                .count()
        };
        let position = if entry.before_article {
            restored_beside(true, true)
        } else {
            self.paragraphs.len() - restored_beside(false, false)
        };
        let mut texts: Vec<String> = self.paragraphs.iter().map(|p| p.text.clone()).collect();
        texts.insert(position.min(texts.len()), entry.text);
        self.paragraphs = numbered_paragraphs(&texts);
        self.left_out[index].restored = true;
        true
    }

    /// Builds a document from ready-made paragraphs (blank ones are dropped):
    /// assigns ids, splits sentences and detects the language. Format is
    /// [`SourceFormat::Text`], encoding `"UTF-8"`.
    pub fn from_paragraphs(
        title: impl Into<String>,
        source_name: impl Into<String>,
        paragraphs: Vec<String>,
    ) -> Document {
        let raw = RawDocument {
            title: title.into(),
            paragraphs,
            ..RawDocument::default()
        };
        build_document(raw, source_name.into(), SourceFormat::Text, "UTF-8")
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF
        | 0x20000..=0x2FA1F)
}

fn count_words(text: &str) -> usize {
    text.split_whitespace()
        .map(|token| {
            let cjk = token.chars().filter(|&c| is_cjk(c)).count();
            let other = token.chars().any(|c| c.is_alphanumeric() && !is_cjk(c));
            if cjk == 0 {
                usize::from(token.chars().any(char::is_alphanumeric))
            } else {
                cjk + usize::from(other)
            }
        })
        .sum()
}

/// Detects the body language as an ISO 639-1 code, `"und"` when unsure.
fn detect_language(text: &str) -> String {
    let sample: String = text.chars().take(10_000).collect();
    let Some(info) = whatlang::detect(&sample) else {
        return "und".to_owned();
    };
    if !info.is_reliable() && sample.chars().filter(|c| c.is_alphabetic()).count() < 200 {
        return "und".to_owned();
    }
    iso639_1(info.lang().code()).unwrap_or("und").to_owned()
}

fn iso639_1(code3: &str) -> Option<&'static str> {
    const MAP: &[(&str, &str)] = &[
        ("afr", "af"),
        ("aka", "ak"),
        ("amh", "am"),
        ("ara", "ar"),
        ("aze", "az"),
        ("bel", "be"),
        ("ben", "bn"),
        ("bul", "bg"),
        ("cat", "ca"),
        ("ces", "cs"),
        ("cmn", "zh"),
        ("dan", "da"),
        ("deu", "de"),
        ("ell", "el"),
        ("eng", "en"),
        ("epo", "eo"),
        ("est", "et"),
        ("fin", "fi"),
        ("fra", "fr"),
        ("guj", "gu"),
        ("heb", "he"),
        ("hin", "hi"),
        ("hrv", "hr"),
        ("hun", "hu"),
        ("hye", "hy"),
        ("ind", "id"),
        ("ita", "it"),
        ("jav", "jv"),
        ("jpn", "ja"),
        ("kan", "kn"),
        ("kat", "ka"),
        ("khm", "km"),
        ("kor", "ko"),
        ("lat", "la"),
        ("lav", "lv"),
        ("lit", "lt"),
        ("mal", "ml"),
        ("mar", "mr"),
        ("mkd", "mk"),
        ("mya", "my"),
        ("nep", "ne"),
        ("nld", "nl"),
        ("nob", "nb"),
        ("ori", "or"),
        ("pan", "pa"),
        ("pes", "fa"),
        ("pol", "pl"),
        ("por", "pt"),
        ("ron", "ro"),
        ("rus", "ru"),
        ("sin", "si"),
        ("slk", "sk"),
        ("slv", "sl"),
        ("sna", "sn"),
        ("spa", "es"),
        ("srp", "sr"),
        ("swe", "sv"),
        ("tam", "ta"),
        ("tel", "te"),
        ("tgl", "tl"),
        ("tha", "th"),
        ("tuk", "tk"),
        ("tur", "tr"),
        ("ukr", "uk"),
        ("urd", "ur"),
        ("uzb", "uz"),
        ("vie", "vi"),
        ("yid", "yi"),
        ("zul", "zu"),
    ];
    MAP.iter().find(|(c3, _)| *c3 == code3).map(|(_, c1)| *c1)
}

fn build_document(
    raw: RawDocument,
    source_name: String,
    format: SourceFormat,
    encoding: &str,
) -> Document {
    let paragraphs = numbered_paragraphs(&raw.paragraphs);
    let body: String = paragraphs
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    Document {
        title: raw.title.trim().to_owned(),
        subtitle: raw.subtitle.filter(|s| !s.trim().is_empty()),
        dateline: raw.dateline.filter(|s| !s.trim().is_empty()),
        source_name,
        format,
        encoding: encoding.to_owned(),
        language: detect_language(&body),
        paragraphs,
        byline: clean_meta(raw.byline),
        published: clean_meta(raw.published),
        site_name: clean_meta(raw.site_name),
        left_out: raw.left_out,
        from_ocr: false,
    }
}

/// Paragraphs `p1`, `p2`, … split into sentences (blank texts are dropped).
fn numbered_paragraphs(texts: &[String]) -> Vec<Paragraph> {
    texts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, text)| {
            let id = format!("p{}", i + 1);
            let sentences = split_sentences(text)
                .into_iter()
                .enumerate()
                .map(|(j, s)| Sentence {
                    id: format!("{id}.s{}", j + 1),
                    text: s,
                })
                .collect();
            Paragraph {
                id,
                text: text.to_owned(),
                sentences,
            }
        })
        .collect()
}

/// Trimmed, single-line metadata; `None` when blank.
fn clean_meta(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|v| !v.is_empty())
}

/// How a reader is handed its input, and how its format is recognised from content.
#[derive(Clone, Copy)]
enum Input {
    /// Decoded text. Which text reader is decided by the hint, else by content that starts like
    /// HTML, else by the extension (the text is sniffed when there is none).
    Text(fn(&str) -> RawDocument),
    /// Bytes with a signature, read as this format whatever the file is named.
    Signed(SignedInput),
    /// A ZIP container, recognised by its members whatever the file is named.
    Zip(ZipInput),
}

#[derive(Clone, Copy)]
struct SignedInput {
    /// What a file of the format starts with, for the message when a file named so does not.
    magic: &'static str,
    /// Whether the bytes carry the signature; the flag says whether the hint or the extension
    /// names this format.
    sniff: fn(&[u8], bool) -> bool,
    parse: fn(&[u8], &str) -> Result<RawAndEncoding, ReadError>,
}

/// A reader's document, and the encoding its text was in.
type RawAndEncoding = (RawDocument, &'static str);

#[derive(Clone, Copy)]
struct ZipInput {
    /// Whether the `mimetype` member, in a container that has one, names this format.
    mimetype: fn(&str) -> bool,
    /// Members that, all present, make a container without `mimetype` this format (none: never).
    members: &'static [&'static str],
    parse: fn(&mut Archive<'_>, &str, &ReadLimits) -> Result<RawDocument, ReadError>,
}

/// One format's reader.
struct Reader {
    format: SourceFormat,
    /// File extensions read as this format (lowercase, without the dot).
    extensions: &'static [&'static str],
    input: Input,
}

/// Every reader, for dispatch by extension and by content alike: a new format is its module,
/// a [`SourceFormat`] variant and one entry here. Where two could claim the same input the
/// first wins: signatures are tried in this order, and so are ZIP members.
const READERS: &[Reader] = &[
    Reader {
        format: SourceFormat::Text,
        extensions: &["txt", "text"],
        input: Input::Text(plain::parse_text),
    },
    Reader {
        format: SourceFormat::Markdown,
        extensions: &["md", "markdown", "mdown", "mkd"],
        input: Input::Text(plain::parse_markdown),
    },
    Reader {
        format: SourceFormat::Html,
        extensions: &["html", "htm", "xhtml"],
        input: Input::Text(html::parse_html),
    },
    Reader {
        format: SourceFormat::Docx,
        extensions: &["docx"],
        input: Input::Zip(ZipInput {
            mimetype: |_| false,
            members: &["[Content_Types].xml", "word/document.xml"],
            parse: |archive, name, _| docx::parse_docx_archive(archive, name),
        }),
    },
    Reader {
        format: SourceFormat::Odt,
        extensions: &["odt"],
        input: Input::Zip(ZipInput {
            mimetype: |mime| mime.starts_with("application/vnd.oasis.opendocument.text"),
            members: &[],
            parse: |archive, name, _| odt::parse_odt_archive(archive, name),
        }),
    },
    Reader {
        format: SourceFormat::Epub,
        extensions: &["epub"],
        input: Input::Zip(ZipInput {
            mimetype: |mime| mime == "application/epub+zip",
            members: &["META-INF/container.xml"],
            parse: |archive, name, limits| epub::parse_epub_archive(archive, name, limits.chapter),
        }),
    },
    Reader {
        format: SourceFormat::Pdf,
        extensions: &["pdf"],
        input: Input::Signed(SignedInput {
            magic: "%PDF-",
            sniff: sniff::is_pdf,
            parse: |bytes, name| Ok((pdf::parse_pdf(bytes, name)?, "PDF")),
        }),
    },
    Reader {
        format: SourceFormat::Image,
        extensions: &["png", "jpg", "jpeg", "tif", "tiff", "webp"],
        input: Input::Signed(SignedInput {
            magic: "an image signature (PNG, JPEG, TIFF or WebP)",
            sniff: |bytes, _| sniff::is_image(bytes),
            // Pictures have no text layer: `ocr::read_file_with_ocr` reads them.
            parse: |_, name| {
                Err(ReadError::NoTextLayer {
                    name: name.to_owned(),
                })
            },
        }),
    },
    Reader {
        format: SourceFormat::Rtf,
        extensions: &["rtf"],
        input: Input::Signed(SignedInput {
            magic: "{\\rtf",
            sniff: |bytes, _| sniff::is_rtf(bytes),
            parse: |bytes, _| Ok(rtf::parse_rtf(bytes)),
        }),
    },
];

/// Every file extension read as an article (lowercase, without the dot) and its format, in
/// [`READERS`] order; the window's file dialog offers exactly these.
pub const ARTICLE_EXTENSIONS: &[(&str, SourceFormat)] =
    &article_extensions::<{ extension_count() }>();

const fn extension_count() -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < READERS.len() {
        count += READERS[i].extensions.len();
        i += 1;
    }
    count
}

const fn article_extensions<const N: usize>() -> [(&'static str, SourceFormat); N] {
    let mut out = [("", SourceFormat::Text); N];
    let mut next = 0;
    let mut i = 0;
    while i < READERS.len() {
        let mut j = 0;
        while j < READERS[i].extensions.len() {
            out[next] = (READERS[i].extensions[j], READERS[i].format);
            next += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

fn reader(format: SourceFormat) -> Option<&'static Reader> {
    READERS.iter().find(|r| r.format == format)
}

/// Format implied by a file extension (lowercase, without the dot).
fn format_for_extension(ext: &str) -> Option<SourceFormat> {
    READERS
        .iter()
        .find(|r| r.extensions.contains(&ext))
        .map(|r| r.format)
}

/// The name's extension, lowercased.
fn extension(source_name: &str) -> Option<String> {
    Path::new(source_name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
}

/// The format and reader of a ZIP container, decided by its members: the `mimetype` member
/// when there is one, else the members a format must have; `None` for any other ZIP.
pub(crate) fn container_format(
    archive: &mut Archive<'_>,
) -> Result<Option<(SourceFormat, ZipInput)>, ReadError> {
    let mut zip_readers = READERS.iter().filter_map(|r| match r.input {
        Input::Zip(zip) => Some((r.format, zip)),
        _ => None,
    });
    if archive.has("mimetype") {
        let mime = archive.read_text("mimetype")?.unwrap_or_default();
        let mime = mime.trim();
        return Ok(zip_readers.find(|(_, zip)| (zip.mimetype)(mime)));
    }
    Ok(zip_readers
        .find(|(_, zip)| !zip.members.is_empty() && zip.members.iter().all(|m| archive.has(m))))
}

/// Reads and parses an article file. Checks the size from metadata before reading.
pub fn read_file(path: &Path, limits: &ReadLimits) -> Result<Document, ReadError> {
    let (name, bytes) = read_limited(path, limits)?;
    parse_bytes_with(&bytes, &name, None, limits)
}

/// Reads a text file of segments, one per line, as a document whose paragraphs are exactly the
/// non-empty lines (no title, no article extraction): for sentence-aligned files such as a test
/// set's source side, where `p1`…`pN` must stay the N lines.
pub fn read_lines(path: &Path, limits: &ReadLimits) -> Result<Document, ReadError> {
    let (name, bytes) = read_limited(path, limits)?;
    lines_document(&bytes, name)
}

fn lines_document(bytes: &[u8], name: String) -> Result<Document, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty { name });
    }
    let (text, encoding) =
        encoding::decode(bytes).map_err(|_| ReadError::Undecodable { name: name.clone() })?;
    let lines = encoding::normalize_newlines(&text)
        .lines()
        .map(str::to_owned)
        .collect();
    let raw = RawDocument {
        paragraphs: lines,
        ..RawDocument::default()
    };
    finish(raw, name, SourceFormat::Text, encoding)
}

/// The file's name (for messages) and bytes, refused when larger than `limits.max_bytes`.
/// Only regular files are read: a device (`/dev/zero`) or a named pipe has no size to check
/// and may never end, so it is refused before it is opened; a file is read through
/// [`read_capped`] all the same, as it may grow while it is read. Also for the other files a
/// user hands over (a glossary), so every file is read under the same rules.
pub fn read_limited(path: &Path, limits: &ReadLimits) -> Result<(String, Vec<u8>), ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a directory, not a file",
        )));
    }
    let not_a_file = |file_type: std::fs::FileType| ReadError::NotAFile {
        name: name.clone(),
        kind: kind_of(file_type),
    };
    if !meta.is_file() {
        return Err(not_a_file(meta.file_type()));
    }
    if meta.len() > limits.max_bytes {
        return Err(ReadError::TooLarge {
            name,
            size: meta.len(),
            limit: limits.max_bytes,
        });
    }
    let file = open_without_blocking(path).map_err(io_err)?;
    // The path may have been replaced between the check and the open.
    let opened = file.metadata().map_err(io_err)?;
    if !opened.is_file() {
        return Err(not_a_file(opened.file_type()));
    }
    let bytes = read_capped(file, &name, limits).map_err(|e| match e {
        ReadError::Io { source, .. } => io_err(source),
        other => other,
    })?;
    Ok((name, bytes))
}

/// Opens for reading; on Unix without blocking, so a path swapped for a named pipe after the
/// check cannot hang the open (no effect on a regular file).
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    let _ = file_type;
    "not a regular file"
}

/// Reads at most `limits.max_bytes` from `reader` (a file, a pipe, standard input): one byte
/// more means the source is too large, and reading stops there.
pub fn read_capped(
    reader: impl std::io::Read,
    name: &str,
    limits: &ReadLimits,
) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: PathBuf::from(name),
            source,
        })?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limits.max_bytes {
        return Err(ReadError::StreamTooLarge {
            name: name.to_string(),
            limit: limits.max_bytes,
        });
    }
    Ok(bytes)
}

/// The name standard input goes by in messages.
pub const STDIN_NAME: &str = "standard input";

/// Reads an article from standard input (`precis … -`), with the same size limit as a file.
pub fn read_stdin(limits: &ReadLimits) -> Result<Document, ReadError> {
    let bytes = read_capped(std::io::stdin().lock(), STDIN_NAME, limits)?;
    parse_bytes_with(&bytes, STDIN_NAME, None, limits)
}

/// [`read_lines`] for standard input.
pub fn read_stdin_lines(limits: &ReadLimits) -> Result<Document, ReadError> {
    let bytes = read_capped(std::io::stdin().lock(), STDIN_NAME, limits)?;
    lines_document(&bytes, STDIN_NAME.to_string())
}

/// Parses an article from bytes with default [`ReadLimits`]; see [`parse_bytes_with`].
pub fn parse_bytes(
    bytes: &[u8],
    source_name: &str,
    format_hint: Option<SourceFormat>,
) -> Result<Document, ReadError> {
    parse_bytes_with(bytes, source_name, format_hint, &ReadLimits::default())
}

/// Builds the document from a reader's result; no body is [`ReadError::NoText`].
fn finish(
    raw: RawDocument,
    name: String,
    format: SourceFormat,
    encoding: &str,
) -> Result<Document, ReadError> {
    let doc = build_document(raw, name, format, encoding);
    if doc.paragraphs.is_empty() {
        return Err(ReadError::NoText {
            name: doc.source_name,
        });
    }
    Ok(doc)
}

/// Reads a DOCX, ODT or EPUB container; which one is decided by its content.
fn parse_container(bytes: &[u8], name: &str, limits: &ReadLimits) -> Result<Document, ReadError> {
    let mut archive = Archive::open(bytes, name)?;
    let Some((format, zip)) = container_format(&mut archive)? else {
        return Err(ReadError::Binary {
            name: name.to_owned(),
            detail: "a ZIP archive that is not a DOCX, ODT or EPUB document".to_owned(),
        });
    };
    let raw = (zip.parse)(&mut archive, name, limits)?;
    finish(raw, name.to_owned(), format, "UTF-8")
}

/// Parses an article from bytes. `source_name` is used for messages and, without
/// a `format_hint`, for the format: its extension decides (`.txt`/`.text`,
/// `.md`/`.markdown`, `.html`/`.htm`/`.xhtml`, `.docx`, `.odt`, `.epub`),
/// content starting with `<!doctype html`/`<html` is HTML whatever the name, a
/// name without extension is sniffed, and any other extension is
/// [`ReadError::Unsupported`]. An explicit `format_hint` wins, except that ZIP
/// content is always read as a container: DOCX, ODT or EPUB is recognised from
/// the members (so a `.txt` that is really a DOCX is read as DOCX), and any
/// other ZIP is [`ReadError::Binary`]. `limits.chapter` picks one EPUB chapter;
/// `limits.max_bytes` is not checked here (see [`read_file`]).
pub fn parse_bytes_with(
    bytes: &[u8],
    source_name: &str,
    format_hint: Option<SourceFormat>,
    limits: &ReadLimits,
) -> Result<Document, ReadError> {
    let name = source_name.to_owned();
    if bytes.is_empty() {
        return Err(ReadError::Empty { name });
    }
    if sniff::is_zip(bytes) {
        return parse_container(bytes, source_name, limits);
    }
    let named =
        format_hint.or_else(|| extension(source_name).and_then(|ext| format_for_extension(&ext)));
    if let Some(doc) = parse_signed(bytes, source_name, named)? {
        return Ok(doc);
    }
    let (text, encoding) = decode_text(bytes, source_name)?;
    let format = text_format(&text, source_name, format_hint)?;
    let raw = match reader(format).map(|r| r.input) {
        Some(Input::Text(parse)) => parse(&text),
        // Containers, PDF and RTF were handled above; unreachable here.
        _ => {
            return Err(ReadError::Corrupt {
                name,
                reason: "it is not a ZIP container".to_owned(),
            })
        }
    };
    finish(raw, name, format, encoding)
}

/// PDF and RTF are recognised by content whatever the name says; a file that the hint or its
/// extension (`named`) says is PDF, RTF or a container, but is not, is
/// [`ReadError::Corrupt`]. `None`: the bytes are for a text reader.
fn parse_signed(
    bytes: &[u8],
    source_name: &str,
    named: Option<SourceFormat>,
) -> Result<Option<Document>, ReadError> {
    for reader in READERS {
        if let Input::Signed(signed) = reader.input {
            if (signed.sniff)(bytes, named == Some(reader.format)) {
                let (raw, encoding) = (signed.parse)(bytes, source_name)?;
                return finish(raw, source_name.to_owned(), reader.format, encoding).map(Some);
            }
        }
    }
    let Some(format) = named else {
        return Ok(None);
    };
    let reason = match reader(format).map(|r| r.input) {
        Some(Input::Signed(SignedInput { magic, .. })) => format!(
            "it does not start with {magic}, as {} files do",
            format!("{format:?}").to_uppercase()
        ),
        Some(Input::Zip(_)) => format!(
            "it is not a ZIP container, as {} files are",
            format!("{format:?}").to_uppercase()
        ),
        Some(Input::Text(_)) | None => return Ok(None),
    };
    Err(ReadError::Corrupt {
        name: source_name.to_owned(),
        reason,
    })
}

/// The text of bytes that are not a binary file, and the encoding it was decoded from.
fn decode_text(bytes: &[u8], source_name: &str) -> Result<(String, &'static str), ReadError> {
    let name = source_name.to_owned();
    if let Some(detail) = sniff::binary_magic(bytes) {
        return Err(ReadError::Binary {
            name,
            detail: detail.to_owned(),
        });
    }
    if sniff::looks_binary(bytes) {
        return Err(ReadError::Binary {
            name,
            detail: "it contains NUL or control bytes that text files do not have".to_owned(),
        });
    }
    let (text, encoding) =
        encoding::decode(bytes).map_err(|_| ReadError::Undecodable { name: name.clone() })?;
    if text.trim().is_empty() {
        return Err(ReadError::Empty { name });
    }
    if sniff::text_looks_binary(&text) {
        return Err(ReadError::Binary {
            name,
            detail: "its decoded content is mostly control characters".to_owned(),
        });
    }
    Ok((text, encoding))
}

/// Which text reader: the hint; else HTML for content that starts like it; else the
/// extension's, sniffed when there is none, [`ReadError::Unsupported`] when it is unknown.
fn text_format(
    text: &str,
    source_name: &str,
    format_hint: Option<SourceFormat>,
) -> Result<SourceFormat, ReadError> {
    if let Some(format) = format_hint {
        return Ok(format);
    }
    if sniff::starts_like_html(text) {
        return Ok(SourceFormat::Html);
    }
    match extension(source_name) {
        None => Ok(sniff::sniff_format(text)),
        Some(ext) => format_for_extension(&ext).ok_or(ReadError::Unsupported {
            name: source_name.to_owned(),
            extension: ext,
        }),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn left_out_lines_are_restored_in_page_order() {
        let page = "• Home\n• News\n• Sport\n• World\n• Markets\n\nCouncil approves new bridge\n\n\
            The council voted on Monday to approve the new bridge over the river, which will cost \
            about $40 million.\n\nWork will begin in March, officials said, and the old crossing \
            will stay open until then.\n\nRelated\n\nMayor opens library\n\nTown fair returns\n";
        let mut doc = parse_bytes(page.as_bytes(), "page.txt", None).unwrap();
        assert_eq!(doc.paragraphs.len(), 2);
        let find = |doc: &Document, t: &str| doc.left_out.iter().position(|l| l.text == t).unwrap();
        // Two lines before the article, restored out of order, come back in page order.
        let (news, sport) = (find(&doc, "News"), find(&doc, "Sport"));
        assert!(doc.restore_left_out(sport));
        assert!(doc.restore_left_out(news));
        assert!(
            !doc.restore_left_out(news),
            "a restored line cannot be restored twice"
        );
        assert!(!doc.restore_left_out(999));
        let fair = find(&doc, "Town fair returns");
        let library = find(&doc, "Mayor opens library");
        assert!(doc.restore_left_out(fair));
        assert!(doc.restore_left_out(library));
        let texts: Vec<&str> = doc.paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts[..2], ["News", "Sport"]);
        assert_eq!(texts[4..], ["Mayor opens library", "Town fair returns"]);
        let ids: Vec<&str> = doc.paragraphs.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["p1", "p2", "p3", "p4", "p5", "p6"]);
    }
    use super::*;
    use std::io::Write;

    const SAMPLE: &str = include_str!("../../../tests/fixtures/global-times-syria-ceasefire.txt");

    fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).expect("create temp file");
        f.write_all(bytes).expect("write temp file");
        path
    }

    #[test]
    fn sample_article() {
        let doc = parse_bytes(SAMPLE.as_bytes(), "global-times-syria-ceasefire.txt", None)
            .expect("parses");
        assert_eq!(doc.format, SourceFormat::Text);
        assert_eq!(doc.encoding, "UTF-8");
        assert_eq!(doc.language, "en");
        assert_eq!(doc.dateline.as_deref(), Some("Global Times - Weekend"));
        assert_eq!(doc.title, "US, Russia tussle over Syria cease-fire deal");
        assert!(doc
            .subtitle
            .as_deref()
            .is_some_and(|s| s.contains("Aleppo")));
        assert_eq!(doc.paragraphs.len(), 11);
        assert!(doc.paragraphs[0]
            .text
            .starts_with("The US and Russia on Friday"));
        for (i, p) in doc.paragraphs.iter().enumerate() {
            assert_eq!(p.id, format!("p{}", i + 1));
            assert_ne!(p.text.trim(), "-");
            assert!(!p.text.contains("Newspapers in English"));
            assert!(!p.text.contains("Newspapers from China"));
            assert!(!p.sentences.is_empty());
            for (j, s) in p.sentences.iter().enumerate() {
                assert_eq!(s.id, format!("{}.s{}", p.id, j + 1));
            }
        }
        // "Washington wants Moscow … 290,000. The two powers …" is two sentences.
        assert_eq!(doc.paragraphs[2].sentences.len(), 2);
        assert!(doc.body_text().starts_with("The US and Russia"));
        assert!(doc.body_text().contains("\n\nIn Geneva"));
        assert_eq!(doc.sentence_count(), 13);
        assert!(doc.word_count() > 300 && doc.word_count() < 400);
    }

    #[test]
    fn serde_round_trip() {
        let doc = parse_bytes(SAMPLE.as_bytes(), "a.txt", None).expect("parses");
        let json = serde_json::to_string(&doc).expect("serializes");
        assert!(json.contains("\"format\":\"text\""));
        let back: Document = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, doc);
    }

    #[test]
    fn from_paragraphs_builds_ids() {
        let doc = Document::from_paragraphs(
            "Title",
            "pasted",
            vec![
                "First paragraph here. It has two sentences.".to_owned(),
                "   ".to_owned(),
                "Second one.".to_owned(),
            ],
        );
        assert_eq!(doc.paragraphs.len(), 2);
        assert_eq!(doc.paragraphs[1].id, "p2");
        assert_eq!(doc.paragraphs[0].sentences[1].id, "p1.s2");
        assert_eq!(doc.sentence_count(), 3);
        assert_eq!(doc.word_count(), 9);
        assert_eq!(doc.format, SourceFormat::Text);
        assert_eq!(doc.encoding, "UTF-8");
    }

    #[test]
    fn read_sample_file_and_utf16_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_temp(&dir, "article.txt", SAMPLE.as_bytes());
        let doc = read_file(&path, &ReadLimits::default()).expect("reads");
        assert_eq!(doc.source_name, "article.txt");
        assert_eq!(doc.paragraphs.len(), 11);

        let mut utf16 = vec![0xFF, 0xFE];
        for unit in SAMPLE.replace('\n', "\r\n").encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        let path = write_temp(&dir, "article16.txt", &utf16);
        let doc16 = read_file(&path, &ReadLimits::default()).expect("reads UTF-16");
        assert_eq!(doc16.encoding, "UTF-16LE");
        assert_eq!(doc16.paragraphs, doc.paragraphs);
    }

    #[test]
    fn read_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = ReadLimits::default();

        let empty = write_temp(&dir, "empty.txt", b"");
        assert!(matches!(
            read_file(&empty, &limits),
            Err(ReadError::Empty { .. })
        ));
        let blank = write_temp(&dir, "blank.txt", b" \n\r\n\t ");
        assert!(matches!(
            read_file(&blank, &limits),
            Err(ReadError::Empty { .. })
        ));

        let mut junk = Vec::new();
        let mut x: u32 = 12345;
        for _ in 0..4096 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            junk.push((x >> 16) as u8);
        }
        junk[10] = 0;
        let junk_path = write_temp(&dir, "junk.txt", &junk);
        assert!(matches!(
            read_file(&junk_path, &limits),
            Err(ReadError::Binary { .. })
        ));

        // A picture, whatever its name, is text only through OCR (`ocr::read_file_with_ocr`).
        let png = write_temp(&dir, "image.txt", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let err = read_file(&png, &limits).expect_err("png has no text layer");
        assert!(matches!(err, ReadError::NoTextLayer { .. }), "{err}");
        assert!(err.to_string().contains("OCR"));

        let pdf = write_temp(&dir, "paper.pdf", b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj");
        let err = read_file(&pdf, &limits).expect_err("truncated pdf rejected");
        assert!(matches!(err, ReadError::Corrupt { .. }), "{err}");
        assert!(!err.to_string().contains('\n'));

        let xyz = write_temp(&dir, "notes.xyz", b"This is a perfectly fine sentence.\n");
        let err = read_file(&xyz, &limits).expect_err("xyz rejected");
        assert!(matches!(&err, ReadError::Unsupported { extension, .. } if extension == "xyz"));
        assert!(err.to_string().contains(".txt .md .html .htm .xhtml"));

        let big = write_temp(&dir, "big.txt", SAMPLE.as_bytes());
        let err = read_file(
            &big,
            &ReadLimits {
                max_bytes: 100,
                ..ReadLimits::default()
            },
        )
        .expect_err("too large");
        assert!(matches!(err, ReadError::TooLarge { limit: 100, .. }));
        assert!(err.to_string().contains("--max-size"));

        let missing = dir.path().join("missing.txt");
        let err = read_file(&missing, &limits).expect_err("missing");
        assert!(matches!(err, ReadError::Io { .. }));
        assert!(err.to_string().starts_with("cannot read "));

        // A device has no size and never ends; a named pipe may never be written to: both are
        // refused before they are opened (no unbounded read, no hang).
        #[cfg(unix)]
        {
            let err = read_file(Path::new("/dev/zero"), &limits).expect_err("device");
            assert!(
                matches!(
                    err,
                    ReadError::NotAFile {
                        kind: "a device",
                        ..
                    }
                ),
                "{err}"
            );
            let fifo = dir.path().join("pipe.txt");
            let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
            let err = read_file(&fifo, &limits).expect_err("named pipe");
            assert!(
                matches!(
                    err,
                    ReadError::NotAFile {
                        kind: "a named pipe",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("not a regular file"));
        }
        // A source without a size (a pipe, standard input) is read up to the limit and no further.
        let small = ReadLimits {
            max_bytes: 1000,
            ..ReadLimits::default()
        };
        let err = read_capped(std::io::repeat(b'a'), "endless", &small).expect_err("endless");
        assert!(matches!(err, ReadError::StreamTooLarge { limit: 1000, .. }));
        assert!(err.to_string().contains("larger than the limit of"));
        assert_eq!(
            read_capped(&[b'a'; 1000][..], "exact", &small)
                .unwrap()
                .len(),
            1000
        );

        let err = read_file(dir.path(), &limits).expect_err("directory");
        assert!(matches!(err, ReadError::Io { .. }));

        let headline_only = write_temp(
            &dir,
            "nav.html",
            b"<html><body><nav>Home</nav></body></html>",
        );
        assert!(matches!(
            read_file(&headline_only, &limits),
            Err(ReadError::NoText { .. })
        ));

        for err in [
            ReadError::Empty { name: "a".into() },
            ReadError::Undecodable { name: "a".into() },
            ReadError::NoText { name: "a".into() },
        ] {
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn txt_with_html_content_is_html() {
        let dir = tempfile::tempdir().expect("tempdir");
        let html = "\n<!DOCTYPE html><html><head><title>T</title></head><body>\
                    <article><h1>Storm hits coast</h1><p>A storm hit the coast on Monday.</p>\
                    <p>Thousands lost power overnight.</p></article></body></html>";
        let path = write_temp(&dir, "saved.txt", html.as_bytes());
        let doc = read_file(&path, &ReadLimits::default()).expect("reads");
        assert_eq!(doc.format, SourceFormat::Html);
        assert_eq!(doc.title, "Storm hits coast");
        assert_eq!(doc.paragraphs.len(), 2);

        // Unknown extension but HTML content: sniffed as HTML, not Unsupported.
        let path = write_temp(&dir, "page.php", html.as_bytes());
        assert_eq!(
            read_file(&path, &ReadLimits::default())
                .expect("reads")
                .format,
            SourceFormat::Html
        );
        // No extension: sniffed.
        let path = write_temp(&dir, "README", b"Plain words in a file. Nothing more.");
        assert_eq!(
            read_file(&path, &ReadLimits::default())
                .expect("reads")
                .format,
            SourceFormat::Text
        );
        let path = write_temp(
            &dir,
            "fragment",
            b"<div><p>An HTML fragment sentence.</p></div>",
        );
        assert_eq!(
            read_file(&path, &ReadLimits::default())
                .expect("reads")
                .format,
            SourceFormat::Html
        );
    }

    #[test]
    fn markdown_file() {
        let md = b"# Heading of the story\n\nThe first paragraph has *some* emphasis. And [a link](http://x.y).\n";
        let doc = parse_bytes(md, "story.md", None).expect("parses");
        assert_eq!(doc.format, SourceFormat::Markdown);
        assert_eq!(doc.title, "Heading of the story");
        assert_eq!(
            doc.paragraphs[0].text,
            "The first paragraph has some emphasis. And a link."
        );
    }

    #[test]
    fn windows_1252_file() {
        let mut bytes = b"Caf".to_vec();
        bytes.push(0xE9);
        bytes.extend_from_slice(b" prices rise\r\n\r\nThe owner said ");
        bytes.push(0x93);
        bytes.extend_from_slice(b"we had no choice");
        bytes.push(0x94);
        bytes.extend_from_slice(b" on Monday.\r\n");
        let doc = parse_bytes(&bytes, "cafe.txt", None).expect("parses");
        assert_eq!(doc.encoding, "windows-1252");
        assert_eq!(doc.title, "Café prices rise");
        assert_eq!(
            doc.paragraphs[0].text,
            "The owner said “we had no choice” on Monday."
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"abc XYZ.!?\n\n<>/p\"'-*#_[]()\xE2\x80\x9C\xC3\xA9\xFF\t\r";
        for round in 0..400 {
            let len = (next() % 600) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if round % 2 == 0 {
                        (r >> 24) as u8
                    } else {
                        alphabet[(r % alphabet.len() as u64) as usize]
                    }
                })
                .collect();
            for hint in [
                None,
                Some(SourceFormat::Text),
                Some(SourceFormat::Markdown),
                Some(SourceFormat::Html),
            ] {
                // That the extractive summarizer survives whatever is read is checked in
                // precis-core (`summarize::extractive`'s tests, with the same inputs).
                let _ = parse_bytes(&bytes, "fuzz.txt", hint);
            }
        }
    }
}
