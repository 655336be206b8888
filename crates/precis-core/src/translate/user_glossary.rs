//! The reader's own glossary: terms and the renderings they want, read from the CSV/TSV files
//! translators already keep (DeepL's and memoQ's glossary exports, a spreadsheet saved as CSV).
//! Its entries win over the built-in term base and are applied like it: listed in the prompt of
//! every paragraph that uses them, enforced after generation, and reported in the translation.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::glossary::{GlossaryEntry, TermOrigin};
use crate::document::encoding::decode;
use crate::document::{read_limited, ReadLimits};
use crate::{Error, Result};

/// Larger glossary files are refused: tens of thousands of terms fit in far less.
pub const MAX_GLOSSARY_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a glossary file: one entry per row, `source,target[,note]`, comma-, semicolon- or
/// tab-separated (whichever the first row uses), quoted fields allowed, an optional header row,
/// any encoding the article readers understand (UTF-8 with or without BOM, UTF-16 as Excel
/// saves it, legacy code pages). An empty target means "do not translate": the term is kept as
/// written.
pub fn read_glossary_file(path: &Path) -> Result<Vec<GlossaryEntry>> {
    // The readers' rules: regular files only (no device or pipe), at most the cap, read bounded.
    let limits = ReadLimits {
        max_bytes: MAX_GLOSSARY_BYTES,
        chapter: None,
    };
    let (_, bytes) = read_limited(path, &limits)?;
    let invalid = |reason: String| Error::Glossary {
        path: path.to_path_buf(),
        reason,
    };
    let (text, _) = decode(&bytes).map_err(|e| invalid(e.to_string()))?;
    parse_glossary(&text).map_err(invalid)
}

/// The entries of a glossary file's text (see [`read_glossary_file`]); an error names the row.
pub fn parse_glossary(text: &str) -> std::result::Result<Vec<GlossaryEntry>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let first_row = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = [b'\t', b';', b',']
        .into_iter()
        .find(|&d| first_row.contains(d as char))
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut entries: Vec<GlossaryEntry> = Vec::new();
    let mut row_of: HashMap<String, usize> = HashMap::new();
    for (index, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("row {}: {e}", index + 1))?;
        let source = row.get(0).unwrap_or("");
        let target = row.get(1).unwrap_or("");
        if source.is_empty() && target.is_empty() {
            continue;
        }
        if index == 0 && is_header(source) {
            continue;
        }
        if source.is_empty() {
            return Err(format!(
                "row {}: a rendering ({target}) without a term",
                index + 1
            ));
        }
        let target = if target.is_empty() { source } else { target };
        // A later row for the same term replaces the earlier one, as in a spreadsheet edit.
        match row_of.get(source) {
            Some(&i) => entries[i].target = target.to_string(),
            None => {
                row_of.insert(source.to_string(), entries.len());
                entries.push(GlossaryEntry {
                    source: source.to_string(),
                    target: target.to_string(),
                    origin: TermOrigin::User,
                });
            }
        }
    }
    Ok(entries)
}

/// A first row that names columns rather than holding a term.
fn is_header(first_cell: &str) -> bool {
    let cell = first_cell.to_lowercase();
    [
        "source",
        "term",
        "source term",
        "en",
        "en-us",
        "en-gb",
        "english",
    ]
    .contains(&cell.as_str())
}

/// Puts the reader's entries before the built-in ones; a built-in entry for a term the reader
/// has an entry for is dropped.
pub(crate) fn merged(user: &[GlossaryEntry], built_in: Vec<GlossaryEntry>) -> Vec<GlossaryEntry> {
    let users_terms: HashSet<&str> = user.iter().map(|u| u.source.as_str()).collect();
    let mut all = user.to_vec();
    all.extend(
        built_in
            .into_iter()
            .filter(|b| !users_terms.contains(b.source.as_str())),
    );
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(entries: &[GlossaryEntry]) -> Vec<(&str, &str)> {
        entries
            .iter()
            .map(|e| (e.source.as_str(), e.target.as_str()))
            .collect()
    }

    #[test]
    fn comma_separated_with_header_quotes_and_notes() {
        let text = "\u{feff}Source,Target,Note\n\"Lavrov, Sergei\",拉夫罗夫,\"the minister, not his son\"\nUN Security Council,联合国安理会\n\n";
        let entries = parse_glossary(text).unwrap();
        assert_eq!(
            pairs(&entries),
            [
                ("Lavrov, Sergei", "拉夫罗夫"),
                ("UN Security Council", "联合国安理会")
            ]
        );
        assert!(entries.iter().all(|e| e.origin == TermOrigin::User));
    }

    #[test]
    fn tab_and_semicolon_separated_files_and_do_not_translate() {
        let tsv = "Hezbollah\t真主党\nBBC\t\n";
        assert_eq!(
            pairs(&parse_glossary(tsv).unwrap()),
            [("Hezbollah", "真主党"), ("BBC", "BBC")]
        );
        let semicolons = "term;rendering\nGeneva;日内瓦\n";
        assert_eq!(
            pairs(&parse_glossary(semicolons).unwrap()),
            [("Geneva", "日内瓦")]
        );
    }

    #[test]
    fn a_later_row_replaces_an_earlier_one_and_bad_rows_are_named() {
        let text = "Aleppo,阿勒颇\nAleppo,阿勒坡\n";
        assert_eq!(
            pairs(&parse_glossary(text).unwrap()),
            [("Aleppo", "阿勒坡")]
        );
        let err = parse_glossary("Aleppo,阿勒颇\n,叙利亚\n").unwrap_err();
        assert!(err.contains("row 2"), "{err}");
    }

    #[test]
    fn utf16_files_as_excel_saves_them_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glossary.txt");
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Syria\t叙利亚\r\nDamascus\t大马士革\r\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        let entries = read_glossary_file(&path).unwrap();
        assert_eq!(
            pairs(&entries),
            [("Syria", "叙利亚"), ("Damascus", "大马士革")]
        );
    }

    /// A device or pipe named as the glossary is refused at once, never read without end.
    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_not_read() {
        let err = read_glossary_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::NotAFile, "{err}");
    }

    #[test]
    fn the_readers_entries_win_over_the_term_base() {
        let entry = |s: &str, t: &str, origin| GlossaryEntry {
            source: s.into(),
            target: t.into(),
            origin,
        };
        let user = [entry("Aleppo", "阿勒坡", TermOrigin::User)];
        let built_in = vec![
            entry("Aleppo", "阿勒颇", TermOrigin::TermBase),
            entry("Geneva", "日内瓦", TermOrigin::TermBase),
        ];
        assert_eq!(
            pairs(&merged(&user, built_in)),
            [("Aleppo", "阿勒坡"), ("Geneva", "日内瓦")]
        );
    }
}
