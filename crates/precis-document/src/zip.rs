//! ZIP containers and the XML inside them: the plumbing the DOCX, ODT and EPUB readers share.
//!
//! Everything here streams: ZIP members are read through a byte budget (so a
//! zip bomb is refused after a bounded amount of work) and XML is read with
//! quick-xml events and an explicit element stack ([`walk_xml`]: no recursion, so deeply
//! nested markup cannot overflow the stack).

use std::borrow::Cow;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;

use super::ReadError;

/// Most entries a container may have.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// Most uncompressed bytes read from one container, whatever its size.
pub const MAX_UNPACKED_BYTES: u64 = 200 * 1024 * 1024;
/// Uncompressed bytes allowed per compressed byte of the file…
pub const MAX_EXPANSION_RATIO: u64 = 20;
/// …but never less than this, so small but legitimate files are not refused.
pub const MIN_UNPACKED_BUDGET: u64 = 16 * 1024 * 1024;

pub(crate) fn corrupt(name: &str, reason: impl std::fmt::Display) -> ReadError {
    let reason = reason.to_string().replace(['\n', '\r'], " ");
    ReadError::Corrupt {
        name: name.to_owned(),
        reason,
    }
}

/// A ZIP container read under a budget of uncompressed bytes.
pub(crate) struct Archive<'a> {
    zip: ::zip::ZipArchive<Cursor<&'a [u8]>>,
    name: &'a str,
    budget: u64,
    limit: u64,
}

impl<'a> Archive<'a> {
    pub(crate) fn open(bytes: &'a [u8], name: &'a str) -> Result<Self, ReadError> {
        let zip = ::zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| corrupt(name, format_args!("not a readable ZIP archive: {e}")))?;
        if zip.len() > MAX_ZIP_ENTRIES {
            return Err(ReadError::ArchiveLimit {
                name: name.to_owned(),
                detail: format!(
                    "it has {} entries, more than the limit of {MAX_ZIP_ENTRIES}",
                    zip.len()
                ),
            });
        }
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let limit = size
            .saturating_mul(MAX_EXPANSION_RATIO)
            .clamp(MIN_UNPACKED_BUDGET, MAX_UNPACKED_BYTES);
        Ok(Self {
            zip,
            name,
            budget: limit,
            limit,
        })
    }

    pub(crate) fn has(&self, path: &str) -> bool {
        self.zip.index_for_name(path).is_some()
    }

    fn too_big(&self, member: &str) -> ReadError {
        ReadError::ArchiveLimit {
            name: self.name.to_owned(),
            detail: format!(
                "'{member}' unpacks to more than {} in total",
                super::human_size(self.limit)
            ),
        }
    }

    /// Reads a member (`None` if absent), charging its size to the budget.
    pub(crate) fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, ReadError> {
        let Some(index) = self.zip.index_for_name(path) else {
            return Ok(None);
        };
        let name = self.name;
        let budget = self.budget;
        let mut file = match self.zip.by_index(index) {
            Ok(file) => file,
            Err(e) => return Err(corrupt(name, format_args!("cannot open '{path}': {e}"))),
        };
        if file.size() > budget {
            drop(file);
            return Err(self.too_big(path));
        }
        let mut out = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0).min(1 << 20));
        let read = (&mut file)
            .take(budget.saturating_add(1))
            .read_to_end(&mut out);
        drop(file);
        if let Err(e) = read {
            return Err(corrupt(name, format_args!("cannot unpack '{path}': {e}")));
        }
        let used = u64::try_from(out.len()).unwrap_or(u64::MAX);
        if used > budget {
            return Err(self.too_big(path));
        }
        self.budget -= used;
        Ok(Some(out))
    }

    /// Reads a member as text (lossy UTF-8, BOM removed).
    pub(crate) fn read_text(&mut self, path: &str) -> Result<Option<String>, ReadError> {
        Ok(self.read(path)?.map(|bytes| {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            String::from_utf8_lossy(bytes).into_owned()
        }))
    }
}

// ---------------------------------------------------------------------------
// XML helpers

pub(crate) fn xml_reader(xml: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    config.check_comments = false;
    config.trim_text(false);
    reader
}

/// Local part of a qualified name (`w:p` → `p`).
pub(crate) fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

pub(crate) fn start_name<'e>(e: &'e BytesStart<'_>) -> &'e str {
    local(e.name().0)
}

/// Value of an attribute matched by local name, unescaped.
pub(crate) fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (local(a.key.0) == key).then(|| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .map(Cow::into_owned)
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
    })
}

