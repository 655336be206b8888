//! Recognising what bytes are from their content: binary files by their magic numbers or
//! control bytes, and the signatures of the formats read whatever a file is named (ZIP
//! containers, PDF, RTF, HTML).

use super::{encoding, SourceFormat};

/// Recognises binary formats by their magic number; returns a description.
pub(crate) fn binary_magic(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"PK\x05\x06", "an empty ZIP archive"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "an old Microsoft Office document (.doc); it is not supported",
        ),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"BM", ""), // checked separately below (too short to trust alone)
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"\x7FELF", "an ELF executable"),
        (b"MZ", ""), // checked separately below
        (b"\x1F\x8B", "a gzip archive"),
        (b"BZh", ""), // checked separately below
        (b"\xFD7zXZ\x00", "an xz archive"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!\x1A\x07", "a RAR archive"),
        (b"\x28\xB5\x2F\xFD", "a zstd archive"),
        (b"OggS", "an Ogg media file"),
        (b"fLaC", "a FLAC audio file"),
        (b"ID3", "an MP3 audio file"),
        (b"\x00\x00\x00\x0CjP  ", "a JPEG 2000 image"),
        (b"wOFF", "a web font"),
        (b"wOF2", "a web font"),
        (b"SQLite format 3\x00", "an SQLite database"),
        (b"\xCA\xFE\xBA\xBE", "a compiled binary"),
        (b"\xCF\xFA\xED\xFE", "a Mach-O executable"),
        (b"\x00asm", "a WebAssembly module"),
    ];
    for (magic, what) in MAGIC {
        if !what.is_empty() && bytes.starts_with(magic) {
            return Some(what);
        }
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") {
        return Some("a RIFF media file (WAV, AVI or WebP)");
    }
    if bytes.len() >= 12 && bytes.get(4..8) == Some(b"ftyp") {
        return Some("an MP4/MOV media file or HEIC image");
    }
    // Short magics: confirm with a NUL byte nearby so plain text starting with
    // "MZ"/"BM"/"BZh" is not rejected.
    let has_nul_early = bytes.iter().take(64).any(|&b| b == 0);
    if has_nul_early {
        if bytes.starts_with(b"MZ") {
            return Some("a Windows executable");
        }
        if bytes.starts_with(b"BM") {
            return Some("a BMP image");
        }
    }
    if bytes.starts_with(b"BZh")
        && bytes.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
        && bytes.get(4..10) == Some(b"\x31\x41\x59\x26\x53\x59")
    {
        return Some("a bzip2 archive");
    }
    None
}

/// Whether bytes that are not UTF-16 contain NULs or too many control bytes.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    if encoding_rs::Encoding::for_bom(bytes).is_some() || encoding::sniff_utf16(bytes).is_some() {
        return false;
    }
    let sample = &bytes[..bytes.len().min(65_536)];
    if sample.contains(&0) {
        return true;
    }
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) || b == 0x7F)
        .count();
    control * 10 > sample.len()
}

/// Whether decoded text is mostly control characters (e.g. a binary that looked like UTF-16).
pub(crate) fn text_looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(65_536) {
        total += 1;
        if c.is_control() && !matches!(c, '\n' | '\t' | '\u{0C}') {
            control += 1;
        }
    }
    control * 10 > total
}

/// Whether text starts like an HTML document (after whitespace, BOM and comments).
pub(crate) fn starts_like_html(text: &str) -> bool {
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    let head: String = t.chars().take(200).collect::<String>().to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || (head.starts_with("<?xml") && head.contains("<html"))
        || (head.starts_with("<!--") && (head.contains("<!doctype html") || head.contains("<html")))
}

/// For files without an extension: HTML if it starts with a tag and has typical
/// document tags, else plain text.
pub(crate) fn sniff_format(text: &str) -> SourceFormat {
    if starts_like_html(text) {
        return SourceFormat::Html;
    }
    let head: String = text
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    let starts_with_tag = head.trim_start().starts_with('<');
    let tags = ["<body", "<p>", "<p ", "<div", "<article", "<head", "<h1"]
        .iter()
        .filter(|t| head.contains(**t))
        .count();
    if starts_with_tag && tags >= 1 {
        SourceFormat::Html
    } else {
        SourceFormat::Text
    }
}

/// Whether bytes start like a ZIP container.
pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// `%PDF-` at the start; when the name or hint says PDF, anywhere in the first 1 KiB
/// (readers accept junk before the header).
pub(crate) fn is_pdf(bytes: &[u8], named_pdf: bool) -> bool {
    bytes.starts_with(b"%PDF-")
        || (named_pdf
            && bytes[..bytes.len().min(1024)]
                .windows(5)
                .any(|w| w == b"%PDF-"))
}

/// A picture Tesseract reads: PNG, JPEG, TIFF or WebP.
pub(crate) fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(b"\xFF\xD8\xFF")
        || bytes.starts_with(b"II*\x00")
        || bytes.starts_with(b"MM\x00*")
        || (bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP")
}

/// `{\rtf` after an optional UTF-8 BOM and whitespace.
pub(crate) fn is_rtf(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    b[start..].starts_with(b"{\\rtf")
}
