//! Office documents packed in ZIP containers: DOCX (Office Open XML) and ODT
//! (OpenDocument Text), plus the ZIP and XML plumbing shared with EPUB.
//!
//! Everything here streams: ZIP members are read through a byte budget (so a
//! zip bomb is refused after a bounded amount of work) and XML is read with
//! quick-xml events and an explicit element stack (no recursion, so deeply
//! nested markup cannot overflow the stack).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;

use super::raw::RawDocument;
use super::ReadError;

/// Most entries a container may have.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// Most uncompressed bytes read from one container, whatever its size.
pub const MAX_UNPACKED_BYTES: u64 = 200 * 1024 * 1024;
/// Uncompressed bytes allowed per compressed byte of the file…
pub const MAX_EXPANSION_RATIO: u64 = 20;
/// …but never less than this, so small but legitimate files are not refused.
pub const MIN_UNPACKED_BUDGET: u64 = 16 * 1024 * 1024;

/// What a ZIP container holds, decided from its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZipKind {
    Docx,
    Odt,
    Epub,
}

pub(crate) fn corrupt(name: &str, reason: impl std::fmt::Display) -> ReadError {
    let reason = reason.to_string().replace(['\n', '\r'], " ");
    ReadError::Corrupt {
        name: name.to_owned(),
        reason,
    }
}

/// A ZIP container read under a budget of uncompressed bytes.
pub(crate) struct Archive<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    name: &'a str,
    budget: u64,
    limit: u64,
}

impl<'a> Archive<'a> {
    pub(crate) fn open(bytes: &'a [u8], name: &'a str) -> Result<Self, ReadError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
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

