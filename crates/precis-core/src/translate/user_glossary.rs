//! The reader's own glossary: terms and the renderings they want, read from the CSV/TSV files
//! translators already keep (DeepL's and memoQ's glossary exports, a spreadsheet saved as CSV).
//! Its entries win over the built-in term base and are applied like it: listed in the prompt of
//! every paragraph that uses them, enforced after generation, and reported in the translation.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::glossary::{term_spans, GlossaryEntry, TermOrigin};
use crate::document::encoding::decode;
use crate::document::{read_limited, ReadLimits};
use crate::{Error, Result};

/// Larger glossary files are refused: tens of thousands of terms fit in far less.
pub const MAX_GLOSSARY_BYTES: u64 = 16 * 1024 * 1024;

/// One entry of the reader's glossary, as they wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserTerm {
    /// The term as it appears in articles.
    pub source: String,
    /// The rendering the reader wants; ignored when `do_not_translate`.
    #[serde(default)]
    pub target: String,
    /// The reader's own note (where the term comes from, when it applies); never sent to a model.
    #[serde(default)]
    pub note: String,
    /// Whether "US" must not match "us". Letters A–Z only; other letters always match exactly.
    #[serde(default = "yes")]
    pub case_sensitive: bool,
    /// Keep the term as written (a brand, a publication's name).
    #[serde(default)]
    pub do_not_translate: bool,
}

fn yes() -> bool {
    true
}

impl UserTerm {
    /// A case-sensitive entry rendering `source` as `target`.
    pub fn new(source: &str, target: &str) -> UserTerm {
        UserTerm {
            source: source.to_string(),
            target: target.to_string(),
            note: String::new(),
            case_sensitive: true,
            do_not_translate: false,
        }
    }

    /// The text a translation must carry for this term.
    pub fn rendering(&self) -> &str {
        if self.do_not_translate || self.target.is_empty() {
            &self.source
        } else {
            &self.target
        }
    }

    /// Why the entry cannot be kept, if it cannot: a blank term, a term or rendering on several
    /// lines, or a term with nothing to render it as.
    pub fn problem(&self) -> Option<String> {
        if self.source.trim().is_empty() {
            return Some("the term is empty".into());
        }
        if [&self.source, &self.target]
            .iter()
            .any(|t| t.contains(['\n', '\r']))
        {
            return Some(format!(
                "\"{}\": a term and its rendering must fit on one line",
                self.source.trim()
            ));
        }
        if !self.do_not_translate && self.target.trim().is_empty() {
            return Some(format!(
                "\"{}\" has no rendering; give one or mark it \"do not translate\"",
                self.source.trim()
            ));
        }
        None
    }
}

/// The terminology a job brings from outside the article: the reader's glossary and the names
/// remembered from earlier articles, both for the target language.
#[derive(Debug, Clone, Default)]
pub struct KnownTerms {
    /// The reader's glossary; it wins over everything else.
    pub user: Vec<UserTerm>,
    /// Renderings of names chosen in earlier articles ([`TermOrigin::Remembered`]); the
    /// built-in term base wins over them.
    pub remembered: Vec<GlossaryEntry>,
}

impl KnownTerms {
    /// Only the reader's glossary.
    pub fn user(user: Vec<UserTerm>) -> KnownTerms {
        KnownTerms {
            user,
            remembered: Vec::new(),
        }
    }

    /// These terms with `first` ahead of the reader's others, winning for a term both have (a
    /// glossary file given for one run over the stored glossary).
    pub fn preferring(mut self, mut first: Vec<UserTerm>) -> KnownTerms {
        first.append(&mut self.user);
        self.user = first;
        self
    }
}

