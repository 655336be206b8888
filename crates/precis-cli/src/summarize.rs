//! `precis summarize`: summarize articles and, with --translate, translate them in full.

use anyhow::Result;
use precis_core::document::Document;
use precis_core::lang::Language;
use precis_core::llm::LlmEngine;
use precis_core::mt::MarianEngine;
use precis_core::pipeline::{self, Outcome, Request};
use precis_core::progress::{CancelToken, Stage};
use precis_core::summarize::{EngineKind, Style, SummaryOptions};

use crate::args::SummarizeArgs;
use crate::common;
use crate::progress;

pub fn run(args: &SummarizeArgs, quiet: bool, cancel: &CancelToken) -> Result<()> {
    let req = request(args)?;
    // Read every file first: a bad file fails fast, before minutes of model work.
    let docs = args
        .files
        .iter()
        .map(|f| common::read(f, &args.input))
        .collect::<Result<Vec<_>>>()?;
    let mut translator = if docs.iter().any(|d| req.translates(d)) {
        common::load_translation_model(&args.model, quiet)?
    } else {
        None
    };
    let mut llm = if docs.iter().any(|d| req.needs_llm(d, translator.is_some())) {
        Some(common::load_model(args.model.model.as_deref(), quiet)?)
    } else {
        None
    };
    let (outcomes, failures) = summarize_each(docs, &req, &mut llm, &mut translator, quiet, cancel);
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

/// What the flags ask of the pipeline.
fn request(args: &SummarizeArgs) -> Result<Request> {
    let target = match args.to {
        Some(t) => t,
        None => Language::parse("zh-Hans")?,
    };
    let length = args.length.into();
    let requested = args.engine.map(EngineKind::from);
    let opts = SummaryOptions {
        length,
        style: if args.bullets {
            Style::Bullets
        } else {
            Style::Prose
        },
        engine: EngineKind::choose(requested, length, args.model.model.as_deref()),
    };
    Ok(Request {
        summary: Some(opts),
        summary_in_target: args.to.is_some(),
        translate: args.translate,
        target,
    })
}

/// Runs the articles one after the other. One article's failure does not throw away the
/// others' finished work; a cancel stops at the article it interrupted. Returns the outcomes
/// and one line per failure.
fn summarize_each(
    docs: Vec<Document>,
    req: &Request,
    llm: &mut Option<LlmEngine>,
    translator: &mut Option<MarianEngine>,
    quiet: bool,
    cancel: &CancelToken,
) -> (Vec<Outcome>, Vec<String>) {
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for doc in docs {
        let name = doc.source_name.clone();
        let reporter = progress::Reporter::new(quiet);
        reporter.stage(Stage::Summarizing, &name);
        let mut sink = reporter.sink();
        let engines = common::engines(llm, translator);
        let result = pipeline::run_with(doc, req, engines, &mut sink, cancel);
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
    (outcomes, failures)
}
