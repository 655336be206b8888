//! Reader fixtures (tests/fixtures/readers, made by make_fixtures.py), hostile inputs, and
//! the replay of the fuzz regression corpus (tests/fixtures/fuzz-regressions/<target>/).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use precis_core::document::{
    parse_bytes, read_file, Document, ReadError, ReadLimits, SourceFormat,
};
use precis_core::ErrorCode;

#[path = "../fuzz/common/mod.rs"]
mod fuzz_common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn fixture(name: &str) -> PathBuf {
    root().join("readers").join(name)
}

fn read(name: &str) -> Result<Document, ReadError> {
    read_file(&fixture(name), &ReadLimits::default())
}

fn body(doc: &Document) -> String {
    doc.body_text()
}

/// Position of `needle` in `hay`, failing with both texts shown.
fn at(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{hay}"))
}

fn assert_one_line(err: &ReadError) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.len() < 400, "{msg}");
}

const LEFT: [&str; 3] = [
    "The river authority opened the northern flood gates on Monday morning. Engineers said the water level had risen faster than at any time in the past decade.",
    "Residents of the lower valley were told to move their cars to higher ground. Most of them followed the advice before noon.",
    "The authority expects the level to fall again by Thursday if the rain stops.",
];
const RIGHT: [&str; 3] = [
    "Farmers in the eastern hills reported little damage to their crops. Several of them said the early harvest had already been brought in.",
    "The regional council will meet on Friday to discuss compensation. A spokesperson said claims could be filed online or at the town hall.",
    "Schools in the district will reopen next week as planned.",
];

#[test]
fn two_column_pdf_reads_left_column_first() {
    // The fixture draws left line 1, right line 1, left line 2, … so only the
    // x-positions give the order.
    let doc = read("two-column.pdf").expect("reads");
    assert_eq!(doc.format, SourceFormat::Pdf);
    assert_eq!(doc.title, "Floods close valley roads");
    assert_eq!(doc.byline.as_deref(), Some("Jane Reporter"));
    assert_eq!(doc.published.as_deref(), Some("2000-01-01"));
    assert_eq!(doc.language, "en");
    let texts: Vec<&str> = doc.paragraphs.iter().map(|p| p.text.as_str()).collect();
    let expected: Vec<&str> = LEFT.iter().chain(RIGHT.iter()).copied().collect();
    assert_eq!(texts, expected);
    let text = body(&doc);
    let last_left = LEFT.iter().map(|s| at(&text, s)).max().unwrap();
    let first_right = RIGHT.iter().map(|s| at(&text, s)).min().unwrap();
    assert!(last_left < first_right);
}

#[test]
fn hyphenated_pdf_joins_line_end_hyphens() {
    let doc = read("hyphenated.pdf").expect("reads");
    assert_eq!(doc.title, "Summit ends with trade framework");
    assert_eq!(doc.paragraphs.len(), 2);
    let text = body(&doc);
    // Soft line-break hyphens between lower-case letters are removed…
    at(&text, "to discuss international trade");
    at(&text, "a detailed communique by the end");
    at(&text, "framework for future cooperation on energy");
    // …but a compound the article writes with a hyphen elsewhere keeps it,
    at(&text, "The cease-fire has held since March");
    assert_eq!(text.matches("cease-fire").count(), 2);
    // and hyphens next to digits or capitals stay.
    at(&text, "the COVID-19 rules");
    at(&text, "The chair, Jean-Pierre Martin, closed");
    for broken in ["inter-", "commu-", "co-operation", "- ", "-\n"] {
        assert!(!text.contains(broken), "{broken:?} in {text}");
    }
}