/// Reads a glossary file: one entry per row, `source,target[,note[,match case]]`, comma-,
/// semicolon- or tab-separated (whichever the first row uses), quoted fields allowed, an
/// optional header row, any encoding the article readers understand (UTF-8 with or without BOM,
/// UTF-16 as Excel saves it, legacy code pages). An empty target means "do not translate": the
/// term is kept as written. The fourth column, when present, says whether case matters
/// (`no`/`false`/`0` for no); without it, case matters.
pub fn read_glossary_file(path: &Path) -> Result<Vec<UserTerm>> {
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
pub fn parse_glossary(text: &str) -> std::result::Result<Vec<UserTerm>, String> {
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
    let mut entries: Vec<UserTerm> = Vec::new();
    let mut row_of: HashMap<String, usize> = HashMap::new();
    for (index, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("row {}: {e}", index + 1))?;
        let cell = |i: usize| row.get(i).unwrap_or("");
        let (source, target) = (cell(0), cell(1));
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
        let term = UserTerm {
            source: source.to_string(),
            target: target.to_string(),
            note: cell(2).to_string(),
            case_sensitive: !matches!(cell(3).to_lowercase().as_str(), "no" | "false" | "0" | "n"),
            do_not_translate: target.is_empty(),
        };
        // A later row for the same term replaces the earlier one, as in a spreadsheet edit.
        match row_of.get(source) {
            Some(&i) => entries[i] = term,
            None => {
                row_of.insert(source.to_string(), entries.len());
                entries.push(term);
            }
        }
    }
    Ok(entries)
}

/// The header row [`write_glossary`] writes (and [`parse_glossary`] skips).
const HEADER: [&str; 4] = ["Source", "Target", "Note", "Match case"];

