//! `precis models`: list, fetch and locate models.

use anyhow::Result;
use precis_core::models::{self, fetch, ModelStatus};
use precis_core::progress::{CancelToken, Stage};

use crate::args::{ModelsArgs, ModelsCommand, ModelsFetchArgs, ModelsListArgs, ModelsPathArgs};
use crate::common;
use crate::progress;

pub fn run(args: &ModelsArgs, quiet: bool, cancel: &CancelToken) -> Result<()> {
    match &args.command {
        ModelsCommand::List(args) => list(args),
        ModelsCommand::Fetch(args) => fetch(args, quiet, cancel),
        ModelsCommand::Path(args) => path(args),
    }
}

fn list(args: &ModelsListArgs) -> Result<()> {
    let list = models::list();
    if args.json {
        return common::emit(&(serde_json::to_string_pretty(&list)? + "\n"), None);
    }
    let mut s: String = list.iter().map(list_line).collect();
    s.push_str("extractive                      (built in, no model needed; summaries only)\n");
    common::emit(&s, None)
}

/// One catalog model: id, size, license, where it is installed, what it is for.
fn list_line(m: &ModelStatus) -> String {
    let state = match (&m.installed, m.tile_cache_bytes) {
        (Some(p), Some(cache)) => format!(
            "installed: {} (+{} MB start-up cache)",
            p.display(),
            cache / 1_000_000
        ),
        (Some(p), None) => format!("installed: {}", p.display()),
        (None, _) => "not installed".into(),
    };
    let task = match m.purpose {
        models::Purpose::Assistant => "",
        models::Purpose::Translation => "  [translation only]",
        models::Purpose::Test => "  [decoder check]",
    };
    format!(
        "{:<30} {:>5}  ~{:>5} MB  {:<11} {}{task}\n",
        m.id, m.parameters, m.approx_size_mb, m.license, state
    )
}

fn fetch(args: &ModelsFetchArgs, quiet: bool, cancel: &CancelToken) -> Result<()> {
    let reporter = progress::Reporter::new(quiet);
    reporter.stage(Stage::Downloading, &args.id);
    let mut sink = reporter.sink();
    let path = fetch::fetch(&args.id, args.source.into(), &mut sink, cancel)?;
    reporter.finish();
    common::emit(&format!("{}\n", path.display()), None)
}

fn path(args: &ModelsPathArgs) -> Result<()> {
    // The same lookup as --model: an unreachable model's installed fallback counts.
    let entry = models::find(&args.id)?;
    let path = match entry.purpose {
        models::Purpose::Translation => entry
            .installed_path()
            .ok_or(precis_core::Error::ModelNotInstalled { id: entry.id })?,
        _ => models::resolve(Some(&args.id))?,
    };
    common::emit(&format!("{}\n", path.display()), None)
}
