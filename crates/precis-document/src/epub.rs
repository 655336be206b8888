//! EPUB books: `META-INF/container.xml` → OPF package → spine → XHTML chapters.
//!
//! Chapters are read with plain block-level extraction (no readability
//! scoring: a chapter is all content), streaming, without recursion.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use super::blocks::{block_text, Block, Collector, Kind};
use super::raw::RawDocument;
use super::zip::{
    attr, byline_and_date, corrupt, dc_title, start_name, walk_xml, xml_reader, Archive, Enter,
    XmlWalker,
};
use super::{ReadError, SourceFormat};

/// One chapter (spine item with text) of an EPUB book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chapter {
    /// The chapter's first heading, `""` if it has none.
    pub title: String,
    /// Body paragraphs (the title heading is not repeated here).
    pub paragraphs: Vec<String>,
}

/// Name used in errors from [`epub_chapters`], which has no file name.
const UNNAMED: &str = "the EPUB book";

/// Reads the chapters of an EPUB in spine (reading) order. Spine items that
/// hold no text (cover images, blank pages) are left out, so chapter numbers
/// count only chapters with text.
pub fn epub_chapters(bytes: &[u8]) -> Result<Vec<Chapter>, ReadError> {
    let mut archive = Archive::open(bytes, UNNAMED)?;
    match crate::container_format(&mut archive)? {
        Some((SourceFormat::Epub, _)) => Ok(read_book(&mut archive, UNNAMED)?.1),
        _ => Err(corrupt(UNNAMED, "it is not an EPUB book")),
    }
}

/// Book metadata (from the OPF) and chapters.
pub(crate) fn read_book(
    archive: &mut Archive<'_>,
    name: &str,
) -> Result<(BookMeta, Vec<Chapter>), ReadError> {
    let container = archive
        .read_text("META-INF/container.xml")?
        .ok_or_else(|| corrupt(name, "META-INF/container.xml is missing"))?;
    let opf_path = rootfile(&container)
        .ok_or_else(|| corrupt(name, "META-INF/container.xml names no package file"))?;
    let opf_path = normalize_path("", &opf_path);
    let opf = archive
        .read_text(&opf_path)?
        .ok_or_else(|| corrupt(name, format_args!("package file '{opf_path}' is missing")))?;
    let base = opf_path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let package = parse_opf(&opf);
    let mut chapters = Vec::new();
    for href in &package.spine {
        let path = normalize_path(base, href);
        let Some(xhtml) = archive.read_text(&path)? else {
            continue; // a missing chapter is skipped, not fatal
        };
        if let Some(chapter) = parse_chapter(&xhtml) {
            chapters.push(chapter);
        }
    }
    Ok((package.meta, chapters))
}

/// Title, author and date from the OPF metadata.
#[derive(Debug, Default)]
pub(crate) struct BookMeta {
    title: Option<String>,
    byline: Option<String>,
    published: Option<String>,
}

/// Whole book, or only `chapter` (1-based), as a raw document.
pub(crate) fn parse_epub_archive(
    archive: &mut Archive<'_>,
    name: &str,
    chapter: Option<usize>,
) -> Result<RawDocument, ReadError> {
    let (meta, chapters) = read_book(archive, name)?;
    let book_title = meta.title.unwrap_or_default();
    let (byline, published) = (meta.byline, meta.published);
    match chapter {
        Some(n) => {
            let count = chapters.len();
            let Some(ch) = n.checked_sub(1).and_then(|i| chapters.into_iter().nth(i)) else {
                return Err(ReadError::NoSuchChapter {
                    name: name.to_owned(),
                    chapter: n,
                    count,
                });
            };
            let (title, subtitle) = if ch.title.is_empty() {
                (book_title, None)
            } else {
                (ch.title, Some(book_title).filter(|t| !t.is_empty()))
            };
            Ok(RawDocument {
                title,
                subtitle,
                paragraphs: ch.paragraphs,
                byline,
                published,
                ..RawDocument::default()
            })
        }
        None => {
            let title = if book_title.is_empty() {
                chapters
                    .iter()
                    .map(|c| c.title.clone())
                    .find(|t| !t.is_empty())
                    .unwrap_or_default()
            } else {
                book_title
            };
            let paragraphs = chapters
                .into_iter()
                .flat_map(|c| {
                    std::iter::once(c.title)
                        .filter(|t| !t.is_empty())
                        .chain(c.paragraphs)
                })
                .collect();
            Ok(RawDocument {
                title,
                paragraphs,
                byline,
                published,
                ..RawDocument::default()
            })
        }
    }
}