#[test]
fn running_headers_footers_and_page_numbers_are_dropped() {
    let doc = read("headers-footers.pdf").expect("reads");
    // No Info title: the 18 pt line on page 1 is the title.
    assert_eq!(doc.title, "City to plant ten thousand trees");
    assert_eq!(doc.byline, None);
    assert_eq!(doc.paragraphs.len(), 18, "{:#?}", doc.paragraphs);
    let text = body(&doc);
    for furniture in [
        "Gazette",
        "City news",
        "Weekend edition",
        "example-gazette",
        "Page ",
        " of 3",
    ] {
        assert!(!text.contains(furniture), "{furniture:?} leaked");
    }
    // The mayor paragraph runs from page 2 onto page 3 and is still one paragraph.
    let mayor = "The mayor rejected that view at a press conference. She said shade was a matter of public health and that the city could not wait for another heat wave to act.";
    assert_eq!(doc.paragraphs.iter().filter(|p| p.text == mayor).count(), 3);
    assert!(doc
        .paragraphs
        .iter()
        .all(|p| !p.text.contains("trees City")));
}

#[test]
fn scanned_pdf_says_it_has_no_text_layer() {
    let err = read("scanned.pdf").expect_err("no text");
    assert!(matches!(err, ReadError::NoTextLayer { .. }), "{err}");
    assert_eq!(ErrorCode::from(&err), "no_text_layer");
    assert_one_line(&err);
    let msg = err.to_string();
    assert!(msg.starts_with("scanned.pdf has no text layer"), "{msg}");
    assert!(msg.contains("OCR"), "{msg}");
}

#[test]
fn password_protected_pdf_is_refused_and_owner_restricted_one_opens() {
    let err = read("encrypted.pdf").expect_err("needs a password");
    assert!(matches!(err, ReadError::Encrypted { .. }), "{err}");
    assert_eq!(ErrorCode::from(&err), "encrypted_document");
    assert_one_line(&err);
    assert!(err.to_string().contains("encrypted with a password"));

    // Encrypted with an empty user password (only editing is restricted): opens.
    let doc = read("restricted.pdf").expect("opens with the empty password");
    assert_eq!(doc.title, "Council approves new library");
    assert_eq!(
        body(&doc),
        "The town council approved the construction of a new public library on Wednesday. Building work is expected to begin in the autumn."
    );
}

#[test]
fn pdf_is_sniffed_whatever_the_extension() {
    let bytes = std::fs::read(fixture("two-column.pdf")).expect("fixture");
    let doc = parse_bytes(&bytes, "article.txt", None).expect("sniffed as PDF");
    assert_eq!(doc.format, SourceFormat::Pdf);
    let doc = parse_bytes(&bytes, "download", None).expect("no extension");
    assert_eq!(doc.format, SourceFormat::Pdf);
    // A .pdf that is not one says so.
    let err = parse_bytes(b"Just some words.", "paper.pdf", None).expect_err("not a PDF");
    assert!(matches!(err, ReadError::Corrupt { .. }));
    assert!(err.to_string().contains("%PDF-"), "{err}");
    // Junk before the header is accepted when the name says PDF.
    let mut prefixed = b"\r\n\r\nJUNK".to_vec();
    prefixed.extend_from_slice(&bytes);
    let doc = parse_bytes(&prefixed, "paper.pdf", None).expect("junk before header");
    assert_eq!(doc.paragraphs.len(), 6);
}

#[test]
fn rtf_with_accents_unicode_escapes_and_info_title() {
    let doc = read("accents.rtf").expect("reads");
    assert_eq!(doc.format, SourceFormat::Rtf);
    assert_eq!(doc.encoding, "windows-1252");
    assert_eq!(doc.title, "Café owners protest rent rises");
    assert_eq!(doc.byline.as_deref(), Some("A. Journalist"));
    let texts: Vec<&str> = doc.paragraphs.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Owners of the cafés on the old square say their rents have doubled. “We cannot go on like this,” said one of them, Renée Dupont.",
            "The city replied that rents are set by private landlords, not by the council. Prices in Zürich and København have risen too.",
            "A tab and a line break stay readable—even with symbols…",
        ]
    );
    let text = body(&doc);
    for skipped in [
        "Times New Roman",
        "Heading 1",
        "footnote",
        "Handmade",
        "89504e47",
    ] {
        assert!(!text.contains(skipped), "{skipped:?} leaked");
    }
    // Sniffed by content under another name.
    let bytes = std::fs::read(fixture("accents.rtf")).expect("fixture");
    assert_eq!(
        parse_bytes(&bytes, "notes.txt", None).expect("rtf").format,
        SourceFormat::Rtf
    );
}

