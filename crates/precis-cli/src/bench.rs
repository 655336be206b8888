//! `precis bench` and `precis bench-marian`: engine speed measurements, one JSON line each.

use anyhow::Result;
use precis_core::models;

use crate::args::{BenchArgs, BenchMarianArgs};
use crate::common;

pub fn run(args: &BenchArgs) -> Result<()> {
    let path = models::resolve(Some(&args.model))?;
    let result = precis_core::bench::run(
        &path,
        args.implementation.into(),
        args.prefill,
        args.decode,
        args.batch,
    )?;
    common::emit(&(serde_json::to_string(&result)? + "\n"), None)
}

pub fn run_marian(args: &BenchMarianArgs) -> Result<()> {
    if args.sentences == 0
        || !(2..=500).contains(&args.source_tokens)
        || !(1..=500).contains(&args.output_tokens)
    {
        anyhow::bail!(
            "--sentences must be at least 1, --source-tokens 2 to 500, --output-tokens 1 to 500"
        );
    }
    let result = precis_core::bench::marian(
        args.implementation.into(),
        args.beam,
        args.batch,
        args.sentences,
        args.source_tokens,
        args.output_tokens,
    )?;
    common::emit(&(serde_json::to_string(&result)? + "\n"), None)
}