/// Text of an entity or character reference (`amp`, `#8217`, `nbsp`, …).
pub(crate) fn resolve_ref(name: &str) -> String {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse().ok(),
        };
        return code
            .and_then(char::from_u32)
            .filter(|c| *c != '\0')
            .map(String::from)
            .unwrap_or_default();
    }
    let s = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{A0}",
        "shy" => "",
        "ndash" => "–",
        "mdash" => "—",
        "hellip" => "…",
        "lsquo" => "‘",
        "rsquo" => "’",
        "ldquo" => "“",
        "rdquo" => "”",
        "laquo" => "«",
        "raquo" => "»",
        "bull" => "•",
        "middot" => "·",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "deg" => "°",
        "eacute" => "é",
        "egrave" => "è",
        "agrave" => "à",
        "uuml" => "ü",
        "ouml" => "ö",
        "auml" => "ä",
        "szlig" => "ß",
        "ccedil" => "ç",
        "thinsp" | "ensp" | "emsp" => " ",
        "zwnj" | "zwj" => "",
        _ => return format!("&{name};"),
    };
    s.to_owned()
}

/// Reads the first `dc:title` (or other element with local name `title`
/// inside metadata) of a small XML part.
pub(crate) fn dc_title(xml: &str) -> Option<String> {
    first_text(xml, |e| {
        e.name().0 == "dc:title" || start_name(e) == "title"
    })
}

/// Text of the first element named exactly one of `names` (qualified, e.g. `dc:creator`).
fn meta_field(xml: &str, names: &[&str]) -> Option<String> {
    first_text(xml, |e| names.iter().any(|n| e.name().0 == *n))
}

