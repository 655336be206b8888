//! Shared by the fuzz targets and by tests/readers.rs, which replays the regression corpus
//! (tests/fixtures/fuzz-regressions/<target>/) through exactly the same entry points.

use std::io::Write;

/// Runs one fuzz input through the reader that `target` names. Errors are fine; a panic,
/// hang or abort is the bug.
pub fn run(target: &str, data: &[u8]) {
    let (bytes, name) = match target {
        "plain" => (data.to_vec(), "fuzz.txt"),
        "html" => (data.to_vec(), "fuzz.html"),
        "pdf" => (data.to_vec(), "fuzz.pdf"),
        "rtf" => (data.to_vec(), "fuzz.rtf"),
        // The first byte picks raw bytes or a container built around the input's parts.
        "office" => match data.split_first() {
            Some((b, rest)) if b % 3 == 0 => (docx(rest), "fuzz.docx"),
            Some((b, rest)) if b % 3 == 1 => (odt(rest), "fuzz.odt"),
            Some((_, rest)) => (rest.to_vec(), "fuzz.docx"),
            None => (Vec::new(), "fuzz.docx"),
        },
        "epub" => match data.split_first() {
            Some((b, rest)) if b % 2 == 0 => (epub(rest), "fuzz.epub"),
            Some((_, rest)) => (rest.to_vec(), "fuzz.epub"),
            None => (Vec::new(), "fuzz.epub"),
        },
        _ => return,
    };
    if let Ok(doc) = precis_document::parse_bytes(&bytes, name, None) {
        // Whatever is read must survive the rest of the pipeline's first steps.
        let _ = serde_json::to_string(&doc);
        let _ = doc.word_count();
    }
}

/// Splits the input into `n` parts at `\0\0` separators (missing parts are empty).
fn parts(data: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < n {
        match rest.windows(2).position(|w| w == b"\0\0") {
            Some(i) => {
                out.push(rest[..i].to_vec());
                rest = &rest[i + 2..];
            }
            None => break,
        }
    }
    out.push(rest.to_vec());
    out.resize(n, Vec::new());
    out
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        if w.start_file(*name, opts).is_err() || w.write_all(data).is_err() {
            break;
        }
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

fn docx(data: &[u8]) -> Vec<u8> {
    let p = parts(data, 3);
    zip_of(&[
        ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#),
        ("word/document.xml", &p[0]),
        ("word/styles.xml", &p[1]),
        ("docProps/core.xml", &p[2]),
    ])
}

fn odt(data: &[u8]) -> Vec<u8> {
    let p = parts(data, 2);
    zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", &p[0]),
        ("meta.xml", &p[1]),
    ])
}

fn epub(data: &[u8]) -> Vec<u8> {
    let p = parts(data, 3);
    zip_of(&[
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", br#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#),
        ("OEBPS/content.opf", &p[0]),
        ("OEBPS/c1.xhtml", &p[1]),
        ("OEBPS/c2.xhtml", &p[2]),
    ])
}