fn rootfile(container: &str) -> Option<String> {
    let mut reader = xml_reader(container);
    let mut first = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if start_name(&e) == "rootfile" => {
                let Some(path) = attr(&e, "full-path").filter(|p| !p.is_empty()) else {
                    continue;
                };
                let media = attr(&e, "media-type").unwrap_or_default();
                if media == "application/oebps-package+xml" {
                    return Some(path);
                }
                first.get_or_insert(path);
            }
            Ok(Event::Eof) | Err(_) => return first,
            _ => {}
        }
    }
}

struct Package {
    meta: BookMeta,
    /// Chapter hrefs (relative to the OPF) in reading order.
    spine: Vec<String>,
}

fn is_xhtml(media: &str) -> bool {
    matches!(media, "application/xhtml+xml" | "text/html" | "")
}

fn parse_opf(opf: &str) -> Package {
    let mut manifest: HashMap<String, (String, String)> = HashMap::new();
    let mut manifest_order: Vec<String> = Vec::new();
    let mut spine_ids: Vec<String> = Vec::new();
    let mut reader = xml_reader(opf);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match start_name(&e) {
                "item" => {
                    if let (Some(id), Some(href)) = (attr(&e, "id"), attr(&e, "href")) {
                        let media = attr(&e, "media-type").unwrap_or_default();
                        if is_xhtml(&media) {
                            manifest_order.push(id.clone());
                        }
                        manifest.insert(id, (href, media));
                    }
                }
                "itemref" if attr(&e, "linear").as_deref() != Some("no") => {
                    if let Some(id) = attr(&e, "idref") {
                        spine_ids.push(id);
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if spine_ids.is_empty() {
        spine_ids = manifest_order;
    }
    let spine = spine_ids
        .iter()
        .filter_map(|id| manifest.get(id))
        .filter(|(_, media)| is_xhtml(media))
        .map(|(href, _)| href.clone())
        .collect();
    let (byline, published) = byline_and_date(opf);
    Package {
        meta: BookMeta {
            title: dc_title(opf),
            byline,
            published,
        },
        spine,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Joins `href` to `base` (a folder inside the ZIP), resolving `.` and `..`.
fn normalize_path(base: &str, href: &str) -> String {
    let href = href.split(['#', '?']).next().unwrap_or("");
    let href = percent_decode(href);
    let mut parts: Vec<&str> = Vec::new();
    let joined = if let Some(abs) = href.strip_prefix('/') {
        abs.to_owned()
    } else if base.is_empty() {
        href
    } else {
        format!("{base}/{href}")
    };
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// An open XHTML element that matters when it ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum XEl {
    Other,
    Para,
    /// A block element inside a paragraph: ends a block without ending the paragraph.
    Break,
    Container,
    Table,
    Row,
    Cell,
}

fn para_kind(tag: &str) -> Option<Kind> {
    Some(match tag {
        "p" | "dt" | "dd" | "figcaption" | "caption" | "pre" | "address" | "summary" => Kind::Para,
        "li" => Kind::ListItem,
        "h1" => Kind::Heading { level: 1 },
        "h2" => Kind::Heading { level: 2 },
        "h3" => Kind::Heading { level: 3 },
        "h4" => Kind::Heading { level: 4 },
        "h5" => Kind::Heading { level: 5 },
        "h6" => Kind::Heading { level: 6 },
        _ => return None,
    })
}

fn is_container(tag: &str) -> bool {
    matches!(
        tag,
        "div"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "aside"
            | "main"
            | "figure"
            | "ul"
            | "ol"
            | "dl"
            | "blockquote"
            | "body"
            | "hr"
            | "center"
            | "details"
            | "form"
            | "fieldset"
            | "hgroup"
    )
}

/// Reads an XHTML chapter into blocks.
#[derive(Default)]
struct XhtmlWalker {
    out: Collector,
    /// Inside `<body>`: text before it (the `<head>`) is not read.
    in_body: bool,
}

impl XhtmlWalker {
    /// Ends the text gathered so far at a container boundary (`<div>`, `<ul>` …).
    fn container_boundary(&mut self) {
        if self.out.in_para() {
            self.out.break_para();
        } else {
            self.out.close_implicit();
        }
    }

    /// Opens a paragraph-like element; inside an open paragraph it only ends the text so far
    /// (a heading or list item there still gives its kind to what follows).
    fn enter_para(&mut self, kind: Kind) -> XEl {
        if self.out.in_para() {
            self.out.break_para();
            if matches!(kind, Kind::Heading { .. } | Kind::ListItem) {
                self.out.set_kind(kind);
            }
            XEl::Break
        } else {
            self.out.start_para(kind);
            XEl::Para
        }
    }
}

impl XmlWalker for XhtmlWalker {
    type Element = XEl;

    fn takes_text(&self) -> bool {
        self.in_body
    }

    fn text(&mut self, text: &str) {
        let text = text.replace(['\n', '\r', '\t'], " ");
        self.out.text(&text, true);
    }

    fn literal(&mut self, text: &str) {
        self.out.text(text, true);
    }

    fn enter(&mut self, e: &BytesStart<'_>) -> Enter<XEl> {
        let tag = start_name(e).to_ascii_lowercase();
        let tag = tag.as_str();
        if tag == "body" {
            self.in_body = true;
        }
        Enter::Walk(match tag {
            "script" | "style" | "head" | "nav" | "svg" | "math" | "template" | "noscript"
            | "rt" | "rp" | "object" | "iframe" | "select" | "textarea" | "button" => {
                return Enter::Skip
            }
            "br" => {
                self.out.text("\n", true);
                XEl::Other
            }
            "img" => {
                // Keep alt text of images inside paragraphs only.
                XEl::Other
            }
            "table" => {
                self.out.start_table();
                XEl::Table
            }
            "tr" => {
                self.out.start_row();
                XEl::Row
            }
            "td" | "th" => {
                self.out.start_cell();
                XEl::Cell
            }
            _ => {
                if let Some(kind) = para_kind(tag) {
                    self.enter_para(kind)
                } else if is_container(tag) {
                    self.container_boundary();
                    XEl::Container
                } else {
                    XEl::Other
                }
            }
        })
    }

    fn leave(&mut self, element: XEl) {
        match element {
            XEl::Para => self.out.end_para(),
            XEl::Break => self.out.break_para(),
            XEl::Container => self.container_boundary(),
            XEl::Table => self.out.end_table(),
            XEl::Row => self.out.end_row(),
            XEl::Cell => self.out.end_cell(),
            XEl::Other => {}
        }
    }

    fn leave_empty(&mut self, element: XEl) {
        // An empty break or container already ended the text before it when it was entered.
        match element {
            XEl::Para => self.out.end_para(),
            XEl::Table => self.out.end_table(),
            XEl::Row => self.out.end_row(),
            XEl::Cell => self.out.end_cell(),
            XEl::Break | XEl::Container | XEl::Other => {}
        }
    }
}

/// Block-level text of an XHTML chapter, in document order.
pub(crate) fn xhtml_blocks(xhtml: &str) -> Vec<Block> {
    let mut walker = XhtmlWalker::default();
    // Malformed markup ends the chapter; what was read so far is kept.
    let _ = walk_xml(xhtml, &mut walker);
    walker.out.finish()
}

/// A chapter from XHTML; `None` if it holds no text.
fn parse_chapter(xhtml: &str) -> Option<Chapter> {
    let mut blocks = xhtml_blocks(xhtml);
    // The chapter title is its first heading, if it comes before most text.
    let title = blocks
        .iter()
        .take(3)
        .position(|b| matches!(b.kind, Kind::Heading { .. } | Kind::Title))
        .map(|i| blocks.remove(i).text.replace('\n', " "))
        .unwrap_or_default();
    let paragraphs: Vec<String> = blocks.iter().map(block_text).collect();
    if title.is_empty() && paragraphs.is_empty() {
        return None;
    }
    Some(Chapter { title, paragraphs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zip::tests::make_zip;
    use crate::{parse_bytes, parse_bytes_with, ReadLimits, SourceFormat};

    fn chapter(title: &str, paras: &[&str]) -> String {
        let body: String = paras.iter().map(|p| format!("<p>{p}</p>\n")).collect();
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>Book</title><style>p {{ margin: 0 }}</style></head>
<body><section epub:type="chapter"><h1>{title}</h1>
{body}</section></body></html>"#
        )
    }

    fn sample_epub() -> Vec<u8> {
        let container = r#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
        // Manifest order: c, a, b; spine order: a, b, c.
        let opf = r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Storm Book</dc:title><dc:language>en</dc:language></metadata>
<manifest><item id="c" href="text/three.xhtml" media-type="application/xhtml+xml"/><item id="css" href="style.css" media-type="text/css"/><item id="a" href="text/one%20a.xhtml" media-type="application/xhtml+xml"/><item id="b" href="text/two.xhtml" media-type="application/xhtml+xml"/><item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="cover"/><itemref idref="a"/><itemref idref="b"/><itemref idref="c"/></spine></package>"#;
        let cover = r#"<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Cover</title></head><body><div><img src="cover.jpg" alt="cover"/></div></body></html>"#;
        let one = chapter(
            "The Calm",
            &[
                "The sea was flat that morning.",
                "Nobody expected what came next &amp; nobody was ready.",
            ],
        );
        let two = chapter(
            "The Storm",
            &["Wind tore at the roofs.", "Rain fell&#8212;for hours."],
        );
        let three = r#"<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body><h2>After<br/>math</h2><div>Loose text in a div.</div><ul><li><p>First item</p></li><li>Second item</li></ul><table><tr><td>a</td><td>b</td></tr></table><p>The end.</p><script>var x = 1;</script></body></html>"#;
        make_zip(&[
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", container.as_bytes()),
            ("OEBPS/content.opf", opf.as_bytes()),
            ("OEBPS/cover.xhtml", cover.as_bytes()),
            ("OEBPS/text/three.xhtml", three.as_bytes()),
            ("OEBPS/text/one a.xhtml", one.as_bytes()),
            ("OEBPS/text/two.xhtml", two.as_bytes()),
        ])
    }

    #[test]
    fn chapters_in_spine_order() {
        let chapters = epub_chapters(&sample_epub()).expect("reads");
        let titles: Vec<&str> = chapters.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["The Calm", "The Storm", "After math"]);
        assert_eq!(
            chapters[0].paragraphs,
            [
                "The sea was flat that morning.",
                "Nobody expected what came next & nobody was ready."
            ]
        );
        assert_eq!(chapters[1].paragraphs[1], "Rain fell—for hours.");
        assert_eq!(
            chapters[2].paragraphs,
            [
                "Loose text in a div.",
                "• First item",
                "• Second item",
                "a | b",
                "The end."
            ]
        );
    }

    #[test]
    fn whole_book_and_one_chapter() {
        let bytes = sample_epub();
        let doc = parse_bytes(&bytes, "storm.epub", None).expect("reads");
        assert_eq!(doc.format, SourceFormat::Epub);
        assert_eq!(doc.title, "The Storm Book");
        let texts: Vec<&str> = doc.paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts[0], "The Calm");
        assert_eq!(texts[3], "The Storm");
        assert_eq!(texts[6], "After math");
        assert_eq!(texts.len(), 12);

        let limits = ReadLimits {
            chapter: Some(2),
            ..ReadLimits::default()
        };
        let doc = parse_bytes_with(&bytes, "storm.epub", None, &limits).expect("reads");
        assert_eq!(doc.title, "The Storm");
        assert_eq!(doc.subtitle.as_deref(), Some("The Storm Book"));
        let texts: Vec<&str> = doc.paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["Wind tore at the roofs.", "Rain fell—for hours."]);

        let limits = ReadLimits {
            chapter: Some(9),
            ..ReadLimits::default()
        };
        let err = parse_bytes_with(&bytes, "storm.epub", None, &limits).expect_err("no ch 9");
        assert!(
            matches!(
                err,
                ReadError::NoSuchChapter {
                    chapter: 9,
                    count: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("from 1 to 3"), "{err}");

        // Lying extension.
        let doc = parse_bytes(&bytes, "book.txt", None).expect("reads");
        assert_eq!(doc.format, SourceFormat::Epub);
    }

    #[test]
    fn broken_books() {
        let no_container = make_zip(&[("mimetype", b"application/epub+zip")]);
        let err = parse_bytes(&no_container, "a.epub", None).expect_err("no container");
        assert!(matches!(err, ReadError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("container.xml"), "{err}");

        let no_chapters = make_zip(&[
            ("mimetype", b"application/epub+zip"),
            (
                "META-INF/container.xml",
                br#"<container><rootfiles><rootfile full-path="x.opf"/></rootfiles></container>"#,
            ),
            ("x.opf", b"<package><manifest/><spine/></package>"),
        ]);
        let err = parse_bytes(&no_chapters, "a.epub", None).expect_err("empty");
        assert!(matches!(err, ReadError::NoText { .. }), "{err}");

        // Malformed / deeply nested XHTML.
        let deep = format!(
            "<html><body>{}text<p>after &bogus; <b>unclosed</i></p>",
            "<div><span>".repeat(100_000)
        );
        let blocks = xhtml_blocks(&deep);
        assert!(!blocks.is_empty());
    }

    #[test]
    fn paths() {
        assert_eq!(
            normalize_path("OEBPS", "../a/./b%20c.xhtml#x"),
            "a/b c.xhtml"
        );
        assert_eq!(normalize_path("", "/x/y.xhtml"), "x/y.xhtml");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