/// Whitespace-collapsed text of the first element that `wanted` picks and that holds text
/// (an empty one is passed over); `None` when none does or the XML breaks first.
fn first_text(xml: &str, wanted: impl Fn(&BytesStart<'_>) -> bool) -> Option<String> {
    let mut reader = xml_reader(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if wanted(&e) => {
                inside = true;
                text.clear();
            }
            Ok(Event::End(_)) if inside => {
                let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if !t.is_empty() {
                    return Some(t);
                }
                inside = false;
            }
            Ok(Event::Text(t)) if inside => text.push_str(&t.xml10_content()),
            Ok(Event::CData(t)) if inside => text.push_str(&t),
            Ok(Event::GeneralRef(r)) if inside => text.push_str(&resolve_ref(&r)),
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// Author and date from Dublin Core style metadata (DOCX core.xml, ODT meta.xml, EPUB OPF).
/// Dates are cut to `YYYY-MM-DD` when they start that way.
pub(crate) fn byline_and_date(xml: &str) -> (Option<String>, Option<String>) {
    let byline = meta_field(xml, &["dc:creator", "meta:initial-creator"]);
    let date = meta_field(xml, &["dcterms:created", "dc:date", "meta:creation-date"]).map(|d| {
        let b = d.as_bytes();
        let iso =
            b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-';
        // `get`: byte 10 need not be a char boundary (found by the epub fuzzer).
        match d.get(..10) {
            Some(day) if iso => day.to_owned(),
            _ => d,
        }
    });
    (byline, date)
}

/// What an [`XmlWalker`] makes of an element it enters.
pub(crate) enum Enter<E> {
    /// Walk into it; the walker gets `E` back when the element ends.
    Walk(E),
    /// Drop it with everything inside (comments, deleted text, scripts …).
    Skip,
}

/// One XML vocabulary (DOCX, ODT, XHTML) read into blocks by [`walk_xml`], which keeps the
/// element stack (no recursion, so deep nesting cannot overflow the stack) and drops skipped
/// subtrees; the walker only says what elements and text mean.
pub(crate) trait XmlWalker {
    /// What the walker remembers of an open element until it ends.
    type Element: Copy;

    /// Whether text at this point belongs to the document.
    fn takes_text(&self) -> bool;
    /// A text node, unescaped.
    fn text(&mut self, text: &str);
    /// CDATA, or the text of an entity or character reference.
    fn literal(&mut self, text: &str) {
        self.text(text);
    }
    fn enter(&mut self, element: &BytesStart<'_>) -> Enter<Self::Element>;
    fn leave(&mut self, element: Self::Element);
    /// An empty element (`<x/>`), entered and left at once.
    fn leave_empty(&mut self, element: Self::Element) {
        self.leave(element);
    }
}

/// Reads `xml` to its end through `walker`; the first syntax error stops it (what was walked
/// so far stays in the walker).
pub(crate) fn walk_xml<W: XmlWalker>(xml: &str, walker: &mut W) -> Result<(), quick_xml::Error> {
    enum Open<E> {
        Walked(E),
        /// The root of a skipped subtree.
        Skipped,
        /// Inside a skipped subtree.
        Dropped,
    }
    let mut reader = xml_reader(xml);
    let mut stack: Vec<Open<W::Element>> = Vec::new();
    let mut skip = 0usize;
    loop {
        let (e, empty) = match reader.read_event()? {
            Event::Eof => return Ok(()),
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                match stack.pop() {
                    Some(Open::Skipped) => skip -= 1,
                    _ if skip > 0 => {}
                    Some(Open::Walked(element)) => walker.leave(element),
                    Some(Open::Dropped) | None => {}
                }
                continue;
            }
            Event::Text(t) if skip == 0 && walker.takes_text() => {
                walker.text(&t.xml10_content());
                continue;
            }
            Event::CData(t) if skip == 0 && walker.takes_text() => {
                walker.literal(&t);
                continue;
            }
            Event::GeneralRef(r) if skip == 0 && walker.takes_text() => {
                walker.literal(&resolve_ref(&r));
                continue;
            }
            _ => continue,
        };
        if skip > 0 {
            if !empty {
                stack.push(Open::Dropped);
            }
            continue;
        }
        match walker.enter(&e) {
            Enter::Skip if empty => {}
            Enter::Skip => {
                skip += 1;
                stack.push(Open::Skipped);
            }
            Enter::Walk(element) if empty => walker.leave_empty(element),
            Enter::Walk(element) => stack.push(Open::Walked(element)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::parse_bytes;
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// Builds a ZIP from (path, content) pairs, deflated.
    pub(crate) fn make_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (path, data) in members {
            let method = if *path == "mimetype" {
                ::zip::CompressionMethod::Stored
            } else {
                ::zip::CompressionMethod::Deflated
            };
            let opts = ::zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .large_file(data.len() > u32::MAX as usize / 2);
            w.start_file(*path, opts).expect("start member");
            w.write_all(data).expect("write member");
        }
        w.finish().expect("finish zip").into_inner()
    }

    #[test]
    fn metadata_byline_and_date() {
        let core = r#"<cp:coreProperties xmlns:dc="d" xmlns:dcterms="t"><dc:creator>Ann Lee</dc:creator><dcterms:created>2024-02-03T10:00:00Z</dcterms:created></cp:coreProperties>"#;
        assert_eq!(
            byline_and_date(core),
            (Some("Ann Lee".to_owned()), Some("2024-02-03".to_owned()))
        );
        let odt = r#"<office:meta><meta:initial-creator>Bo</meta:initial-creator><meta:creation-date>2020-12-31T23:59:59</meta:creation-date></office:meta>"#;
        assert_eq!(
            byline_and_date(odt),
            (Some("Bo".to_owned()), Some("2020-12-31".to_owned()))
        );
        assert_eq!(byline_and_date("<x/>"), (None, None));
        // A multi-byte character across byte 10 (fuzz regression): kept whole, no panic.
        let odd = "<dc:date>2020-01-\u{FFFD}02</dc:date>";
        assert_eq!(
            byline_and_date(odd).1.as_deref(),
            Some("2020-01-\u{FFFD}02")
        );
    }

    #[test]
    fn zip_bomb_refused_quickly() {
        let zeros = vec![0u8; 300 * 1024 * 1024];
        let bytes = make_zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", &zeros),
        ]);
        drop(zeros);
        assert!(bytes.len() < 2 * 1024 * 1024, "{}", bytes.len());
        let start = Instant::now();
        let err = parse_bytes(&bytes, "bomb.docx", None).expect_err("bomb refused");
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(err, ReadError::ArchiveLimit { .. }), "{err}");
        assert!(err.to_string().contains("zip bomb"), "{err}");
        assert!(!err.to_string().contains('\n'));

        // Same bomb with a lying size in the headers: stopped by the read budget.
        let mut lying = bytes.clone();
        let small = 1000u32.to_le_bytes();
        let mut i = 0;
        while i + 46 <= lying.len() {
            if lying[i..].starts_with(b"PK\x01\x02") {
                lying[i + 24..i + 28].copy_from_slice(&small);
                i += 46;
            } else if lying[i..].starts_with(b"PK\x03\x04") {
                lying[i + 22..i + 26].copy_from_slice(&small);
                i += 30;
            } else {
                i += 1;
            }
        }
        let start = Instant::now();
        let result = parse_bytes(&lying, "bomb.docx", None);
        assert!(start.elapsed() < Duration::from_secs(5));
        let err = result.expect_err("lying bomb refused");
        assert!(matches!(err, ReadError::ArchiveLimit { .. }), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn too_many_entries() {
        let names: Vec<String> = (0..MAX_ZIP_ENTRIES + 1).map(|i| format!("f{i}")).collect();
        let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let bytes = make_zip(&members);
        let err = parse_bytes(&bytes, "many.docx", None).expect_err("refused");
        assert!(matches!(err, ReadError::ArchiveLimit { .. }), "{err}");
    }

    #[test]
    fn other_zips_are_not_documents() {
        let bytes = make_zip(&[("photo.jpg", b"\xFF\xD8\xFF"), ("readme.txt", b"hello")]);
        let err = parse_bytes(&bytes, "archive.zip", None).expect_err("plain zip");
        assert!(matches!(err, ReadError::Binary { .. }), "{err}");
        assert!(err.to_string().contains("not a DOCX, ODT or EPUB"), "{err}");

        let ods = make_zip(&[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", b"<x/>"),
        ]);
        let err = parse_bytes(&ods, "sheet.ods", None).expect_err("ods");
        assert!(matches!(err, ReadError::Binary { .. }), "{err}");
    }
}
