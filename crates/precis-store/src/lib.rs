//! Précis's storage: one SQLite database with the history of processed articles, the reader's
//! glossary and the names remembered across articles; the journal of a batch run; the remote
//! engine's API key.
//!
//! Owns the schema and its migrations and the queries the window and CLI run. Depends on the
//! core's types ([`precis_core::pipeline::Outcome`], the glossary's terms) and nothing else of
//! Précis; the core must never depend on it (it runs jobs without knowing whether, or where,
//! they are kept).

pub mod batch;
pub mod glossary;
pub mod history;
pub mod remote;
