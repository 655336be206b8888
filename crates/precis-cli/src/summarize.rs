//! `precis summarize`: summarize articles and, with --translate, translate them in full.

use anyhow::Result;
use precis_core::document::Document;
use precis_core::lang::Language;
use precis_core::models::{LoadedModels, ModelChoice};
use precis_core::pipeline::{self, Outcome, Request};
use precis_core::progress::{CancelToken, Stage};
use precis_core::summarize::{Style, SummaryEngine, SummaryOptions};

use crate::args::{SummarizeArgs, SummaryJobArgs};
use crate::common;
use crate::progress;

pub fn run(args: &SummarizeArgs, quiet: bool, cancel: &CancelToken) -> Result<()> {
    let remote = args.job.model.remote.config()?;
    let choice = args.job.model.choice(remote.as_ref());
    let req = request(&args.job, &choice)?;
    // Read every file first: a bad file fails fast, before minutes of model work.
    let docs = args
        .files
        .iter()
        .map(|f| common::read(f, &args.input, quiet, cancel))
        .collect::<Result<Vec<_>>>()?;
    let (outcomes, failures) = summarize_each(docs, &req, choice, quiet, cancel)?;
    if !outcomes.is_empty() {
        let bytes = common::render_all(&outcomes, args.output.format())?;
        common::emit_bytes(&bytes, args.output.out.as_deref())?;
    }
    match failures.len() {
        0 => Ok(()),
        _ if cancel.is_cancelled() => Err(precis_core::Error::Cancelled.into()),
        _ => anyhow::bail!("{}", failures.join("; ")),
    }
}

/// What the flags ask of the pipeline, for a job with the `models` they chose.
pub fn request(args: &SummaryJobArgs, models: &ModelChoice) -> Result<Request> {
    let target = match args.to {
        Some(t) => t,
        None => Language::parse("zh-Hans")?,
    };
    let length = args.length.into();
    let requested = args.engine.map(SummaryEngine::from);
    let opts = SummaryOptions {
        length,
        style: if args.bullets {
            Style::Bullets
        } else {
            Style::Prose
        },
        engine: SummaryEngine::choose(requested, length, models),
    };
    Ok(Request {
        summary: Some(opts),
        summary_in_target: args.to.is_some(),
        translate: args.translate,
        target,
        glossary: common::known_terms(&target, &args.glossary)?,
    })
}

/// Runs the articles one after the other, loading the models when the first article needs
/// them. One article's failure does not throw away the others' finished work; a cancel stops
/// at the article it interrupted, a model that cannot be loaded at the article that needed it.
/// Returns the outcomes and one line per failure (a model that fails to load before any
/// article is done is the error itself).
fn summarize_each(
    docs: Vec<Document>,
    req: &Request,
    choice: ModelChoice,
    quiet: bool,
    cancel: &CancelToken,
) -> precis_core::Result<(Vec<Outcome>, Vec<String>)> {
    let mut models = LoadedModels::new();
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for doc in docs {
        let name = doc.source_name.clone();
        let reporter = progress::Reporter::new(quiet);
        let mut sink = reporter.sink();
        let job = match models.prepare(req, &doc, choice, &mut sink) {
            Ok(job) => job,
            Err(e) => {
                reporter.finish();
                // Nothing done yet: the error itself, with its exit code.
                if outcomes.is_empty() && failures.is_empty() {
                    return Err(e);
                }
                failures.push(format!("{name}: {e}"));
                break;
            }
        };
        reporter.stage(Stage::Summarizing, &name);
        let result = pipeline::run_with(doc, req, job, &mut sink, cancel);
        reporter.finish();
        match result {
            Ok(outcome) => outcomes.push(outcome),
            Err(precis_core::Error::Cancelled) => {
                failures.push(format!("{name}: cancelled"));
                break;
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    Ok((outcomes, failures))
}