#[test]
fn utf16_and_windows_1252_text_files() {
    let expected = [
        "The owners said “we had no choice” on Monday — and closed for a day.",
        "Prices rose by 12 % in a year, the naïve forecast said.",
    ];
    for (file, encoding) in [
        ("utf16le-bom.txt", "UTF-16LE"),
        ("windows-1252.txt", "windows-1252"),
    ] {
        let doc = read(file).expect("reads");
        assert_eq!(doc.encoding, encoding, "{file}");
        assert_eq!(doc.title, "Café owners protest", "{file}");
        let texts: Vec<&str> = doc.paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, expected, "{file}");
    }
}

#[test]
fn metadata_fields_round_trip_and_old_json_still_loads() {
    let html = br#"<!doctype html><html lang="en"><head><title>x</title>
        <meta property="og:site_name" content="The Ledger">
        <meta name="author" content="A. Writer">
        <meta property="article:published_time" content="2024-05-06T08:00:00Z">
        </head><body><article><h1>Rates rise again</h1>
        <p>The central bank raised rates on Tuesday, the third rise this year, citing prices.</p>
        <p>Economists had expected the move after inflation figures surprised on the upside.</p>
        </article></body></html>"#;
    let doc = parse_bytes(html, "page.html", None).expect("html");
    assert_eq!(doc.byline.as_deref(), Some("A. Writer"));
    assert_eq!(doc.site_name.as_deref(), Some("The Ledger"));
    assert!(doc
        .published
        .as_deref()
        .is_some_and(|d| d.starts_with("2024-05-06")));
    let json = serde_json::to_string(&doc).expect("json");
    assert!(json.contains("\"site_name\":\"The Ledger\""));
    let back: Document = serde_json::from_str(&json).expect("back");
    assert_eq!(back, doc);

    // Documents stored before these fields existed still deserialize.
    let plain = parse_bytes(b"Title\n\nA body sentence here.", "a.txt", None).expect("txt");
    let json = serde_json::to_string(&plain).expect("json");
    assert!(!json.contains("byline") && !json.contains("site_name"));
    let back: Document = serde_json::from_str(&json).expect("back");
    assert_eq!(back, plain);
}

// ---------------------------------------------------------------------------
// Hostile input: never a panic, never a hang, one line of error.

/// Parses with a time bound; returns the result.
fn bounded(bytes: &[u8], name: &str) -> Result<Document, ReadError> {
    let start = Instant::now();
    let result = parse_bytes(bytes, name, None);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{name} took {:?}",
        start.elapsed()
    );
    if let Err(e) = &result {
        assert_one_line(e);
    }
    result
}

#[test]
fn truncated_and_garbage_pdfs_are_refused_cleanly() {
    let good = std::fs::read(fixture("headers-footers.pdf")).expect("fixture");
    for cut in [8, 100, good.len() / 3, good.len() / 2, good.len() - 40] {
        // Truncated files may still yield the pages that survive; never a panic.
        let _ = bounded(&good[..cut], "truncated.pdf");
    }
    let err = bounded(&good[..8], "truncated.pdf").expect_err("header only");
    assert!(matches!(err, ReadError::Corrupt { .. }), "{err}");

    let mut garbage = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 7;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        garbage.push((x >> 16) as u8);
    }
    let err = bounded(&garbage, "garbage.pdf").expect_err("garbage");
    assert!(matches!(err, ReadError::Corrupt { .. }), "{err}");

    // Flipped bytes all over a valid file.
    for step in [97usize, 13, 5] {
        let mut damaged = good.clone();
        for i in (20..damaged.len()).step_by(step) {
            damaged[i] ^= 0x5A;
        }
        let _ = bounded(&damaged, "damaged.pdf");
    }
}

