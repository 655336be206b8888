//! The history of processed articles: a SQLite database in the app's data directory.
//!
//! Each row keeps the source text, the options, the model, the timings and the whole
//! [`Outcome`] as JSON, so reopening an article shows the stored result without any model work.
//! The schema is versioned with `PRAGMA user_version`; [`History::open`] applies any missing
//! migrations in one transaction.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use precis_core::pipeline::{Outcome, ProcessOptions};

/// Schema migrations, in order; `user_version` is the number applied so far.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE articles (
        id               INTEGER PRIMARY KEY,
        created_at       TEXT NOT NULL,
        title            TEXT NOT NULL,
        source_name      TEXT NOT NULL,
        source_path      TEXT,
        target           TEXT NOT NULL,
        model            TEXT,
        engine           TEXT,
        options_json     TEXT NOT NULL,
        outcome_json     TEXT NOT NULL,
        source_text      TEXT NOT NULL,
        summary_text     TEXT NOT NULL DEFAULT '',
        translation_text TEXT NOT NULL DEFAULT '',
        prefill_secs     REAL,
        decode_secs      REAL,
        total_secs       REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX articles_created ON articles(created_at DESC);",
    // 2: the reader's glossary and the name memory (see `glossary`).
    "CREATE TABLE glossary (
        id               INTEGER PRIMARY KEY,
        language         TEXT NOT NULL,
        source           TEXT NOT NULL,
        target           TEXT NOT NULL DEFAULT '',
        note             TEXT NOT NULL DEFAULT '',
        case_sensitive   INTEGER NOT NULL DEFAULT 1,
        do_not_translate INTEGER NOT NULL DEFAULT 0,
        updated_at       TEXT NOT NULL,
        UNIQUE (language, source)
    );
    CREATE TABLE name_memory (
        language   TEXT NOT NULL,
        source     TEXT NOT NULL,
        target     TEXT NOT NULL,
        article_id INTEGER,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (language, source)
    );
    CREATE INDEX name_memory_article ON name_memory(article_id);",
];

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot open the history database {}: {source}; check the disk and permissions (your articles are not touched)", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the history database {} was written by a newer Précis (schema {found}, this version knows {known}); update Précis", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("history entry {0} does not exist (it may have been deleted)")]
    NotFound(i64),
    #[error("glossary entry {0} does not exist (it may have been deleted)")]
    GlossaryNotFound(i64),
    #[error("{0}")]
    GlossaryInvalid(String),
    #[error("history database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("history entry is unreadable: {0}")]
    Json(#[from] serde_json::Error),
}

impl HistoryError {
    pub fn code(&self) -> precis_core::ErrorCode {
        match self {
            HistoryError::Open { .. } => precis_core::ErrorCode::HistoryUnavailable,
            HistoryError::TooNew { .. } => precis_core::ErrorCode::HistoryTooNew,
            HistoryError::NotFound(_) => precis_core::ErrorCode::HistoryNotFound,
            HistoryError::GlossaryNotFound(_) => precis_core::ErrorCode::GlossaryEntryNotFound,
            HistoryError::GlossaryInvalid(_) => precis_core::ErrorCode::GlossaryInvalid,
            HistoryError::Sql(_) | HistoryError::Json(_) => precis_core::ErrorCode::HistoryFailed,
        }
    }
}

/// One row of the sidebar list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct HistoryItem {
    #[ts(type = "number")]
    pub id: i64,
    pub title: String,
    pub source_name: String,
    pub target: String,
    pub model: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub has_translation: bool,
}

/// A stored article with everything needed to show and export it again.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct HistoryEntry {
    #[ts(type = "number")]
    pub id: i64,
    pub created_at: String,
    pub source_path: Option<String>,
    /// The options the article was processed with.
    pub options: ProcessOptions,
    pub outcome: Outcome,
    pub total_secs: f64,
}

/// What to store for a finished job.
pub struct NewEntry<'a> {
    pub outcome: &'a Outcome,
    pub source_path: Option<&'a Path>,
    pub options: &'a ProcessOptions,
    pub total_secs: f64,
}

/// The database: the history of articles, the reader's glossary and the name memory
/// ([`crate::glossary`]).
pub struct History {
    pub(crate) conn: Connection,
}

/// Where the window and the CLI keep the database: `PRECIS_DATA_DIR` when set (tests, portable
/// installs), else the app's data directory (`~/.local/share/app.precis.desktop` on Linux, as
/// Tauri names it from the app's identifier).
pub fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("PRECIS_DATA_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::data_dir().map(|d| d.join(APP_IDENTIFIER)),
    }
}

