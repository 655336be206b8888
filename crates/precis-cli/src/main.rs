//! `precis`: summarize and translate article files with local models.
//!
//! Results go to stdout (or `--out`), progress to stderr. Exit codes: 0 success, 1 runtime
//! failure, 2 usage error, 130 interrupted.
//!
//! `args` holds the command line; each command has its own module, and `common` what they share.

mod args;
mod batch;
mod bench;
mod common;
mod extract;
mod glossary;
mod models;
mod progress;
mod summarize;
mod translate;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use precis_core::progress::CancelToken;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = CancelToken::new();
    {
        let cancel = cancel.clone();
        // First Ctrl-C asks the engine to stop cleanly; a second one ends the process.
        let _ = ctrlc::set_handler(move || {
            if cancel.is_cancelled() {
                std::process::exit(130);
            }
            cancel.cancel();
        });
    }
    match run(&cli, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if matches!(
                e.downcast_ref::<precis_core::Error>(),
                Some(precis_core::Error::Cancelled)
            ) {
                eprintln!("precis: cancelled");
                return ExitCode::from(130);
            }
            eprintln!("precis: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: &Cli, cancel: &CancelToken) -> Result<()> {
    let quiet = cli.quiet;
    match &cli.command {
        Command::Summarize(args) => summarize::run(args, quiet, cancel),
        Command::Translate(args) => translate::run(args, quiet, cancel),
        Command::Extract(args) => extract::run(args, quiet, cancel),
        Command::Bench(args) => bench::run(args),
        Command::BenchMarian(args) => bench::run_marian(args),
        Command::Models(args) => models::run(args, quiet, cancel),
        Command::Glossary(args) => glossary::run(args),
        Command::Batch(args) => batch::run(args, quiet, cancel),
    }
}