/// A minimal PDF with one page whose content and objects are given.
fn tiny_pdf(objects: &[&str], content: &[u8]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut all: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources 5 0 R >>"
            .to_vec(),
    ];
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    all.push(stream);
    all.extend(objects.iter().map(|o| o.as_bytes().to_vec()));
    for (i, body) in all.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", all.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            all.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn tiny_pdf_helper_makes_a_readable_pdf() {
    let pdf = tiny_pdf(
        &[
            "<< /Font << /F1 6 0 R >> >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ],
        b"BT /F1 12 Tf 72 700 Td (A hand-made page says hello to the reader.) Tj ET",
    );
    let doc = bounded(&pdf, "tiny.pdf").expect("reads");
    assert_eq!(body(&doc), "A hand-made page says hello to the reader.");
}

#[test]
fn self_invoking_and_exponential_drawings_are_refused() {
    // Form 6 draws itself: pdf-extract would recurse until the stack overflows.
    let looped = tiny_pdf(
        &[
            "<< /XObject << /X0 6 0 R >> >>",
            "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources 5 0 R /Length 6 >>\nstream\n/X0 Do\nendstream",
        ],
        b"/X0 Do",
    );
    let err = bounded(&looped, "loop.pdf").expect_err("loop");
    assert!(matches!(err, ReadError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("invokes itself"), "{err}");

    // Forms 6..=45 each draw the next one four times: 4^40 invocations.
    let mut objects = vec!["<< /XObject << /X0 6 0 R >> >>".to_owned()];
    for i in 6..=45 {
        let next = if i < 45 {
            format!("/Resources << /XObject << /X0 {} 0 R >> >>", i + 1)
        } else {
            String::new()
        };
        let content = if i < 45 {
            "/X0 Do /X0 Do /X0 Do /X0 Do"
        } else {
            ""
        };
        objects.push(format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] {next} /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let refs: Vec<&str> = objects.iter().map(String::as_str).collect();
    let bomb = tiny_pdf(&refs, b"/X0 Do");
    let err = bounded(&bomb, "forms.pdf").expect_err("exponential");
    assert!(matches!(err, ReadError::Limit { .. }), "{err}");
    assert_eq!(ErrorCode::from(&err), "document_limit");
}

#[test]
fn pdf_stream_bomb_is_refused() {
    use std::io::Write;
    // 160 MiB of spaces deflate to ~160 KiB; lopdf would inflate it without limit.
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..160 {
        enc.write_all(&block).expect("deflate");
    }
    let packed = enc.finish().expect("deflate");
    let mut content = Vec::new();
    let stream_obj = {
        let mut s = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            packed.len()
        )
        .into_bytes();
        s.extend_from_slice(&packed);
        s.extend_from_slice(b"\nendstream");
        s
    };
    content.extend_from_slice(b"BT ET");
    let mut pdf = tiny_pdf(&["<< >>"], &content);
    // Append the bomb as an extra object (unreferenced objects are still scanned).
    pdf.extend_from_slice(b"7 0 obj\n");
    pdf.extend_from_slice(&stream_obj);
    pdf.extend_from_slice(b"\nendobj\n");
    let err = bounded(&pdf, "bomb.pdf").expect_err("bomb");
    assert!(matches!(err, ReadError::Limit { .. }), "{err}");
    assert!(err.to_string().contains("PDF bomb"), "{err}");
}

#[test]
fn hostile_rtf_is_bounded() {
    // 1,000,000 nested groups: an explicit stack, no recursion.
    let mut deep = b"{\\rtf1\\ansi ".to_vec();
    deep.extend(std::iter::repeat_n(b'{', 1_000_000));
    deep.extend_from_slice(b"Deep text survives.");
    deep.extend(std::iter::repeat_n(b'}', 1_000_000));
    deep.extend_from_slice(b"\\par}");
    let doc = bounded(&deep, "deep.rtf").expect("reads");
    assert_eq!(body(&doc), "Deep text survives.");

    // Unclosed groups and a \bin length far past the end of the file.
    let mut open = b"{\\rtf1 Opening words stay.\\par ".to_vec();
    open.extend(std::iter::repeat_n(b'{', 100_000));
    let doc = bounded(&open, "open.rtf").expect("reads");
    assert_eq!(body(&doc), "Opening words stay.");
    let doc = bounded(
        b"{\\rtf1 Text before binary.\\par\\bin999999999999 \x00\x01\x02 not text}",
        "bin.rtf",
    )
    .expect("reads");
    assert_eq!(body(&doc), "Text before binary.");

    // Only markup: no text.
    let err =
        bounded(b"{\\rtf1{\\fonttbl{\\f0 Arial;}}\\par\\par}", "empty.rtf").expect_err("no text");
    assert!(matches!(err, ReadError::NoText { .. }));
}

#[test]
fn fuzz_regressions_replay() {
    let dir = root().join("fuzz-regressions");
    let mut replayed = 0;
    for target in ["plain", "html", "office", "epub", "pdf", "rtf"] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files.iter().filter(|f| f.is_file()) {
            let data = std::fs::read(file).expect("read regression input");
            let start = Instant::now();
            fuzz_common::run(target, &data);
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(10),
                "{} took {took:?}",
                display(file)
            );
            replayed += 1;
        }
    }
    println!("replayed {replayed} fuzz regression inputs");
    // The corpus is committed: an empty replay means the path broke, not that all is well.
    assert!(replayed >= 15, "only {replayed} regression inputs found");
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// Timing for BENCHMARKS.md: `PRECIS_BENCH_PDF=big.pdf cargo test --release -p precis-core
/// --test readers -- --ignored --nocapture time_pdf` (the 200-page file comes from the
/// recipe in BENCHMARKS.md).
#[test]
#[ignore = "benchmark; needs PRECIS_BENCH_PDF"]
fn time_pdf() {
    let path = std::env::var("PRECIS_BENCH_PDF").expect("set PRECIS_BENCH_PDF");
    let limits = ReadLimits::default();
    let mut times = Vec::new();
    let mut doc = None;
    for _ in 0..3 {
        let start = Instant::now();
        doc = Some(read_file(Path::new(&path), &limits).expect("reads"));
        times.push(start.elapsed());
    }
    let doc = doc.expect("read");
    assert!(!doc.paragraphs.is_empty());
    println!(
        "{path}: {} paragraphs, {} words, runs {times:?}",
        doc.paragraphs.len(),
        doc.word_count()
    );
    for p in doc.paragraphs.iter().take(8) {
        println!("  [{}] {}", p.id, p.text);
    }
}

