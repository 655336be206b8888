//! The reader's glossary and the name memory, kept beside the history in the same database.
//!
//! The glossary holds the reader's entries per target language (one per term and language).
//! The name memory holds the renderings of people's and organisations' names that earlier
//! articles settled on (Précis's own renderings and the model's, carried through an article),
//! so a name reads the same in every article; the reader's glossary still wins over it.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use precis_core::translate::{GlossaryEntry, KnownTerms, TermOrigin, Translation, UserTerm};

use crate::history::{History, HistoryError};

/// A glossary entry as stored: the reader's term with its row id and language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StoredTerm {
    #[ts(type = "number")]
    pub id: i64,
    /// The target language's code (`zh-Hans`, `de`, …).
    pub language: String,
    #[serde(flatten)]
    pub term: UserTerm,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// Terms the glossary did not have.
    pub added: usize,
    /// Terms whose entry the file's replaced.
    pub replaced: usize,
    /// Rows that could not be kept, each with the reason.
    pub skipped: Vec<String>,
}

/// Where a name's remembered rendering is kept: the model's and Précis's own choices, not the
/// term base's (it is built in) nor the reader's (their glossary has it).
fn is_memorable(origin: TermOrigin) -> bool {
    matches!(origin, TermOrigin::Rendered | TermOrigin::Carried)
}

const TERM_COLUMNS: &str =
    "id, language, source, target, note, case_sensitive, do_not_translate, updated_at";

