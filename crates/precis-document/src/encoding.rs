//! Byte decoding: turn the raw bytes of a file into Rust text.
//!
//! Order of checks:
//! 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE) decides the encoding;
//! 2. UTF-16 without a BOM when it is clearly so (many NUL bytes in alternate
//!    positions — checked before UTF-8, as ASCII-range UTF-16 is also valid UTF-8);
//! 3. valid UTF-8 (or UTF-8 cut off in the middle of a character at the very end);
//! 4. otherwise `chardetng` guesses a legacy encoding (windows-1252, GBK, Shift_JIS, …)
//!    and `encoding_rs` decodes it.
//!
//! Line endings are normalised to `\n` and any leading BOM character is removed.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// The bytes could not be turned into text in any encoding we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the bytes could not be decoded as text in any known encoding")]
pub struct DecodeError;

/// Decodes `bytes` into text and returns it with the name of the encoding used
/// (`"UTF-8"`, `"UTF-16LE"`, `"UTF-16BE"`, `"windows-1252"`, `"GBK"`, …).
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str), DecodeError> {
    let (text, encoding) = decode_raw(bytes)?;
    Ok((normalize_newlines(&text), encoding))
}

fn decode_raw(bytes: &[u8]) -> Result<(String, &'static str), DecodeError> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let body = bytes.get(bom_len..).unwrap_or_default();
        let (text, _had_errors) = encoding.decode_without_bom_handling(body);
        return Ok((text.into_owned(), encoding.name()));
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return Ok((text.into_owned(), encoding.name()));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => return Ok((text.to_owned(), UTF_8.name())),
        // Valid UTF-8 that is merely truncated inside the last character.
        Err(e) if e.error_len().is_none() && e.valid_up_to() + 4 > bytes.len() => {
            let (text, _) = UTF_8.decode_without_bom_handling(bytes);
            return Ok((text.into_owned(), UTF_8.name()));
        }
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let encoding = detector.guess(None, false);
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        let total = text.chars().count().max(1);
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        if bad * 50 > total {
            return Err(DecodeError);
        }
    }
    Ok((text.into_owned(), encoding.name()))
}

/// Recognises UTF-16 text without a BOM: mostly-ASCII UTF-16 has a NUL in every
/// other byte (odd positions for little endian, even positions for big endian).
/// Returns `None` unless the pattern is clear.
pub fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(8192)];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let mut even_nul = 0usize;
    let mut odd_nul = 0usize;
    for pair in sample.chunks_exact(2) {
        if pair[0] == 0 {
            even_nul += 1;
        }
        if pair[1] == 0 {
            odd_nul += 1;
        }
    }
    // At least 30 % of the code units look like ASCII and the other half of
    // the byte pairs is almost never NUL.
    if odd_nul * 10 >= pairs * 3 && even_nul * 20 <= pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 3 && odd_nul * 20 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Converts CRLF and lone CR line endings to LF and strips a leading BOM character.
pub fn normalize_newlines(text: &str) -> String {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            if big_endian {
                out.extend_from_slice(&[0xFE, 0xFF]);
            } else {
                out.extend_from_slice(&[0xFF, 0xFE]);
            }
        }
        for unit in text.encode_utf16() {
            if big_endian {
                out.extend_from_slice(&unit.to_be_bytes());
            } else {
                out.extend_from_slice(&unit.to_le_bytes());
            }
        }
        out
    }

    #[test]
    fn utf8_plain() {
        let (text, enc) = decode("Café — “quoted”".as_bytes()).expect("decodes");
        assert_eq!(text, "Café — “quoted”");
        assert_eq!(enc, "UTF-8");
    }

    #[test]
    fn utf8_with_bom() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("Héllo\r\nworld\rend".as_bytes());
        let (text, enc) = decode(&bytes).expect("decodes");
        assert_eq!(text, "Héllo\nworld\nend");
        assert_eq!(enc, "UTF-8");
    }

    #[test]
    fn utf16le_with_bom() {
        let (text, enc) = decode(&utf16("Hello, wörld ✓\r\n", false, true)).expect("decodes");
        assert_eq!(text, "Hello, wörld ✓\n");
        assert_eq!(enc, "UTF-16LE");
    }

    #[test]
    fn utf16be_with_bom() {
        let (text, enc) = decode(&utf16("Hello, wörld ✓", true, true)).expect("decodes");
        assert_eq!(text, "Hello, wörld ✓");
        assert_eq!(enc, "UTF-16BE");
    }

    #[test]
    fn utf16_without_bom_is_sniffed() {
        let sample = "The quick brown fox jumps over the lazy dog.";
        let (text, enc) = decode(&utf16(sample, false, false)).expect("decodes");
        assert_eq!((text.as_str(), enc), (sample, "UTF-16LE"));
        let (text, enc) = decode(&utf16(sample, true, false)).expect("decodes");
        assert_eq!((text.as_str(), enc), (sample, "UTF-16BE"));
    }

    #[test]
    fn windows_1252_curly_quotes_and_accents() {
        let mut bytes = b"The caf".to_vec();
        bytes.push(0xE9);
        bytes.extend_from_slice(b" owner said ");
        bytes.push(0x93);
        bytes.extend_from_slice(b"we are open");
        bytes.push(0x94);
        bytes.extend_from_slice(b" on Friday, and the cr");
        bytes.push(0xE8);
        bytes.extend_from_slice(b"me br");
        bytes.push(0xFB);
        bytes.extend_from_slice(b"l");
        bytes.push(0xE9);
        bytes.extend_from_slice(b"e was sold out.\r\n");
        let (text, enc) = decode(&bytes).expect("decodes");
        assert_eq!(enc, "windows-1252");
        assert_eq!(
            text,
            "The café owner said “we are open” on Friday, and the crème brûlée was sold out.\n"
        );
    }

    #[test]
    fn gbk_chinese() {
        let original = "美国和俄罗斯周五就叙利亚停火计划展开角力，政府军包围了阿勒颇市。\
                        联合国特使表示，谈判的成功将大大推动冲突的解决。";
        let (bytes, _, had_errors) = encoding_rs::GBK.encode(original);
        assert!(!had_errors);
        let (text, enc) = decode(&bytes).expect("decodes");
        assert_eq!(text, original);
        assert!(enc == "GBK" || enc == "gb18030", "got {enc}");
    }

    #[test]
    fn truncated_utf8_is_still_utf8() {
        let mut bytes = "naïve café".as_bytes().to_vec();
        bytes.push(0xC3); // first byte of a two-byte sequence, cut off
        let (text, enc) = decode(&bytes).expect("decodes");
        assert_eq!(enc, "UTF-8");
        assert!(text.starts_with("naïve café"));
    }
}