/// Whether the OCR tools are installed; without them the OCR test says why it did nothing,
/// unless PRECIS_REQUIRE_TOOLS=1 (CI), where that is a failure.
fn ocr_tools() -> bool {
    let missing: Vec<&str> = ["tesseract", "pdftoppm", "pdfinfo"]
        .into_iter()
        .filter(|tool| std::process::Command::new(tool).arg("-v").output().is_err())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("PRECIS_REQUIRE_TOOLS").is_none(),
        "PRECIS_REQUIRE_TOOLS=1 but {missing:?} are not installed (tesseract-ocr, poppler-utils)"
    );
    eprintln!("OCR test skipped: {missing:?} not installed");
    false
}

/// A one-page PDF holding only a picture: 8-bit grey `pixels` of `width`×`height` at `dpi` —
/// what a scanner writes, with no text layer.
fn image_only_pdf(width: usize, height: usize, pixels: &[u8], dpi: usize) -> Vec<u8> {
    use std::io::Write;
    let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    deflated.write_all(pixels).unwrap();
    let image = deflated.finish().unwrap();
    let (w, h) = (width * 72 / dpi, height * 72 / dpi);
    let content = format!("q {w} 0 0 {h} 0 0 cm /Im0 Do Q\n");
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |pdf: &mut Vec<u8>, head: String, stream: Option<&[u8]>| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(head.as_bytes());
        if let Some(bytes) = stream {
            pdf.extend_from_slice(b"stream\n");
            pdf.extend_from_slice(bytes);
            pdf.extend_from_slice(b"\nendstream");
        }
        pdf.extend_from_slice(b"\nendobj\n");
    };
    object(
        &mut pdf,
        "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\n".into(),
        None,
    );
    object(
        &mut pdf,
        "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n".into(),
        None,
    );
    object(&mut pdf, format!("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>\n"), None);
    object(&mut pdf, format!("4 0 obj\n<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length {} >>\n", image.len()), Some(&image));
    object(
        &mut pdf,
        format!("5 0 obj\n<< /Length {} >>\n", content.len()),
        Some(content.as_bytes()),
    );
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    pdf
}

