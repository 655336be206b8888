//! `precis translate`: translate a whole article, paragraph by paragraph.

use anyhow::Result;
use precis_core::models::LoadedModels;
use precis_core::pipeline::{self, Request};
use precis_core::progress::CancelToken;

use crate::args::TranslateArgs;
use crate::common;
use crate::progress;

pub fn run(args: &TranslateArgs, quiet: bool, cancel: &CancelToken) -> Result<()> {
    let doc = common::read(&args.file, &args.input, quiet, cancel)?;
    let req = Request {
        summary: None,
        summary_in_target: false,
        translate: true,
        target: args.to,
        glossary: common::known_terms(&args.to, &args.glossary)?,
    };
    let reporter = progress::Reporter::new(quiet);
    let mut sink = reporter.sink();
    // A dedicated translation model if one was given, else the LLM.
    let mut models = LoadedModels::new();
    let remote = args.model.remote.config()?;
    let job = models.prepare(&req, &doc, args.model.choice(remote.as_ref()), &mut sink)?;
    let outcome = pipeline::run_with(doc, &req, job, &mut sink, cancel)?;
    reporter.finish();
    let bytes = common::render_all(&[outcome], args.output.format())?;
    common::emit_bytes(&bytes, args.output.out.as_deref())
}
