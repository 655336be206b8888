//! The journal of a batch run (`precis batch`): one SQLite file beside the output, recording
//! for every article (path and content hash) whether it is done, failed or was interrupted, its
//! outputs and timings. A later run over the same folder skips what is done, so an interrupted
//! batch resumes without redoing finished articles; an article whose content changed has a new
//! hash and is done again.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

/// The journal's file name inside the output folder.
pub const JOURNAL_FILE: &str = ".precis-batch.sqlite";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS articles (
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    outputs TEXT NOT NULL DEFAULT '[]',
    seconds REAL NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (path, hash)
)";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the batch journal {}: {source}; check the output folder and its permissions", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("batch journal error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("batch journal entry is unreadable: {0}")]
    Json(#[from] serde_json::Error),
}

/// What the journal knows of one article.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Finished: the files written for it.
    Done { outputs: Vec<PathBuf> },
    /// Failed with this reason (tried again on the next run).
    Failed { error: String },
    /// Started and never finished: the run was interrupted or crashed.
    Interrupted,
}

pub struct Journal {
    conn: Connection,
}

impl Journal {
    /// Opens (or creates) the journal in `output_dir`.
    pub fn open(output_dir: &Path) -> Result<Journal, JournalError> {
        let path = output_dir.join(JOURNAL_FILE);
        let open = || -> rusqlite::Result<Connection> {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // Each record is one small transaction; a crash loses at most the article it was on.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch(SCHEMA)?;
            Ok(conn)
        };
        let conn = open().map_err(|source| JournalError::Open { path, source })?;
        Ok(Journal { conn })
    }

    /// What is recorded for `path` with content `hash`.
    pub fn recorded(&self, path: &str, hash: &str) -> Result<Option<Recorded>, JournalError> {
        let row: Option<(String, String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT status, outputs, error FROM articles WHERE path = ?1 AND hash = ?2",
                params![path, hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((status, outputs, error)) = row else {
            return Ok(None);
        };
        Ok(Some(match status.as_str() {
            "done" => Recorded::Done {
                outputs: serde_json::from_str(&outputs)?,
            },
            "failed" => Recorded::Failed {
                error: error.unwrap_or_default(),
            },
            _ => Recorded::Interrupted,
        }))
    }

    /// Notes that work on the article started (so a crash leaves it marked interrupted).
    pub fn started(&self, path: &str, hash: &str) -> Result<(), JournalError> {
        self.set(path, hash, "running", &[], 0.0, 0, None)
    }

    pub fn done(
        &self,
        path: &str,
        hash: &str,
        outputs: &[PathBuf],
        seconds: f64,
        tokens: u64,
    ) -> Result<(), JournalError> {
        self.set(path, hash, "done", outputs, seconds, tokens, None)
    }

    pub fn failed(
        &self,
        path: &str,
        hash: &str,
        error: &str,
        seconds: f64,
    ) -> Result<(), JournalError> {
        self.set(path, hash, "failed", &[], seconds, 0, Some(error))
    }

    #[allow(clippy::too_many_arguments)]
    fn set(
        &self,
        path: &str,
        hash: &str,
        status: &str,
        outputs: &[PathBuf],
        seconds: f64,
        tokens: u64,
        error: Option<&str>,
    ) -> Result<(), JournalError> {
        let now = precis_core::clock::now_rfc3339();
        // A new hash for the same path replaces the old record: the article changed.
        self.conn.execute(
            "DELETE FROM articles WHERE path = ?1 AND hash <> ?2",
            params![path, hash],
        )?;
        self.conn.execute(
            "INSERT INTO articles (path, hash, status, outputs, seconds, tokens, error, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (path, hash) DO UPDATE SET status = ?3, outputs = ?4, seconds = ?5,
                 tokens = ?6, error = ?7, updated_at = ?8",
            params![
                path,
                hash,
                status,
                serde_json::to_string(outputs)?,
                seconds,
                tokens as i64,
                error,
                now
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_a_changed_article_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.recorded("a.txt", "h1").unwrap(), None);
        journal.started("a.txt", "h1").unwrap();
        journal.started("b.txt", "h2").unwrap();
        journal
            .done("a.txt", "h1", &[PathBuf::from("a.md")], 1.5, 120)
            .unwrap();
        journal
            .failed("c.pdf", "h3", "the PDF has no text layer", 0.1)
            .unwrap();
        drop(journal);

        // As after a crash: b was started and never finished.
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(
            journal.recorded("a.txt", "h1").unwrap(),
            Some(Recorded::Done {
                outputs: vec![PathBuf::from("a.md")]
            })
        );
        assert_eq!(
            journal.recorded("b.txt", "h2").unwrap(),
            Some(Recorded::Interrupted)
        );
        assert_eq!(
            journal.recorded("c.pdf", "h3").unwrap(),
            Some(Recorded::Failed {
                error: "the PDF has no text layer".into()
            })
        );
        // a.txt edited: its old record no longer applies, and goes when the new one is made.
        assert_eq!(journal.recorded("a.txt", "h9").unwrap(), None);
        journal.started("a.txt", "h9").unwrap();
        assert_eq!(journal.recorded("a.txt", "h1").unwrap(), None);
    }

    #[test]
    fn an_unwritable_place_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let e = Journal::open(&file)
            .err()
            .expect("cannot open inside a file");
        assert!(e.to_string().contains("batch journal"), "{e}");
    }
}
