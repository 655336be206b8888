//! ODT (OpenDocument Text) documents: `content.xml` walked into blocks, with title, author and
//! date from `meta.xml`.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};

use super::blocks::{assemble, Block, Collector, Kind};
use super::raw::RawDocument;
use super::zip::{
    attr, byline_and_date, corrupt, dc_title, start_name, walk_xml, xml_reader, Archive, Enter,
    XmlWalker,
};
use super::ReadError;

/// An open element of content.xml that matters when it ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OdtEl {
    Other,
    Para,
    ListItem,
    Table,
    Row,
    Cell,
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
            .map(|l| Kind::Heading {
                level: l.clamp(1, 9),
            }),
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

/// Reads content.xml into blocks.
struct OdtWalker {
    out: Collector,
    /// Automatic style name → parent style name.
    parents: HashMap<String, String>,
    /// Open `office:text` elements: text outside the body (styles, settings) is not read.
    body: usize,
    /// Open list items: a paragraph in one is a list item.
    list_items: usize,
}

impl OdtWalker {
    /// The kind a style (or the style it is based on) gives a paragraph.
    fn style_kind(&self, style: &str) -> Option<Kind> {
        odt_style_kind(style).or_else(|| self.parents.get(style).and_then(|p| odt_style_kind(p)))
    }

    /// Opens a heading (`text:h`); a Title or Subtitle style wins over its outline level.
    fn start_heading(&mut self, e: &BytesStart<'_>) {
        let level = attr(e, "outline-level")
            .and_then(|l| l.parse::<u8>().ok())
            .unwrap_or(1)
            .clamp(1, 9);
        let kind = attr(e, "style-name")
            .and_then(|s| self.style_kind(&s))
            .filter(|k| matches!(k, Kind::Title | Kind::Subtitle))
            .unwrap_or(Kind::Heading { level });
        self.out.start_para(kind);
    }

    /// Opens a paragraph (`text:p`): a list item inside a list, else of its style's kind.
    fn start_paragraph(&mut self, e: &BytesStart<'_>) {
        let kind = if self.list_items > 0 && self.out.kind().is_none() {
            Kind::ListItem
        } else {
            attr(e, "style-name")
                .and_then(|s| self.style_kind(&s))
                .unwrap_or(Kind::Para)
        };
        self.out.start_para(kind);
    }
}

impl XmlWalker for OdtWalker {
    type Element = OdtEl;

    fn takes_text(&self) -> bool {
        self.body > 0
    }

    fn text(&mut self, text: &str) {
        self.out.text(text, false);
    }

    fn enter(&mut self, e: &BytesStart<'_>) -> Enter<OdtEl> {
        let tag = start_name(e);
        if tag == "text" && e.name().0 == "office:text" {
            self.body += 1;
            return Enter::Walk(OdtEl::Body);
        }
        if self.body == 0 {
            return Enter::Walk(OdtEl::Other);
        }
        Enter::Walk(match tag {
            "h" => {
                self.start_heading(e);
                OdtEl::Para
            }
            "p" => {
                self.start_paragraph(e);
                OdtEl::Para
            }
            "list-item" | "list-header" => {
                self.list_items += 1;
                OdtEl::ListItem
            }
            "table" => {
                self.out.start_table();
                OdtEl::Table
            }
            "table-row" => {
                self.out.start_row();
                OdtEl::Row
            }
            "table-cell" => {
                self.out.start_cell();
                OdtEl::Cell
            }
            "s" => {
                let n = attr(e, "c")
                    .and_then(|c| c.parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, 64);
                self.out.text(&" ".repeat(n), false);
                OdtEl::Other
            }
            "tab" => {
                self.out.text("\t", false);
                OdtEl::Other
            }
            "line-break" => {
                self.out.text("\n", false);
                OdtEl::Other
            }
            "note" | "annotation" | "tracked-changes" | "sequence-decls" | "forms"
            | "variable-decls" | "user-field-decls" | "bookmark-ref" => return Enter::Skip,
            _ => OdtEl::Other,
        })
    }

    fn leave(&mut self, element: OdtEl) {
        match element {
            OdtEl::Body => self.body -= 1,
            OdtEl::Para => self.out.end_para(),
            OdtEl::ListItem => self.list_items -= 1,
            OdtEl::Table => self.out.end_table(),
            OdtEl::Row => self.out.end_row(),
            OdtEl::Cell => self.out.end_cell(),
            OdtEl::Other => {}
        }
    }
}

fn parse_odt_xml(xml: &str, name: &str) -> Result<Vec<Block>, ReadError> {
    let mut walker = OdtWalker {
        out: Collector::default(),
        parents: odt_parent_styles(xml),
        body: 0,
        list_items: 0,
    };
    walk_xml(xml, &mut walker)
        .map_err(|e| corrupt(name, format_args!("malformed content.xml: {e}")))?;
    Ok(walker.out.finish())
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
mod tests {
    use crate::docx::tests::{texts, EXPECTED};
    use crate::zip::tests::make_zip;
    use crate::{parse_bytes, SourceFormat};

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
}