/// The app's identifier in `src-tauri/tauri.conf.json` (a test keeps them equal).
pub const APP_IDENTIFIER: &str = "app.precis.desktop";

/// The database's file in a data directory.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("history.sqlite3")
}

impl History {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        let open_err = |source| HistoryError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            // A missing directory surfaces as the open error below, with the path in it.
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(open_err)?;
        // The busy timeout covers a second app window (set first: switching to WAL needs a
        // lock too); WAL keeps readers and the writer apart.
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        let mut history = History { conn };
        history.migrate(path)?;
        Ok(history)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<History, HistoryError> {
        let mut history = History {
            conn: Connection::open_in_memory()?,
        };
        history.migrate(Path::new(":memory:"))?;
        Ok(history)
    }

    fn migrate(&mut self, path: &Path) -> Result<(), HistoryError> {
        // IMMEDIATE takes the write lock before reading the version, so two processes opening
        // a new database at once cannot both run the same migration.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(HistoryError::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        for sql in &MIGRATIONS[found as usize..] {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", known)?;
        tx.commit()?;
        Ok(())
    }

    pub fn schema_version(&self) -> Result<i64, HistoryError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Stores a finished job and returns its id; the names its translation rendered are
    /// remembered for later articles.
    pub fn insert(&self, entry: &NewEntry<'_>) -> Result<i64, HistoryError> {
        let o = entry.outcome;
        let d = &o.document;
        let title = if d.title.is_empty() {
            d.source_name.clone()
        } else {
            d.title.clone()
        };
        let summary_text = [&o.summary, &o.summary_original]
            .into_iter()
            .flatten()
            .map(|s| s.text())
            .collect::<Vec<_>>()
            .join("\n");
        let translation_text = searchable_translation(o);
        let engine = o.summary.as_ref().map(|s| {
            serde_json::to_value(s.engine)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        });
        // One transaction: an article and the names learnt from it are kept together or not at all.
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO articles (created_at, title, source_name, source_path, target, model,
                engine, options_json, outcome_json, source_text, summary_text, translation_text,
                prefill_secs, decode_secs, total_secs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                precis_core::clock::now_rfc3339(),
                title,
                d.source_name,
                entry.source_path.map(|p| p.to_string_lossy().into_owned()),
                entry.options.target,
                o.model.as_ref().map(|m| m.name.clone()),
                engine,
                serde_json::to_string(entry.options)?,
                serde_json::to_string(o)?,
                d.body_text(),
                summary_text,
                translation_text,
                o.stats.map(|s| s.prefill_secs),
                o.stats.map(|s| s.decode_secs),
                entry.total_secs,
            ],
        )?;
        let id = tx.last_insert_rowid();
        if let Some(t) = &o.translation {
            crate::glossary::remember_names(&tx, t, id)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Newest first; `query` (if not blank) must occur in the title, source text, summary or
    /// translation (case-insensitive for ASCII letters).
    pub fn list(
        &self,
        query: Option<&str>,
        limit: usize,
    ) -> Result<Vec<HistoryItem>, HistoryError> {
        let pattern = query
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| format!("%{}%", escape_like(q)));
        let mut stmt = self.conn.prepare(
            "SELECT id, title, source_name, target, model, created_at, translation_text != ''
             FROM articles
             WHERE ?1 IS NULL
                OR title LIKE ?1 ESCAPE '\\' OR source_name LIKE ?1 ESCAPE '\\'
                OR source_text LIKE ?1 ESCAPE '\\' OR summary_text LIKE ?1 ESCAPE '\\'
                OR translation_text LIKE ?1 ESCAPE '\\'
             ORDER BY created_at DESC, id DESC
             LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![pattern, limit as i64], |r| {
            Ok(HistoryItem {
                id: r.get(0)?,
                title: r.get(1)?,
                source_name: r.get(2)?,
                target: r.get(3)?,
                model: r.get(4)?,
                created_at: r.get(5)?,
                has_translation: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn get(&self, id: i64) -> Result<HistoryEntry, HistoryError> {
        let row = self
            .conn
            .query_row(
                "SELECT created_at, source_path, options_json, outcome_json, total_secs, target
                 FROM articles WHERE id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, f64>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?
            .ok_or(HistoryError::NotFound(id))?;
        Ok(HistoryEntry {
            id,
            created_at: row.0,
            source_path: row.1,
            // Options a later version no longer reads lose their details, not the article.
            options: serde_json::from_str(&row.2)
                .unwrap_or_else(|_| ProcessOptions::for_target(&row.5)),
            outcome: serde_json::from_str(&row.3)?,
            total_secs: row.4,
        })
    }

    /// Replaces the stored result of article `id` (after the reader edited or retranslated
    /// paragraphs); search covers the new text.
    pub fn update_outcome(&self, id: i64, outcome: &Outcome) -> Result<(), HistoryError> {
        let changed = self.conn.execute(
            "UPDATE articles SET outcome_json = ?2, translation_text = ?3 WHERE id = ?1",
            params![
                id,
                serde_json::to_string(outcome)?,
                searchable_translation(outcome)
            ],
        )?;
        match changed {
            0 => Err(HistoryError::NotFound(id)),
            _ => Ok(()),
        }
    }

    /// Deletes an article and the names remembered from it (a deleted article leaves nothing
    /// behind).
    pub fn delete(&self, id: i64) -> Result<(), HistoryError> {
        let tx = self.conn.unchecked_transaction()?;
        if tx.execute("DELETE FROM articles WHERE id = ?1", params![id])? == 0 {
            return Err(HistoryError::NotFound(id));
        }
        tx.execute("DELETE FROM name_memory WHERE article_id = ?1", params![id])?;
        tx.commit()?;
        Ok(())
    }
}

/// The translation's text as search sees it: the title and every paragraph.
fn searchable_translation(o: &Outcome) -> String {
    o.translation
        .as_ref()
        .map(|t| {
            std::iter::once(t.title.as_str())
                .chain(t.paragraphs.iter().map(|p| p.text.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn escape_like(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use precis_core::document::Document;
    use precis_core::summarize::{Style, Summary, SummaryEngine, SummaryPoint};
    use precis_core::translate::{TranslatedParagraph, Translation};

    fn outcome(title: &str, body: &str, zh: Option<&str>) -> Outcome {
        let document = Document::from_paragraphs(title, "a.txt", vec![body.to_string()]);
        Outcome {
            summary: Some(Summary {
                engine: SummaryEngine::Extractive,
                model: None,
                language: "en".into(),
                style: Style::Prose,
                points: vec![SummaryPoint {
                    text: body.into(),
                    source_sentence_ids: vec!["p1.s1".into()],
                }],
                seconds: 0.1,
                translated_by: None,
            }),
            summary_original: None,
            translation: zh.map(|t| Translation {
                language: "zh-Hans".into(),
                model: "m".into(),
                title: "标题".into(),
                subtitle: None,
                paragraphs: vec![TranslatedParagraph {
                    id: "p1".into(),
                    source: body.into(),
                    text: t.into(),
                    warnings: vec![],
                    problems: Vec::new(),
                    untranslated: false,
                    edited: false,
                    confidence: None,
                }],
                glossary: vec![],
                glossary_unapplied: Vec::new(),
                seconds: 1.0,
            }),
            document,
            model: None,
            stats: None,
        }
    }

    fn store(h: &History, o: &Outcome) -> i64 {
        h.insert(&NewEntry {
            outcome: o,
            source_path: Some(Path::new("/tmp/a.txt")),
            options: &ProcessOptions {
                translate: true,
                ..ProcessOptions::for_target("zh-Hans")
            },
            total_secs: 2.5,
        })
        .unwrap()
    }

    #[test]
    fn insert_list_search_get_delete() {
        let h = History::in_memory().unwrap();
        let a = store(
            &h,
            &outcome(
                "Ceasefire talks",
                "Talks in Geneva went on.",
                Some("日内瓦会谈继续。"),
            ),
        );
        let b = store(
            &h,
            &outcome("Harvest report", "Wheat prices rose 5%.", None),
        );
        let all = h.list(None, 100).unwrap();
        assert_eq!(all.iter().map(|i| i.id).collect::<Vec<_>>(), vec![b, a]);
        assert!(all[1].has_translation && !all[0].has_translation);
        // Search covers titles, source text and translations, and treats % literally.
        assert_eq!(h.list(Some("geneva"), 100).unwrap()[0].id, a);
        assert_eq!(h.list(Some("日内瓦"), 100).unwrap()[0].id, a);
        assert_eq!(h.list(Some("5%"), 100).unwrap().len(), 1);
        assert!(h.list(Some("%"), 100).unwrap().len() == 1);
        assert!(h.list(Some("nothing like this"), 100).unwrap().is_empty());
        let e = h.get(a).unwrap();
        assert_eq!(
            e.outcome.translation.as_ref().unwrap().paragraphs[0].text,
            "日内瓦会谈继续。"
        );
        assert_eq!(e.options.target, "zh-Hans");
        assert!(e.options.translate);
        assert_eq!(e.source_path.as_deref(), Some("/tmp/a.txt"));
        // An edited result replaces the stored one, and search finds the new words.
        let mut edited = e.outcome.clone();
        edited.translation.as_mut().unwrap().paragraphs[0].text = "洛桑会谈继续。".into();
        h.update_outcome(a, &edited).unwrap();
        assert_eq!(h.list(Some("洛桑"), 100).unwrap()[0].id, a);
        assert!(h.list(Some("日内瓦"), 100).unwrap().is_empty());
        assert_eq!(
            h.get(a).unwrap().outcome.translation.unwrap().paragraphs[0].text,
            "洛桑会谈继续。"
        );
        assert_eq!(
            h.update_outcome(999, &edited).unwrap_err().code(),
            "history_not_found"
        );
        h.delete(a).unwrap();
        assert_eq!(h.get(a).unwrap_err().code(), "history_not_found");
        assert_eq!(h.delete(a).unwrap_err().code(), "history_not_found");
        assert_eq!(h.list(None, 100).unwrap().len(), 1);
    }

    /// The names one article's translation settled on are offered to the next; deleting the
    /// article forgets them.
    #[test]
    fn names_are_remembered_across_articles_and_forgotten_with_them() {
        use precis_core::translate::{GlossaryEntry, TermOrigin};
        let h = History::in_memory().unwrap();
        let entry = |s: &str, t: &str, origin| GlossaryEntry {
            source: s.into(),
            target: t.into(),
            origin,
        };
        let mut first = outcome("Talks", "Sergei Lavrov met Aleppo officials.", Some("会谈"));
        first.translation.as_mut().unwrap().glossary = vec![
            entry("Sergei Lavrov", "谢尔盖·拉夫罗夫", TermOrigin::Rendered),
            entry("Hayat Tahrir al-Sham", "沙姆解放组织", TermOrigin::Carried),
            entry("Aleppo", "阿勒颇", TermOrigin::TermBase),
            entry("Geneva", "日内瓦市", TermOrigin::User),
        ];
        let a = store(&h, &first);
        let remembered = h.remembered_names("zh-Hans").unwrap();
        let pairs: Vec<(&str, &str)> = remembered
            .iter()
            .map(|g| (g.source.as_str(), g.target.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Hayat Tahrir al-Sham", "沙姆解放组织"),
                ("Sergei Lavrov", "谢尔盖·拉夫罗夫")
            ]
        );
        assert!(remembered
            .iter()
            .all(|g| g.origin == TermOrigin::Remembered));
        assert!(h.remembered_names("de").unwrap().is_empty());
        // A later article's choice replaces the earlier one.
        let mut second = outcome("More talks", "Lavrov again.", Some("又是会谈"));
        second.translation.as_mut().unwrap().glossary =
            vec![entry("Sergei Lavrov", "谢·拉夫罗夫", TermOrigin::Carried)];
        let b = store(&h, &second);
        let names = h.remembered_names("zh-Hans").unwrap();
        assert!(names.iter().any(|g| g.target == "谢·拉夫罗夫"));
        h.delete(b).unwrap();
        assert_eq!(h.remembered_names("zh-Hans").unwrap().len(), 1);
        h.delete(a).unwrap();
        assert!(h.remembered_names("zh-Hans").unwrap().is_empty());
    }

    #[test]
    fn the_data_dir_follows_the_apps_identifier() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../../src-tauri/tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], APP_IDENTIFIER);
    }

    #[test]
    fn reopening_keeps_data_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/history.sqlite3");
        let id = {
            let h = History::open(&path).unwrap();
            assert_eq!(h.schema_version().unwrap(), MIGRATIONS.len() as i64);
            store(&h, &outcome("Kept", "Body text here.", None))
        };
        let h = History::open(&path).unwrap();
        assert_eq!(h.get(id).unwrap().outcome.document.title, "Kept");
        h.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(h);
        let e = History::open(&path).err().unwrap();
        assert_eq!(e.code(), "history_too_new");
        assert!(e.to_string().contains("newer Précis"));
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let e = History::open(&path).err().unwrap();
        assert_eq!(e.code(), "history_unavailable");
        // The user's file is left alone.
        assert_eq!(std::fs::read(&path).unwrap(), vec![b'x'; 4096]);
    }
}
