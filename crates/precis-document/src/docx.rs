//! DOCX (Office Open XML) documents: `word/document.xml` walked into blocks, with paragraph
//! styles from `word/styles.xml` and title, author and date from `docProps/core.xml`.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};

use super::blocks::{assemble, Block, Collector, Kind};
use super::raw::RawDocument;
use super::zip::{
    attr, byline_and_date, corrupt, dc_title, local, start_name, walk_xml, xml_reader, Archive,
    Enter, XmlWalker,
};
use super::ReadError;

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
                return Some(Kind::Heading {
                    level: level.clamp(1, 9),
                });
            }
        }
    }
    if let Some(level) = outline.filter(|&l| l < 9) {
        return Some(Kind::Heading { level: level + 1 });
    }
    if name.starts_with("listbullet") || name.starts_with("listnumber") {
        return Some(Kind::ListItem);
    }
    None
}

/// A style read from word/styles.xml: id, name and outline level.
type StyleEntry = (String, Option<String>, Option<u8>);

/// Records a style that ended, if it is one that gives paragraphs a kind.
fn file_style(map: &mut HashMap<String, Kind>, style: Option<StyleEntry>) {
    if let Some((id, name, outline)) = style {
        if let Some(kind) = classify_style(&id, name.as_deref(), outline) {
            map.insert(id, kind);
        }
    }
}

/// styleId → kind, from word/styles.xml.
fn docx_styles(xml: &str) -> HashMap<String, Kind> {
    let mut map = HashMap::new();
    let mut reader = xml_reader(xml);
    let mut current: Option<StyleEntry> = None;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        match event {
            Event::Start(e) | Event::Empty(e) => match start_name(&e) {
                "style" => {
                    file_style(&mut map, current.take());
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
            Event::End(e) if local(e.name().0) == "style" => file_style(&mut map, current.take()),
            _ => {}
        }
    }
    map
}

/// An open element of word/document.xml that matters when it ends.
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
}

/// Reads word/document.xml into blocks.
struct DocxWalker<'s> {
    out: Collector,
    styles: &'s HashMap<String, Kind>,
    /// Open runs (`w:r`): tabs and breaks count only inside one.
    runs: usize,
    /// Open text elements (`w:t`): only their text is document text.
    in_text: usize,
    /// Open paragraph properties (`w:pPr`).
    in_ppr: usize,
}

impl XmlWalker for DocxWalker<'_> {
    type Element = DocxEl;

    fn takes_text(&self) -> bool {
        self.in_text > 0
    }

    fn text(&mut self, text: &str) {
        self.out.text(text, false);
    }

    fn enter(&mut self, e: &BytesStart<'_>) -> Enter<DocxEl> {
        let qname = e.name().0;
        let out = &mut self.out;
        Enter::Walk(match start_name(e) {
            "p" if qname != "m:p" => {
                out.start_para(Kind::Para);
                DocxEl::Para
            }
            "pPr" => {
                self.in_ppr += 1;
                DocxEl::PPr
            }
            "pStyle" if out.kind().is_some() => {
                if let Some(kind) = attr(e, "val").and_then(|id| {
                    self.styles
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
            "outlineLvl" if out.kind() == Some(Kind::Para) && self.in_ppr > 0 => {
                if let Some(level) = attr(e, "val").and_then(|v| v.parse::<u8>().ok()) {
                    if level < 9 {
                        out.set_kind(Kind::Heading { level: level + 1 });
                    }
                }
                DocxEl::Other
            }
            "r" => {
                self.runs += 1;
                DocxEl::Run
            }
            "t" if qname == "w:t" || qname == "t" => {
                self.in_text += 1;
                DocxEl::Text
            }
            "tab" if self.runs > 0 => {
                out.text("\t", false);
                DocxEl::Other
            }
            "br" | "cr" if self.runs > 0 => {
                out.text("\n", false);
                DocxEl::Other
            }
            "noBreakHyphen" if self.runs > 0 => {
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
            | "sectPr" => return Enter::Skip,
            _ => DocxEl::Other,
        })
    }

    fn leave(&mut self, element: DocxEl) {
        match element {
            DocxEl::Para => self.out.end_para(),
            DocxEl::Run => self.runs -= 1,
            DocxEl::Text => self.in_text -= 1,
            DocxEl::Table => self.out.end_table(),
            DocxEl::Row => self.out.end_row(),
            DocxEl::Cell => self.out.end_cell(),
            DocxEl::PPr => self.in_ppr -= 1,
            DocxEl::Other => {}
        }
    }
}

fn parse_docx_xml(
    xml: &str,
    styles: &HashMap<String, Kind>,
    name: &str,
) -> Result<Vec<Block>, ReadError> {
    let mut walker = DocxWalker {
        out: Collector::default(),
        styles,
        runs: 0,
        in_text: 0,
        in_ppr: 0,
    };
    walk_xml(xml, &mut walker)
        .map_err(|e| corrupt(name, format_args!("malformed word/document.xml: {e}")))?;
    Ok(walker.out.finish())
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::zip::tests::make_zip;
    use crate::{parse_bytes, SourceFormat};

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

    /// The body of the DOCX sample (and of the ODT sample, which holds the same article).
    pub(crate) const EXPECTED: [&str; 8] = [
        "A powerful storm hit the coast on Monday. Thousands of homes lost power.",
        "Damage & repairs",
        "• Roofs were torn off",
        "• Roads were flooded",
        "Town | Homes without power",
        "Seaview | 1,200",
        "Crews worked\tthrough the night, officials said.",
        "Schools will reopen on Wednesday.",
    ];

    pub(crate) fn texts(doc: &crate::Document) -> Vec<&str> {
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

    #[test]
    fn truncated_and_malformed_docx() {
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