fn stored_term(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTerm> {
    Ok(StoredTerm {
        id: r.get(0)?,
        language: r.get(1)?,
        term: UserTerm {
            source: r.get(2)?,
            target: r.get(3)?,
            note: r.get(4)?,
            case_sensitive: r.get(5)?,
            do_not_translate: r.get(6)?,
        },
        updated_at: r.get(7)?,
    })
}

/// The entry as it is kept: trimmed, and without a rendering when the term stays as written.
fn cleaned(term: &UserTerm) -> Result<UserTerm, HistoryError> {
    if let Some(problem) = term.problem() {
        return Err(HistoryError::GlossaryInvalid(problem));
    }
    Ok(UserTerm {
        source: term.source.trim().to_string(),
        target: if term.do_not_translate {
            String::new()
        } else {
            term.target.trim().to_string()
        },
        note: term.note.trim().to_string(),
        ..term.clone()
    })
}

fn duplicate(source: &str, language: &str) -> HistoryError {
    HistoryError::GlossaryInvalid(format!(
        "\"{source}\" is already in your {language} glossary; edit that entry instead"
    ))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

impl History {
    /// The reader's glossary for `language`, in alphabetical order of terms.
    pub fn glossary_list(&self, language: &str) -> Result<Vec<StoredTerm>, HistoryError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {TERM_COLUMNS} FROM glossary WHERE language = ?1
             ORDER BY source COLLATE NOCASE, source"
        ))?;
        let rows = stmt.query_map(params![language], stored_term)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The reader's entries for `language`, as a job takes them.
    pub fn glossary_terms(&self, language: &str) -> Result<Vec<UserTerm>, HistoryError> {
        Ok(self
            .glossary_list(language)?
            .into_iter()
            .map(|s| s.term)
            .collect())
    }

    /// Adds an entry (`id` `None`) or changes entry `id`; a term the language's glossary already
    /// has under another entry is refused, as is an entry that cannot work
    /// ([`UserTerm::problem`]).
    pub fn glossary_save(
        &self,
        id: Option<i64>,
        language: &str,
        term: &UserTerm,
    ) -> Result<StoredTerm, HistoryError> {
        let term = cleaned(term)?;
        let now = precis_core::clock::now_rfc3339();
        let written = match id {
            None => self.conn.execute(
                "INSERT INTO glossary (language, source, target, note, case_sensitive,
                    do_not_translate, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    language,
                    term.source,
                    term.target,
                    term.note,
                    term.case_sensitive,
                    term.do_not_translate,
                    now
                ],
            ),
            Some(id) => self.conn.execute(
                "UPDATE glossary SET language = ?2, source = ?3, target = ?4, note = ?5,
                    case_sensitive = ?6, do_not_translate = ?7, updated_at = ?8 WHERE id = ?1",
                params![
                    id,
                    language,
                    term.source,
                    term.target,
                    term.note,
                    term.case_sensitive,
                    term.do_not_translate,
                    now
                ],
            ),
        };
        let id = match (written, id) {
            (Err(e), _) if is_unique_violation(&e) => {
                return Err(duplicate(&term.source, language))
            }
            (Err(e), _) => return Err(e.into()),
            (Ok(0), Some(id)) => return Err(HistoryError::GlossaryNotFound(id)),
            (Ok(_), Some(id)) => id,
            (Ok(_), None) => self.conn.last_insert_rowid(),
        };
        Ok(StoredTerm {
            id,
            language: language.to_string(),
            term,
            updated_at: now,
        })
    }

    pub fn glossary_delete(&self, id: i64) -> Result<(), HistoryError> {
        match self
            .conn
            .execute("DELETE FROM glossary WHERE id = ?1", params![id])?
        {
            0 => Err(HistoryError::GlossaryNotFound(id)),
            _ => Ok(()),
        }
    }

    /// Adds `terms` to the `language` glossary in one transaction, an imported entry replacing
    /// the glossary's for the same term (as a later row of a file replaces an earlier one);
    /// entries that cannot work are skipped and named.
    pub fn glossary_import(
        &mut self,
        language: &str,
        terms: &[UserTerm],
    ) -> Result<ImportSummary, HistoryError> {
        let tx = self.conn.transaction()?;
        let now = precis_core::clock::now_rfc3339();
        let mut summary = ImportSummary::default();
        for term in terms {
            let term = match cleaned(term) {
                Ok(t) => t,
                Err(e) => {
                    summary.skipped.push(e.to_string());
                    continue;
                }
            };
            let existed: bool = tx
                .query_row(
                    "SELECT 1 FROM glossary WHERE language = ?1 AND source = ?2",
                    params![language, term.source],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            tx.execute(
                "INSERT INTO glossary (language, source, target, note, case_sensitive,
                    do_not_translate, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (language, source) DO UPDATE SET target = excluded.target,
                    note = excluded.note, case_sensitive = excluded.case_sensitive,
                    do_not_translate = excluded.do_not_translate,
                    updated_at = excluded.updated_at",
                params![
                    language,
                    term.source,
                    term.target,
                    term.note,
                    term.case_sensitive,
                    term.do_not_translate,
                    now
                ],
            )?;
            if existed {
                summary.replaced += 1;
            } else {
                summary.added += 1;
            }
        }
        tx.commit()?;
        Ok(summary)
    }

    /// What a job into `language` brings from the database: the reader's glossary and the
    /// remembered names.
    pub fn known_terms(&self, language: &str) -> Result<KnownTerms, HistoryError> {
        Ok(KnownTerms {
            user: self.glossary_terms(language)?,
            remembered: self.remembered_names(language)?,
        })
    }

    /// The names earlier articles rendered into `language`, newest choice per name, as glossary
    /// entries of origin [`TermOrigin::Remembered`].
    pub fn remembered_names(&self, language: &str) -> Result<Vec<GlossaryEntry>, HistoryError> {
        let mut stmt = self.conn.prepare(
            "SELECT source, target FROM name_memory WHERE language = ?1 ORDER BY source",
        )?;
        let rows = stmt.query_map(params![language], |r| {
            Ok(GlossaryEntry {
                source: r.get(0)?,
                target: r.get(1)?,
                origin: TermOrigin::Remembered,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Remembers the names `translation` rendered (see [`is_memorable`]), for article `article_id`.
pub(crate) fn remember_names(
    tx: &Transaction<'_>,
    translation: &Translation,
    article_id: i64,
) -> Result<(), HistoryError> {
    let now = precis_core::clock::now_rfc3339();
    for g in translation
        .glossary
        .iter()
        .filter(|g| is_memorable(g.origin))
    {
        tx.execute(
            "INSERT INTO name_memory (language, source, target, article_id, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (language, source) DO UPDATE SET target = excluded.target,
                article_id = excluded.article_id, updated_at = excluded.updated_at",
            params![translation.language, g.source, g.target, article_id, now],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(source: &str, target: &str) -> UserTerm {
        UserTerm::new(source, target)
    }

    #[test]
    fn add_list_edit_delete_per_language() {
        let h = History::in_memory().unwrap();
        let aleppo = h
            .glossary_save(None, "zh-Hans", &term(" Aleppo ", "阿勒坡 "))
            .unwrap();
        assert_eq!(
            (aleppo.term.source.as_str(), aleppo.term.target.as_str()),
            ("Aleppo", "阿勒坡")
        );
        let bbc = h
            .glossary_save(
                None,
                "zh-Hans",
                &UserTerm {
                    do_not_translate: true,
                    note: "the broadcaster".into(),
                    ..term("BBC", "ignored")
                },
            )
            .unwrap();
        h.glossary_save(None, "de", &term("Aleppo", "Aleppo"))
            .unwrap();
        let zh = h.glossary_list("zh-Hans").unwrap();
        assert_eq!(
            zh.iter().map(|t| t.id).collect::<Vec<_>>(),
            [aleppo.id, bbc.id]
        );
        assert_eq!(zh[1].term.target, "", "a kept term stores no rendering");
        assert_eq!(zh[1].term.rendering(), "BBC");
        // A second entry for the same term is refused; editing the first is how to change it.
        let e = h
            .glossary_save(None, "zh-Hans", &term("Aleppo", "x"))
            .unwrap_err();
        assert_eq!(e.code(), "glossary_invalid");
        assert!(
            e.to_string().contains("already in your zh-Hans glossary"),
            "{e}"
        );
        let edited = h
            .glossary_save(
                Some(aleppo.id),
                "zh-Hans",
                &UserTerm {
                    case_sensitive: false,
                    ..term("Aleppo", "阿勒颇")
                },
            )
            .unwrap();
        assert_eq!(edited.id, aleppo.id);
        let terms = h.glossary_terms("zh-Hans").unwrap();
        assert_eq!(terms[0].target, "阿勒颇");
        assert!(!terms[0].case_sensitive);
        // Renaming onto another entry's term is refused too.
        let e = h.glossary_save(Some(aleppo.id), "zh-Hans", &term("BBC", "英国广播公司"));
        assert!(e.unwrap_err().to_string().contains("already"));
        // Entries that cannot work never reach the table.
        let e = h
            .glossary_save(None, "zh-Hans", &term("Syria", " "))
            .unwrap_err();
        assert!(e.to_string().contains("no rendering"), "{e}");
        h.glossary_delete(bbc.id).unwrap();
        assert_eq!(
            h.glossary_delete(bbc.id).unwrap_err().code(),
            "glossary_entry_not_found"
        );
        assert_eq!(
            h.glossary_save(Some(bbc.id), "zh-Hans", &term("BBC", "b"))
                .unwrap_err()
                .code(),
            "glossary_entry_not_found"
        );
        assert_eq!(h.glossary_list("zh-Hans").unwrap().len(), 1);
        assert_eq!(h.glossary_list("de").unwrap().len(), 1);
    }

    #[test]
    fn an_import_adds_replaces_and_names_what_it_skipped() {
        let mut h = History::in_memory().unwrap();
        h.glossary_save(None, "zh-Hans", &term("Aleppo", "阿勒颇"))
            .unwrap();
        let file = precis_core::translate::parse_glossary(
            "Source,Target\nAleppo,阿勒坡\nGeneva,日内瓦\n\"Lavrov, Sergei\",拉夫罗夫\n",
        )
        .unwrap();
        let mut terms = file.clone();
        terms.push(term("Damascus", "")); // cannot work: no rendering, not marked as kept
        let summary = h.glossary_import("zh-Hans", &terms).unwrap();
        assert_eq!((summary.added, summary.replaced), (2, 1));
        assert_eq!(summary.skipped.len(), 1);
        assert!(
            summary.skipped[0].contains("Damascus"),
            "{:?}",
            summary.skipped
        );
        // What is exported reads back as what was imported.
        let mut stored = h.glossary_terms("zh-Hans").unwrap();
        let written = precis_core::translate::write_glossary(&stored);
        let mut read_back = precis_core::translate::parse_glossary(&written).unwrap();
        let key = |t: &UserTerm| t.source.clone();
        stored.sort_by_key(key);
        read_back.sort_by_key(key);
        assert_eq!(read_back, stored);
        assert!(stored
            .iter()
            .any(|t| t.source == "Aleppo" && t.target == "阿勒坡"));
    }
}
