//! Précis's storage: the history of processed articles in a SQLite database.
//!
//! Owns the schema and its migrations and the queries the window and CLI run. Depends on the
//! core's result types ([`precis_core::pipeline::Outcome`]) and nothing else of Précis; the core
//! must never depend on it (it runs jobs without knowing whether, or where, they are kept).

pub mod history;