    /// Decides what the container is, or `None` for any other ZIP.
    pub(crate) fn kind(&mut self) -> Result<Option<ZipKind>, ReadError> {
        if self.has("mimetype") {
            let mime = self.read_text("mimetype")?.unwrap_or_default();
            let mime = mime.trim();
            if mime == "application/epub+zip" {
                return Ok(Some(ZipKind::Epub));
            }
            if mime.starts_with("application/vnd.oasis.opendocument.text") {
                return Ok(Some(ZipKind::Odt));
            }
            return Ok(None);
        }
        if self.has("[Content_Types].xml") && self.has("word/document.xml") {
            return Ok(Some(ZipKind::Docx));
        }
        if self.has("META-INF/container.xml") {
            return Ok(Some(ZipKind::Epub));
        }
        Ok(None)
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
    let mut reader = xml_reader(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.name().0 == "dc:title" || start_name(&e) == "title" => {
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

/// Text of the first element named exactly one of `names` (qualified, e.g. `dc:creator`).
fn meta_field(xml: &str, names: &[&str]) -> Option<String> {
    let mut reader = xml_reader(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if names.iter().any(|n| e.name().0 == *n) => {
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

// ---------------------------------------------------------------------------
// Block collection shared by DOCX, ODT and EPUB XHTML

/// What a block of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Para,
    Title,
    Subtitle,
    Heading(u8),
    ListItem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub kind: Kind,
    pub text: String,
}

struct OpenPara {
    kind: Kind,
    text: String,
    /// Number of open tables when the paragraph started.
    tables: usize,
    implicit: bool,
}

#[derive(Default)]
struct OpenTable {
    row: Vec<String>,
    cell: Option<String>,
}

/// Turns a stream of paragraph / table / text calls into [`Block`]s.
#[derive(Default)]
pub(crate) struct Collector {
    pub blocks: Vec<Block>,
    paras: Vec<OpenPara>,
    tables: Vec<OpenTable>,
}

/// Collapses whitespace within lines, keeps line breaks and tabs, trims.
fn tidy(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let mut out = String::new();
        let mut pending_space = false;
        for c in line.chars() {
            if c == '\t' {
                out.push('\t');
                pending_space = false;
            } else if c.is_whitespace() && c != '\u{A0}' {
                pending_space = true;
            } else {
                if pending_space && !out.is_empty() && !out.ends_with('\t') {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
        let out = out.trim_matches(|c: char| c.is_whitespace()).to_owned();
        if !out.is_empty() {
            lines.push(out);
        }
    }
    lines.join("\n")
}

impl Collector {
    /// Whether a paragraph is open at the current table depth.
    pub fn in_para(&self) -> bool {
        self.paras
            .last()
            .is_some_and(|p| p.tables == self.tables.len())
    }

    pub fn start_para(&mut self, kind: Kind) {
        self.close_implicit();
        self.paras.push(OpenPara {
            kind,
            text: String::new(),
            tables: self.tables.len(),
            implicit: false,
        });
    }

    /// Changes the kind of the innermost open paragraph.
    pub fn set_kind(&mut self, kind: Kind) {
        if let Some(p) = self.paras.last_mut() {
            p.kind = kind;
        }
    }

    pub fn kind(&self) -> Option<Kind> {
        self.paras.last().map(|p| p.kind)
    }

    /// Emits the text gathered so far in the open paragraph and keeps it open
    /// (used for block elements nested in a paragraph, e.g. `<li><p>`).
    pub fn break_para(&mut self) {
        self.close_implicit();
        if !self.in_para() {
            return;
        }
        let Some(p) = self.paras.last_mut() else {
            return;
        };
        let text = std::mem::take(&mut p.text);
        let kind = p.kind;
        self.emit(kind, &text);
    }

    pub fn end_para(&mut self) {
        self.close_implicit();
        if let Some(p) = self.paras.pop() {
            self.emit(p.kind, &p.text);
        }
    }

    fn emit(&mut self, kind: Kind, text: &str) {
        let text = tidy(text);
        if text.is_empty() {
            return;
        }
        if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(&text.replace(['\n', '\t'], " "));
            return;
        }
        self.blocks.push(Block { kind, text });
    }

    /// Closes an implicit paragraph (loose text outside block elements).
    pub fn close_implicit(&mut self) {
        if self.paras.last().is_some_and(|p| p.implicit) {
            if let Some(p) = self.paras.pop() {
                self.emit(p.kind, &p.text);
            }
        }
    }

    /// Adds text to the open paragraph, else to the open table cell, else to
    /// an implicit paragraph when `loose` (XHTML), else drops it.
    pub fn text(&mut self, text: &str, loose: bool) {
        if self.in_para() {
            if let Some(p) = self.paras.last_mut() {
                p.text.push_str(text);
            }
            return;
        }
        if loose {
            if text.trim().is_empty() {
                if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    cell.push(' ');
                }
                return;
            }
            self.paras.push(OpenPara {
                kind: Kind::Para,
                text: text.to_owned(),
                tables: self.tables.len(),
                implicit: true,
            });
        }
    }

    pub fn start_table(&mut self) {
        self.close_implicit();
        self.tables.push(OpenTable::default());
    }

    pub fn end_table(&mut self) {
        self.close_implicit();
        self.end_row();
        // Paragraphs left open inside the table are closed with it.
        while self
            .paras
            .last()
            .is_some_and(|p| p.tables >= self.tables.len())
        {
            self.end_para();
        }
        self.tables.pop();
    }

    pub fn start_row(&mut self) {
        self.close_implicit();
        self.end_row();
    }

    pub fn end_row(&mut self) {
        self.close_implicit();
        self.end_cell();
        let Some(table) = self.tables.last_mut() else {
            return;
        };
        let cells: Vec<String> = std::mem::take(&mut table.row)
            .into_iter()
            .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|c| !c.is_empty())
            .collect();
        if cells.is_empty() {
            return;
        }
        let row = cells.join(" | ");
        let depth = self.tables.len();
        match self
            .tables
            .get_mut(depth.wrapping_sub(2))
            .and_then(|t| t.cell.as_mut())
        {
            // A nested table's rows go into the enclosing cell.
            Some(cell) if depth >= 2 => {
                if !cell.is_empty() {
                    cell.push(' ');
                }
                cell.push_str(&row);
            }
            _ => self.blocks.push(Block {
                kind: Kind::Para,
                text: row,
            }),
        }
    }

    pub fn start_cell(&mut self) {
        self.close_implicit();
        self.end_cell();
        if let Some(table) = self.tables.last_mut() {
            table.cell = Some(String::new());
        }
    }

    pub fn end_cell(&mut self) {
        self.close_implicit();
        // Paragraphs opened inside this table's cell are closed with it.
        while !self.tables.is_empty()
            && self
                .paras
                .last()
                .is_some_and(|p| p.tables == self.tables.len())
        {
            self.end_para();
        }
        if let Some(table) = self.tables.last_mut() {
            if let Some(cell) = table.cell.take() {
                table.row.push(cell);
            }
        }
    }

    /// Closes whatever is still open and returns the blocks.
    pub fn finish(mut self) -> Vec<Block> {
        while !self.tables.is_empty() {
            self.end_table();
        }
        while !self.paras.is_empty() {
            self.end_para();
        }
        self.blocks
    }
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Whether a paragraph is short enough to be a headline.
fn headline_like(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.chars().count() <= 150
        && word_count(t) <= 20
        && !t.contains('\n')
        && !t.ends_with(['.', ':', ';', ','])
}

/// Text a block contributes to the body.
pub(crate) fn block_text(block: &Block) -> String {
    match block.kind {
        Kind::ListItem => format!("• {}", block.text),
        _ => block.text.clone(),
    }
}

fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

/// Builds the header and body from blocks. `meta_title` (from document
/// metadata) wins; otherwise the first Title block, else the first level-1
/// heading, else the first paragraph if it is short.
pub(crate) fn assemble(mut blocks: Vec<Block>, meta_title: Option<String>) -> RawDocument {
    let meta_title = meta_title
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && !looks_like_file_name(t));
    let title_index = blocks
        .iter()
        .position(|b| b.kind == Kind::Title)
        .or_else(|| blocks.iter().position(|b| b.kind == Kind::Heading(1)));
    let title = match meta_title {
        Some(title) => {
            // Drop the in-body copy of the title.
            if let Some(i) = title_index.filter(|&i| same_text(&blocks[i].text, &title)) {
                blocks.remove(i);
            } else if blocks.first().is_some_and(|b| same_text(&b.text, &title)) {
                blocks.remove(0);
            }
            title
        }
        None => match title_index {
            Some(i) => blocks.remove(i).text,
            None if blocks.len() > 1
                && matches!(blocks[0].kind, Kind::Para | Kind::Heading(_))
                && headline_like(&blocks[0].text) =>
            {
                blocks.remove(0).text
            }
            None => String::new(),
        },
    };
    let subtitle = blocks
        .iter()
        .position(|b| b.kind == Kind::Subtitle)
        .map(|i| blocks.remove(i).text);
    RawDocument {
        title: title.replace(['\n', '\t'], " "),
        subtitle,
        paragraphs: blocks.iter().map(block_text).collect(),
        ..RawDocument::default()
    }
}

fn looks_like_file_name(title: &str) -> bool {
    let lower = title.to_lowercase();
    [".doc", ".docx", ".odt", ".rtf", ".dot", ".dotx"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || lower.starts_with("microsoft word - ")
}

// ---------------------------------------------------------------------------
// DOCX

/// Classification of a DOCX paragraph style.
fn classify_style(id: &str, name: Option<&str>, outline: Option<u8>) -> Option<Kind> {
    let name = name.unwrap_or(id).to_lowercase().replace(' ', "");
    let id_l = id.to_lowercase();
    if name == "title" || id_l == "title" {
        return Some(Kind::Title);
    }
    if name == "subtitle" || id_l == "subtitle" {
        return Some(Kind::Subtitle);
    }
    for s in [&name, &id_l] {
        if let Some(n) = s.strip_prefix("heading") {
            if let Ok(level) = n.parse::<u8>() {
                return Some(Kind::Heading(level.clamp(1, 9)));
            }
        }
    }
    if let Some(level) = outline.filter(|&l| l < 9) {
        return Some(Kind::Heading(level + 1));
    }
    if name.starts_with("listbullet") || name.starts_with("listnumber") {
        return Some(Kind::ListItem);
    }
    None
}

/// styleId → kind, from word/styles.xml.
fn docx_styles(xml: &str) -> HashMap<String, Kind> {
    let mut map = HashMap::new();
    let mut reader = xml_reader(xml);
    let mut current: Option<(String, Option<String>, Option<u8>)> = None;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        match event {
            Event::Start(e) | Event::Empty(e) => match start_name(&e) {
                "style" => {
                    if let Some((id, name, outline)) = current.take() {
                        if let Some(kind) = classify_style(&id, name.as_deref(), outline) {
                            map.insert(id, kind);
                        }
                    }
                    current = attr(&e, "styleId").map(|id| (id, None, None));
                }
                "name" => {
                    if let Some(c) = current.as_mut() {
                        c.1 = attr(&e, "val");
                    }
                }
                "outlineLvl" => {
                    if let Some(c) = current.as_mut() {
                        c.2 = attr(&e, "val").and_then(|v| v.parse().ok());
                    }
                }
                _ => {}
            },
            Event::End(e) if local(e.name().0) == "style" => {
                if let Some((id, name, outline)) = current.take() {
                    if let Some(kind) = classify_style(&id, name.as_deref(), outline) {
                        map.insert(id, kind);
                    }
                }
            }
            _ => {}
        }
    }
    map
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DocxEl {
    Other,
    Para,
    Run,
    Text,
    Table,
    Row,
    Cell,
    PPr,
    Skip,
}

fn parse_docx_xml(
    xml: &str,
    styles: &HashMap<String, Kind>,
    name: &str,
) -> Result<Vec<Block>, ReadError> {
    let mut reader = xml_reader(xml);
    let mut out = Collector::default();
    let mut stack: Vec<DocxEl> = Vec::new();
    let mut skip = 0usize;
    let mut runs = 0usize;
    let mut in_text = 0usize;
    let mut in_ppr = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| corrupt(name, format_args!("malformed word/document.xml: {e}")))?;
        let (e, empty) = match event {
            Event::Eof => break,
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                match stack.pop() {
                    Some(DocxEl::Skip) => skip -= 1,
                    _ if skip > 0 => {}
                    Some(DocxEl::Para) => out.end_para(),
                    Some(DocxEl::Run) => runs -= 1,
                    Some(DocxEl::Text) => in_text -= 1,
                    Some(DocxEl::Table) => out.end_table(),
                    Some(DocxEl::Row) => out.end_row(),
                    Some(DocxEl::Cell) => out.end_cell(),
                    Some(DocxEl::PPr) => in_ppr -= 1,
                    Some(DocxEl::Other) | None => {}
                }
                continue;
            }
            Event::Text(t) if skip == 0 && in_text > 0 => {
                out.text(&t.xml10_content(), false);
                continue;
            }
            Event::CData(t) if skip == 0 && in_text > 0 => {
                out.text(&t, false);
                continue;
            }
            Event::GeneralRef(r) if skip == 0 && in_text > 0 => {
                out.text(&resolve_ref(&r), false);
                continue;
            }
            _ => continue,
        };
        let tag = start_name(&e);
        let qname = e.name().0;
        if skip > 0 {
            if !empty {
                stack.push(DocxEl::Other);
            }
            continue;
        }
        let el = match tag {
            "p" if qname != "m:p" => {
                out.start_para(Kind::Para);
                DocxEl::Para
            }
            "pPr" => {
                in_ppr += 1;
                DocxEl::PPr
            }
            "pStyle" if out.kind().is_some() => {
                if let Some(kind) = attr(&e, "val").and_then(|id| {
                    styles
                        .get(&id)
                        .copied()
                        .or_else(|| classify_style(&id, None, None))
                }) {
                    out.set_kind(kind);
                }
                DocxEl::Other
            }
            "numPr" if out.kind() == Some(Kind::Para) => {
                out.set_kind(Kind::ListItem);
                DocxEl::Other
            }
            "outlineLvl" if out.kind() == Some(Kind::Para) && in_ppr > 0 => {
                if let Some(level) = attr(&e, "val").and_then(|v| v.parse::<u8>().ok()) {
                    if level < 9 {
                        out.set_kind(Kind::Heading(level + 1));
                    }
                }
                DocxEl::Other
            }
            "r" => {
                runs += 1;
                DocxEl::Run
            }
            "t" if qname == "w:t" || qname == "t" => {
                in_text += 1;
                DocxEl::Text
            }
            "tab" if runs > 0 => {
                out.text("\t", false);
                DocxEl::Other
            }
            "br" | "cr" if runs > 0 => {
                out.text("\n", false);
                DocxEl::Other
            }
            "noBreakHyphen" if runs > 0 => {
                out.text("-", false);
                DocxEl::Other
            }
            "tbl" => {
                out.start_table();
                DocxEl::Table
            }
            "tr" => {
                out.start_row();
                DocxEl::Row
            }
            "tc" => {
                out.start_cell();
                DocxEl::Cell
            }
            // Duplicate renderings, deleted text, field codes, comments.
            "Fallback" | "del" | "delText" | "instrText" | "commentReference" | "rPr"
            | "sectPr" => {
                if !empty {
                    skip += 1;
                }
                DocxEl::Skip
            }
            _ => DocxEl::Other,
        };
        if empty {
            // An empty element opens and closes at once.
            match el {
                DocxEl::Para => out.end_para(),
                DocxEl::Run => runs -= 1,
                DocxEl::Text => in_text -= 1,
                DocxEl::Table => out.end_table(),
                DocxEl::Row => out.end_row(),
                DocxEl::Cell => out.end_cell(),
                DocxEl::PPr => in_ppr -= 1,
                _ => {}
            }
        } else {
            stack.push(el);
        }
    }
    Ok(out.finish())
}

pub(crate) fn parse_docx_archive(
    archive: &mut Archive<'_>,
    name: &str,
) -> Result<RawDocument, ReadError> {
    let Some(xml) = archive.read_text("word/document.xml")? else {
        return Err(corrupt(name, "word/document.xml is missing"));
    };
    let styles = archive
        .read_text("word/styles.xml")?
        .map(|s| docx_styles(&s))
        .unwrap_or_default();
    let blocks = parse_docx_xml(&xml, &styles, name)?;
    let core = archive.read_text("docProps/core.xml")?;
    let meta_title = core.as_deref().and_then(dc_title);
    let mut raw = assemble(blocks, meta_title);
    (raw.byline, raw.published) = core.as_deref().map(byline_and_date).unwrap_or_default();
    Ok(raw)
}

// ---------------------------------------------------------------------------
// ODT

#[derive(Clone, Copy, PartialEq, Eq)]
enum OdtEl {
    Other,
    Para,
    ListItem,
    Table,
    Row,
    Cell,
    Skip,
    Body,
}

fn odt_style_kind(style: &str) -> Option<Kind> {
    let s = style.to_lowercase().replace(['_', ' '], "");
    match s.as_str() {
        "title" => Some(Kind::Title),
        "subtitle" => Some(Kind::Subtitle),
        _ => s
            .strip_prefix("heading")
            .and_then(|n| n.parse::<u8>().ok())
            .map(|l| Kind::Heading(l.clamp(1, 9))),
    }
}

/// Automatic style name → parent style name, from content.xml.
fn odt_parent_styles(xml: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut reader = xml_reader(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let tag = start_name(&e);
                if tag == "body" {
                    break;
                }
                if tag == "style" {
                    if let (Some(n), Some(p)) = (attr(&e, "name"), attr(&e, "parent-style-name")) {
                        map.insert(n, p);
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    map
}

fn parse_odt_xml(xml: &str, name: &str) -> Result<Vec<Block>, ReadError> {
    let parents = odt_parent_styles(xml);
    let style_kind = |style: &str| {
        odt_style_kind(style).or_else(|| parents.get(style).and_then(|p| odt_style_kind(p)))
    };
    let mut reader = xml_reader(xml);
    let mut out = Collector::default();
    let mut stack: Vec<OdtEl> = Vec::new();
    let mut skip = 0usize;
    let mut body = 0usize;
    let mut list_items = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| corrupt(name, format_args!("malformed content.xml: {e}")))?;
        let (e, empty) = match event {
            Event::Eof => break,
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                match stack.pop() {
                    Some(OdtEl::Skip) => skip -= 1,
                    _ if skip > 0 => {}
                    Some(OdtEl::Body) => body -= 1,
                    Some(OdtEl::Para) => out.end_para(),
                    Some(OdtEl::ListItem) => list_items -= 1,
                    Some(OdtEl::Table) => out.end_table(),
                    Some(OdtEl::Row) => out.end_row(),
                    Some(OdtEl::Cell) => out.end_cell(),
                    Some(OdtEl::Other) | None => {}
                }
                continue;
            }
            Event::Text(t) if skip == 0 && body > 0 => {
                out.text(&t.xml10_content(), false);
                continue;
            }
            Event::CData(t) if skip == 0 && body > 0 => {
                out.text(&t, false);
                continue;
            }
            Event::GeneralRef(r) if skip == 0 && body > 0 => {
                out.text(&resolve_ref(&r), false);
                continue;
            }
            _ => continue,
        };
        if skip > 0 {
            if !empty {
                stack.push(OdtEl::Other);
            }
            continue;
        }
        let tag = start_name(&e);
        let el = if tag == "text" && e.name().0 == "office:text" {
            body += 1;
            OdtEl::Body
        } else if body == 0 {
            OdtEl::Other
        } else {
            match tag {
                "h" => {
                    let level = attr(&e, "outline-level")
                        .and_then(|l| l.parse::<u8>().ok())
                        .unwrap_or(1)
                        .clamp(1, 9);
                    let kind = attr(&e, "style-name")
                        .and_then(|s| style_kind(&s))
                        .filter(|k| matches!(k, Kind::Title | Kind::Subtitle))
                        .unwrap_or(Kind::Heading(level));
                    out.start_para(kind);
                    OdtEl::Para
                }
                "p" => {
                    let kind = if list_items > 0 && out.kind().is_none() {
                        Kind::ListItem
                    } else {
                        attr(&e, "style-name")
                            .and_then(|s| style_kind(&s))
                            .unwrap_or(Kind::Para)
                    };
                    out.start_para(kind);
                    OdtEl::Para
                }
                "list-item" | "list-header" => {
                    list_items += 1;
                    OdtEl::ListItem
                }
                "table" => {
                    out.start_table();
                    OdtEl::Table
                }
                "table-row" => {
                    out.start_row();
                    OdtEl::Row
                }
                "table-cell" => {
                    out.start_cell();
                    OdtEl::Cell
                }
                "s" => {
                    let n = attr(&e, "c")
                        .and_then(|c| c.parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 64);
                    out.text(&" ".repeat(n), false);
                    OdtEl::Other
                }
                "tab" => {
                    out.text("\t", false);
                    OdtEl::Other
                }
                "line-break" => {
                    out.text("\n", false);
                    OdtEl::Other
                }
                "note" | "annotation" | "tracked-changes" | "sequence-decls" | "forms"
                | "variable-decls" | "user-field-decls" | "bookmark-ref" => {
                    if !empty {
                        skip += 1;
                    }
                    OdtEl::Skip
                }
                _ => OdtEl::Other,
            }
        };
        if empty {
            match el {
                OdtEl::Para => out.end_para(),
                OdtEl::Table => out.end_table(),
                OdtEl::Row => out.end_row(),
                OdtEl::Cell => out.end_cell(),
                OdtEl::ListItem => list_items -= 1,
                OdtEl::Body => body -= 1,
                _ => {}
            }
        } else {
            stack.push(el);
        }
    }
    Ok(out.finish())
}

pub(crate) fn parse_odt_archive(
    archive: &mut Archive<'_>,
    name: &str,
) -> Result<RawDocument, ReadError> {
    let Some(xml) = archive.read_text("content.xml")? else {
        return Err(corrupt(name, "content.xml is missing"));
    };
    let blocks = parse_odt_xml(&xml, name)?;
    let meta = archive.read_text("meta.xml")?;
    let meta_title = meta.as_deref().and_then(dc_title);
    let mut raw = assemble(blocks, meta_title);
    (raw.byline, raw.published) = meta.as_deref().map(byline_and_date).unwrap_or_default();
    Ok(raw)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{parse_bytes, SourceFormat};
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// Builds a ZIP from (path, content) pairs, deflated.
    pub(crate) fn make_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (path, data) in members {
            let method = if *path == "mimetype" {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .large_file(data.len() > u32::MAX as usize / 2);
            w.start_file(*path, opts).expect("start member");
            w.write_all(data).expect("write member");
        }
        w.finish().expect("finish zip").into_inner()
    }

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

    fn para(style: Option<&str>, list: bool, text: &str) -> String {
        let mut ppr = String::new();
        if let Some(s) = style {
            ppr.push_str(&format!(r#"<w:pStyle w:val="{s}"/>"#));
        }
        if list {
            ppr.push_str(r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>"#);
        }
        let ppr = if ppr.is_empty() {
            String::new()
        } else {
            format!("<w:pPr>{ppr}</w:pPr>")
        };
        format!(
            r#"<w:p>{ppr}<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#
        )
    }

    fn cell(text: &str) -> String {
        format!(
            r#"<w:tc><w:tcPr><w:tcW w:w="100"/></w:tcPr>{}</w:tc>"#,
            para(None, false, text)
        )
    }

    pub(crate) fn sample_docx(with_core: bool) -> Vec<u8> {
        let body = [
            para(Some("Title"), false, "Storm hits the coast"),
            para(
                None,
                false,
                "A powerful storm hit the coast on Monday. Thousands of homes lost power.",
            ),
            para(Some("Heading2"), false, "Damage &amp; repairs"),
            para(Some("ListParagraph"), true, "Roofs were torn off"),
            para(Some("ListParagraph"), true, "Roads were flooded"),
            format!(
                "<w:tbl><w:tblPr/><w:tr>{}{}</w:tr><w:tr>{}{}</w:tr></w:tbl>",
                cell("Town"),
                cell("Homes without power"),
                cell("Seaview"),
                cell("1,200")
            ),
            r#"<w:p><w:r><w:t>Crews worked</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> through the night, officials said.</w:t></w:r></w:p>"#.to_owned(),
            para(None, false, "Schools will reopen on Wednesday."),
            "<w:p/>".to_owned(),
        ]
        .concat();
        let document = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}<w:sectPr><w:pgSz w:w="12240"/></w:sectPr></w:body></w:document>"#
        );
        let styles = format!(
            r#"<?xml version="1.0"?><w:styles {W}><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style><w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/></w:style></w:styles>"#
        );
        let core = r#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Storm hits the coast</dc:title><dc:creator>Reporter</dc:creator></cp:coreProperties>"#;
        let types = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
        let mut members: Vec<(&str, &[u8])> = vec![
            ("[Content_Types].xml", types.as_bytes()),
            ("word/document.xml", document.as_bytes()),
            ("word/styles.xml", styles.as_bytes()),
        ];
        if with_core {
            members.push(("docProps/core.xml", core.as_bytes()));
        }
        make_zip(&members)
    }

    const EXPECTED: [&str; 8] = [
        "A powerful storm hit the coast on Monday. Thousands of homes lost power.",
        "Damage & repairs",
        "• Roofs were torn off",
        "• Roads were flooded",
        "Town | Homes without power",
        "Seaview | 1,200",
        "Crews worked\tthrough the night, officials said.",
        "Schools will reopen on Wednesday.",
    ];

    fn texts(doc: &crate::Document) -> Vec<&str> {
        doc.paragraphs.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn docx_structure() {
        for with_core in [true, false] {
            let doc = parse_bytes(&sample_docx(with_core), "storm.docx", None).expect("parses");
            assert_eq!(doc.format, SourceFormat::Docx);
            assert_eq!(doc.title, "Storm hits the coast");
            assert_eq!(texts(&doc), EXPECTED);
            assert_eq!(doc.language, "en");
            assert_eq!(doc.paragraphs[0].sentences.len(), 2);
            // core.xml's dc:creator is the byline.
            let byline = with_core.then_some("Reporter");
            assert_eq!(doc.byline.as_deref(), byline);
        }
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
    fn docx_title_fallbacks() {
        let w = |body: &str| {
            let doc = format!(r#"<w:document {W}><w:body>{body}</w:body></w:document>"#);
            make_zip(&[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/document.xml", doc.as_bytes()),
            ])
        };
        // Heading1 by style id without styles.xml.
        let bytes = w(&[
            para(None, false, "Intro paragraph that comes first."),
            para(Some("Heading1"), false, "Real headline"),
            para(None, false, "Body text."),
        ]
        .concat());
        let doc = parse_bytes(&bytes, "a.docx", None).expect("parses");
        assert_eq!(doc.title, "Real headline");
        assert_eq!(
            texts(&doc),
            ["Intro paragraph that comes first.", "Body text."]
        );
        // Short first paragraph.
        let bytes = w(&[
            para(None, false, "Short headline"),
            para(None, false, "Body text."),
        ]
        .concat());
        let doc = parse_bytes(&bytes, "a.docx", None).expect("parses");
        assert_eq!(doc.title, "Short headline");
        assert_eq!(texts(&doc), ["Body text."]);
        // No text at all.
        let bytes = w(&[para(None, false, " "), "<w:p/>".to_owned()].concat());
        let err = parse_bytes(&bytes, "empty.docx", None).expect_err("no text");
        assert!(matches!(err, ReadError::NoText { .. }), "{err}");
    }

    #[test]
    fn txt_that_is_really_docx() {
        let doc = parse_bytes(&sample_docx(true), "storm.txt", None).expect("parses");
        assert_eq!(doc.format, SourceFormat::Docx);
        assert_eq!(texts(&doc), EXPECTED);
        // And through read_file.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, sample_docx(true)).expect("write");
        let doc = crate::read_file(&path, &Default::default()).expect("reads");
        assert_eq!(doc.format, SourceFormat::Docx);
    }

    fn odt_sample() -> Vec<u8> {
        let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0">
<office:automatic-styles><style:style style:name="P1" style:family="paragraph" style:parent-style-name="Title"/></office:automatic-styles>
<office:body><office:text>
<text:sequence-decls><text:sequence-decl text:name="Table"/></text:sequence-decls>
<text:p text:style-name="P1">Storm hits the coast</text:p>
<text:p text:style-name="Text_20_body">A powerful storm hit the coast on Monday.<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>A footnote.</text:p></text:note-body></text:note> Thousands of homes lost power.</text:p>
<text:h text:outline-level="2">Damage &amp; repairs</text:h>
<text:list><text:list-item><text:p>Roofs were torn off</text:p></text:list-item><text:list-item><text:p>Roads were <text:span>flooded</text:span></text:p></text:list-item></text:list>
<table:table table:name="T1"><table:table-column/><table:table-row><table:table-cell><text:p>Town</text:p></table:table-cell><table:table-cell><text:p>Homes without power</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell><text:p>Seaview</text:p></table:table-cell><table:table-cell><text:p>1,200</text:p></table:table-cell></table:table-row></table:table>
<text:p>Crews worked<text:tab/>through the night,<text:s text:c="3"/>officials said.</text:p>
<text:p>Schools will reopen on Wednesday.</text:p>
<text:p/>
</office:text></office:body></office:document-content>"#;
        let meta = r#"<?xml version="1.0"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>Storm hits the coast</dc:title></office:meta></office:document-meta>"#;
        make_zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", content.as_bytes()),
            ("meta.xml", meta.as_bytes()),
        ])
    }

    #[test]
    fn odt_structure() {
        let doc = parse_bytes(&odt_sample(), "storm.odt", None).expect("parses");
        assert_eq!(doc.format, SourceFormat::Odt);
        assert_eq!(doc.title, "Storm hits the coast");
        assert_eq!(texts(&doc), EXPECTED);
        // Content decides, not the extension.
        let doc = parse_bytes(&odt_sample(), "storm.docx", None).expect("parses");
        assert_eq!(doc.format, SourceFormat::Odt);
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
    fn other_zip_and_truncated() {
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

        let docx = sample_docx(true);
        for cut in [docx.len() / 2, docx.len() - 10, 30, 4] {
            let err = parse_bytes(&docx[..cut], "cut.docx", None).expect_err("truncated");
            assert!(matches!(err, ReadError::Corrupt { .. }), "{cut}: {err}");
            assert!(!err.to_string().contains('\n'));
        }

        let err = parse_bytes(b"just words here.", "fake.docx", None).expect_err("not zip");
        assert!(matches!(err, ReadError::Corrupt { .. }), "{err}");

        // Malformed XML inside a valid container.
        let bad = make_zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w:document><w:body><w:p><w:r><w:t>Hi</w:t></w:r></w:p><w:p a=\"1 b='2'></w:body>"),
        ]);
        let err = parse_bytes(&bad, "bad.docx", None).expect_err("malformed");
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn deeply_nested_xml() {
        let depth = 200_000;
        let mut xml = String::from("<w:document><w:body>");
        xml.push_str(&"<w:p><w:r><w:t>deep</w:t></w:r>".repeat(depth));
        xml.push_str(&"</w:p>".repeat(depth));
        xml.push_str("</w:body></w:document>");
        let bytes = make_zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", xml.as_bytes()),
        ]);
        let doc = parse_bytes(&bytes, "deep.docx", None).expect("parses");
        assert!(!doc.paragraphs.is_empty());

        let mut xml = String::from("<w:document><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p>");
        xml.push_str(&"<w:tbl><w:tr><w:tc>".repeat(50_000));
        let bytes = make_zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", xml.as_bytes()),
        ]);
        let _ = parse_bytes(&bytes, "deep.docx", None);
    }

    #[test]
    fn random_zip_bytes_never_panic() {
        let docx = sample_docx(true);
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..300 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                let len = (next() % 2000) as usize;
                let mut b: Vec<u8> = (0..len).map(|_| (next() >> 24) as u8).collect();
                b.splice(0..0, *b"PK\x03\x04");
                b
            } else {
                // Flip a few bytes of a valid DOCX.
                let mut b = docx.clone();
                for _ in 0..(1 + next() % 8) {
                    let i = (next() as usize) % b.len();
                    b[i] = (next() >> 24) as u8;
                }
                b
            };
            for name in ["fuzz.docx", "fuzz.txt", "fuzz.epub"] {
                if let Ok(doc) = parse_bytes(&bytes, name, None) {
                    doc.body_text();
                }
            }
        }
    }
}