/// The glossary as a CSV file (UTF-8 with a BOM, so Excel reads it as UTF-8), in the columns
/// [`parse_glossary`] reads: a "do not translate" entry has an empty target.
pub fn write_glossary(terms: &[UserTerm]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut write = |row: [&str; 4]| {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(row);
    };
    write(HEADER);
    for t in terms {
        let target = if t.do_not_translate { "" } else { &t.target };
        write([
            &t.source,
            target,
            &t.note,
            if t.case_sensitive { "yes" } else { "no" },
        ]);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
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

/// The reader's entries as `text` writes them: a case-sensitive term as it is, a term where
/// case does not matter once per spelling `text` uses ("UN security council" in the glossary,
/// "UN Security Council" in the article), so every later step matches exactly.
pub(crate) fn user_entries(terms: &[UserTerm], text: &str) -> Vec<GlossaryEntry> {
    let folded = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for t in terms.iter().filter(|t| t.problem().is_none()) {
        let source = t.source.trim();
        let spellings: Vec<&str> = if t.case_sensitive {
            vec![source]
        } else {
            // ASCII folding keeps byte offsets, so a match in `folded` is one in `text`.
            let term = source.to_ascii_lowercase();
            term_spans(&folded, &term)
                .map(|(start, end)| &text[start..end])
                .collect()
        };
        for spelling in spellings {
            if seen.insert(spelling.to_string()) {
                let target = if t.do_not_translate {
                    spelling
                } else {
                    t.target.trim()
                };
                out.push(GlossaryEntry {
                    source: spelling.to_string(),
                    target: target.to_string(),
                    origin: TermOrigin::User,
                });
            }
        }
    }
    out
}

/// The entries of all `layers`, the first layer's entry winning for a term that several have.
pub(crate) fn merged<const N: usize>(layers: [Vec<GlossaryEntry>; N]) -> Vec<GlossaryEntry> {
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    for entry in layers.into_iter().flatten() {
        if seen.insert(entry.source.clone()) {
            all.push(entry);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(entries: &[UserTerm]) -> Vec<(&str, &str)> {
        entries
            .iter()
            .map(|e| (e.source.as_str(), e.rendering()))
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
        assert_eq!(entries[0].note, "the minister, not his son");
        assert!(entries
            .iter()
            .all(|e| e.case_sensitive && !e.do_not_translate));
    }

    #[test]
    fn tab_and_semicolon_separated_files_and_do_not_translate() {
        let tsv = "Hezbollah\t真主党\nBBC\t\n";
        let entries = parse_glossary(tsv).unwrap();
        assert_eq!(pairs(&entries), [("Hezbollah", "真主党"), ("BBC", "BBC")]);
        assert!(entries[1].do_not_translate && !entries[0].do_not_translate);
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

    /// What Précis writes, it reads back the same: quotes, commas, line breaks in notes, a BOM,
    /// "do not translate" and the case flag.
    #[test]
    fn written_glossaries_read_back_unchanged() {
        let terms = vec![
            UserTerm {
                note: "said \"Lavrov\", not \"Lavrow\";\nthe minister".into(),
                ..UserTerm::new("Lavrov, Sergei", "拉夫罗夫")
            },
            UserTerm {
                case_sensitive: false,
                ..UserTerm::new("un security council", "联合国安理会")
            },
            UserTerm {
                do_not_translate: true,
                ..UserTerm::new("The Economist", "")
            },
        ];
        let written = write_glossary(&terms);
        assert!(written.starts_with("\u{feff}Source,Target,Note,Match case\r\n"));
        assert_eq!(parse_glossary(&written).unwrap(), terms);
    }

    /// A device or pipe named as the glossary is refused at once, never read without end.
    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_not_read() {
        let err = read_glossary_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::NotAFile, "{err}");
    }

    #[test]
    fn entries_that_cannot_work_say_why() {
        assert!(UserTerm::new(" ", "x").problem().unwrap().contains("empty"));
        assert!(UserTerm::new("Aleppo", "")
            .problem()
            .unwrap()
            .contains("no rendering"));
        assert!(UserTerm::new("Alep\npo", "x")
            .problem()
            .unwrap()
            .contains("one line"));
        let keep = UserTerm {
            do_not_translate: true,
            ..UserTerm::new("BBC", "")
        };
        assert_eq!((keep.problem(), keep.rendering()), (None, "BBC"));
    }

    #[test]
    fn a_term_where_case_does_not_matter_takes_the_articles_spellings() {
        let terms = [
            UserTerm {
                case_sensitive: false,
                ..UserTerm::new("security council", "安理会")
            },
            UserTerm::new("US", "美国"),
            UserTerm {
                case_sensitive: false,
                do_not_translate: true,
                ..UserTerm::new("reuters", "")
            },
        ];
        let text =
            "The Security Council met; the security council's vote. Let us go. REUTERS/Reuters";
        let entries = user_entries(&terms, text);
        let got: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.source.as_str(), e.target.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Security Council", "安理会"),
                ("security council", "安理会"),
                ("US", "美国"),
                ("REUTERS", "REUTERS"),
                ("Reuters", "Reuters"),
            ]
        );
        assert!(entries.iter().all(|e| e.origin == TermOrigin::User));
    }

    #[test]
    fn the_first_layer_wins_for_a_term() {
        let entry = |s: &str, t: &str, origin| GlossaryEntry {
            source: s.into(),
            target: t.into(),
            origin,
        };
        let user = vec![entry("Aleppo", "阿勒坡", TermOrigin::User)];
        let built_in = vec![
            entry("Aleppo", "阿勒颇", TermOrigin::TermBase),
            entry("Geneva", "日内瓦", TermOrigin::TermBase),
        ];
        let remembered = vec![
            entry("Geneva", "日内瓦市", TermOrigin::Remembered),
            entry("Sergei Lavrov", "谢尔盖·拉夫罗夫", TermOrigin::Remembered),
        ];
        let pairs: Vec<(String, TermOrigin)> = merged([user, built_in, remembered])
            .into_iter()
            .map(|e| (e.target, e.origin))
            .collect();
        assert_eq!(
            pairs,
            [
                ("阿勒坡".to_string(), TermOrigin::User),
                ("日内瓦".to_string(), TermOrigin::TermBase),
                ("谢尔盖·拉夫罗夫".to_string(), TermOrigin::Remembered),
            ]
        );
    }
}