/// The two-column fixture as a scanner would give it: rendered at 300 dpi (pdftoppm), its grey
/// pixels in an image-only PDF; and the same page as a PNG picture.
fn scanned_two_column(dir: &Path) -> (PathBuf, PathBuf) {
    let render = |extra: &[&str], out: &str| {
        let status = std::process::Command::new("pdftoppm")
            .args(["-r", "300", "-gray", "-singlefile"])
            .args(extra)
            .arg(fixture("two-column.pdf"))
            .arg(dir.join(out))
            .status()
            .unwrap();
        assert!(status.success());
    };
    render(&[], "page");
    render(&["-png"], "picture");
    let pgm = std::fs::read(dir.join("page.pgm")).unwrap();
    // "P5\n<width> <height>\n255\n" then one byte per pixel.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..at]).into_owned());
    }
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = &pgm[at + 1..];
    assert_eq!(pixels.len(), width * height);
    let scan = dir.join("scan.pdf");
    std::fs::write(&scan, image_only_pdf(width, height, pixels, 300)).unwrap();
    (scan, dir.join("picture.png"))
}

#[test]
fn scans_and_pictures_are_read_through_ocr_in_column_order() {
    use precis_core::document::ocr::{read_file_with_ocr, PageObserver, Unobserved};
    if !ocr_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (scan, picture) = scanned_two_column(dir.path());
    let err = read_file(&scan, &ReadLimits::default()).expect_err("no text layer");
    assert!(matches!(err, ReadError::NoTextLayer { .. }), "{err}");

    struct Pages(Vec<(usize, usize)>);
    impl PageObserver for Pages {
        fn page_done(&mut self, done: usize, total: usize) {
            self.0.push((done, total));
        }
        fn cancelled(&self) -> bool {
            false
        }
    }
    let mut pages = Pages(Vec::new());
    let doc = read_file_with_ocr(&scan, &ReadLimits::default(), &mut pages).unwrap();
    assert!(doc.from_ocr);
    assert_eq!(doc.format, SourceFormat::Pdf);
    assert_eq!(pages.0, [(1, 1)]);
    let text = body(&doc);
    // Whole sentences, hyphen-free line joins, and the left column before the right one.
    let left = at(
        &text,
        "The river authority opened the northern flood gates on Monday morning.",
    );
    let right = at(
        &text,
        "Farmers in the eastern hills reported little damage to their crops.",
    );
    assert!(left < right, "columns out of order:\n{text}");
    at(
        &text,
        "Schools in the district will reopen next week as planned.",
    );

    let doc = read_file_with_ocr(&picture, &ReadLimits::default(), &mut Unobserved).unwrap();
    assert!(doc.from_ocr);
    assert_eq!(doc.format, SourceFormat::Image);
    at(
        &body(&doc),
        "Residents of the lower valley were told to move their cars to higher ground.",
    );

    struct Cancelled;
    impl PageObserver for Cancelled {
        fn page_done(&mut self, _: usize, _: usize) {}
        fn cancelled(&self) -> bool {
            true
        }
    }
    let started = Instant::now();
    let err = read_file_with_ocr(&scan, &ReadLimits::default(), &mut Cancelled).unwrap_err();
    assert!(matches!(err, ReadError::Cancelled), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(
        precis_core::Error::from(err),
        precis_core::Error::Cancelled
    ));

    // A picture that is not one: a clear error, no OCR run.
    let fake = dir.path().join("fake.png");
    std::fs::write(&fake, "this is text, not a PNG").unwrap();
    let err = read_file_with_ocr(&fake, &ReadLimits::default(), &mut Unobserved).unwrap_err();
    assert!(matches!(err, ReadError::Corrupt { .. }), "{err}");
}
