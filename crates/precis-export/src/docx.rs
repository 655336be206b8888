//! A minimal, valid Office Open XML document: styles for title and headings, lists as bullet
//! characters, and East Asian font and language settings so Word and LibreOffice pick a CJK
//! font for Chinese, Japanese and Korean runs.

use std::io::Write;

use zip::write::SimpleFileOptions;

use super::{escape_xml, note_marks, Block};
use precis_core::{Error, Result};

/// Fonts Word and LibreOffice know on each platform, most likely first; the first one installed
/// is used, so naming a Windows and a Linux font covers both.
fn east_asian_font(lang: &str) -> (&'static str, &'static str) {
    let lang = lang.to_ascii_lowercase();
    if lang.starts_with("zh-hant") || lang == "zh-tw" || lang == "zh-hk" {
        ("Microsoft JhengHei", "zh-TW")
    } else if lang.starts_with("ja") {
        ("Yu Gothic", "ja-JP")
    } else if lang.starts_with("ko") {
        ("Malgun Gothic", "ko-KR")
    } else {
        ("Microsoft YaHei", "zh-CN")
    }
}

fn styles(lang: &str) -> String {
    let (ea_font, ea_lang) = east_asian_font(lang);
    let heading = |id: &str, name: &str, size: u32, extra: &str| {
        format!(
            r#"<w:style w:type="paragraph" w:styleId="{id}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/></w:pPr><w:rPr><w:b/>{extra}<w:sz w:val="{size}"/></w:rPr></w:style>"#
        )
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="{ea_font}" w:cs="Calibri"/><w:sz w:val="22"/><w:lang w:val="en-US" w:eastAsia="{ea_lang}"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="300" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>{}{}{}{}<w:style w:type="paragraph" w:styleId="Source"><w:name w:val="Source Text"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:after="60"/><w:ind w:left="284"/></w:pPr><w:rPr><w:color w:val="666666"/><w:sz w:val="19"/></w:rPr></w:style></w:styles>"#,
        heading("Title", "Title", 40, ""),
        heading("Subtitle", "Subtitle", 24, "<w:i/>"),
        heading("Heading1", "heading 1", 30, ""),
        heading("Heading2", "heading 2", 26, ""),
    )
}

fn paragraph(style: Option<&str>, text: &str, lang: &str, extra_run: &str) -> String {
    let ppr = style
        .map(|s| format!(r#"<w:pPr><w:pStyle w:val="{s}"/></w:pPr>"#))
        .unwrap_or_default();
    // Tag East Asian runs with their language so spell checkers and font fallback work.
    let rpr = if is_east_asian(lang) {
        format!(
            r#"<w:rPr>{extra_run}<w:lang w:eastAsia="{}"/></w:rPr>"#,
            east_asian_font(lang).1
        )
    } else if extra_run.is_empty() {
        String::new()
    } else {
        format!("<w:rPr>{extra_run}</w:rPr>")
    };
    format!(
        r#"<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        escape_xml(text)
    )
}

fn is_east_asian(lang: &str) -> bool {
    let l = lang.to_ascii_lowercase();
    l.starts_with("zh") || l.starts_with("ja") || l.starts_with("ko")
}

fn body(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        out += &match b {
            Block::Title { text: t, lang: l } => paragraph(Some("Title"), t, l, ""),
            Block::Subtitle { text: t, lang: l } => paragraph(Some("Subtitle"), t, l, ""),
            Block::Meta { rows } => rows
                .iter()
                .map(|(k, v)| {
                    format!(
                        r#"<w:p><w:pPr><w:spacing w:after="0"/></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{}: </w:t></w:r><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
                        escape_xml(k),
                        escape_xml(v)
                    )
                })
                .collect::<String>(),
            Block::Heading { text: t, lang: l } => paragraph(Some("Heading1"), t, l, ""),
            Block::Subheading { text: t, lang: l } => paragraph(Some("Heading2"), t, l, ""),
            Block::Paragraph { text: t, lang: l } => paragraph(None, t, l, ""),
            Block::Source { text: t, lang: l } => paragraph(Some("Source"), t, l, ""),
            Block::Warning { text: w } => paragraph(None, &format!("⚠ {w}"), "en", r#"<w:color w:val="AA6600"/>"#),
            Block::Remark { text } => paragraph(None, &format!("✎ {text}"), "en", r#"<w:i/><w:color w:val="666666"/>"#),
            Block::Point {
                text,
                lang,
                bullet,
                notes,
            } => {
                let bullet = if *bullet { "• " } else { "" };
                paragraph(None, &format!("{bullet}{text}{}", note_marks(notes)), lang, "")
            }
            Block::Note {
                number,
                id,
                text,
                lang,
            } => paragraph(Some("Source"), &format!("[{number}] {text} ({id})"), lang, ""),
        };
    }
    out
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

const DOC_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

pub(super) fn render(blocks: &[Block], lang: &str) -> Result<Vec<u8>> {
    let title = blocks
        .iter()
        .find_map(|b| match b {
            Block::Title { text: t, .. } => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or("");
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="567" w:footer="567" w:gutter="0"/></w:sectPr></w:body></w:document>"#,
        body(blocks)
    );
    let core = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title><dc:creator>Précis</dc:creator></cp:coreProperties>"#,
        escape_xml(title)
    );
    let err = |e: std::io::Error| Error::Export(format!("DOCX: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in [
        ("[Content_Types].xml", CONTENT_TYPES.to_string()),
        ("_rels/.rels", ROOT_RELS.to_string()),
        ("word/_rels/document.xml.rels", DOC_RELS.to_string()),
        ("word/document.xml", document),
        ("word/styles.xml", styles(lang)),
        ("docProps/core.xml", core),
    ] {
        zip.start_file(name, opts)
            .map_err(|e| Error::Export(format!("DOCX: {e}")))?;
        zip.write_all(content.as_bytes()).map_err(err)?;
    }
    let cursor = zip
        .finish()
        .map_err(|e| Error::Export(format!("DOCX: {e}")))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::super::{render as export, tests::sample, ExportFormat, ExportOptions};
    use precis_core::document::parse_bytes;

    #[test]
    fn docx_reads_back_with_chinese_and_cjk_font_settings() {
        let bytes = export(
            &sample(),
            ExportFormat::Docx,
            &ExportOptions {
                include_translation: true,
                processed_at: None,
            },
        )
        .unwrap();
        // Our own DOCX reader takes it back: the title and the Chinese text survive.
        let doc = parse_bytes(&bytes, "export.docx", None).unwrap();
        assert_eq!(doc.title, "US, Russia tussle over Syria cease-fire deal");
        let text = doc.body_text();
        assert!(
            text.contains("价值4500万美元的援助正在日内瓦等待批准。"),
            "{text}"
        );
        assert!(text.contains("Aid worth $45 million is waiting in Geneva <for> approval & more."));
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut styles = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/styles.xml").unwrap(), &mut styles)
            .unwrap();
        assert!(styles.contains(r#"w:eastAsia="Microsoft YaHei""#));
        assert!(styles.contains(r#"w:eastAsia="zh-CN""#));
    }
}
