//! `precis glossary`: the reader's stored glossary, the one the window edits.

use anyhow::{Context, Result};
use precis_core::translate::{read_glossary_file, write_glossary, UserTerm};

use crate::args::{
    GlossaryAddArgs, GlossaryCommand, GlossaryCommandArgs, GlossaryFileArgs, GlossaryListArgs,
    GlossaryRemoveArgs,
};
use crate::common;

pub fn run(args: &GlossaryCommandArgs) -> Result<()> {
    match &args.command {
        GlossaryCommand::List(args) => list(args),
        GlossaryCommand::Add(args) => add(args),
        GlossaryCommand::Remove(args) => remove(args),
        GlossaryCommand::Import(args) => import(args),
        GlossaryCommand::Export(args) => export(args),
    }
}

fn list(args: &GlossaryListArgs) -> Result<()> {
    let terms = common::open_database()?.glossary_list(args.language.to.code)?;
    if args.json {
        return common::emit(&(serde_json::to_string_pretty(&terms)? + "\n"), None);
    }
    let lines: String = terms
        .iter()
        .map(|s| {
            let t = &s.term;
            let rendering = if t.do_not_translate {
                "(kept as written)"
            } else {
                t.target.as_str()
            };
            let case = if t.case_sensitive { "" } else { "any case" };
            format!("{}\t{rendering}\t{}\t{case}\n", t.source, t.note)
        })
        .collect();
    common::emit(&lines, None)
}

fn add(args: &GlossaryAddArgs) -> Result<()> {
    let db = common::open_database()?;
    let language = args.language.to.code;
    let term = UserTerm {
        source: args.term.clone(),
        target: args.rendering.clone().unwrap_or_default(),
        note: args.note.clone(),
        case_sensitive: !args.ignore_case,
        do_not_translate: args.keep,
    };
    // The same term again changes its entry, as an import would.
    let existing = db
        .glossary_list(language)?
        .into_iter()
        .find(|s| s.term.source == term.source.trim());
    let saved = db.glossary_save(existing.as_ref().map(|s| s.id), language, &term)?;
    let verb = if existing.is_some() {
        "changed"
    } else {
        "added"
    };
    eprintln!(
        "{verb}: {} → {} ({language})",
        saved.term.source,
        saved.term.rendering()
    );
    Ok(())
}

fn remove(args: &GlossaryRemoveArgs) -> Result<()> {
    let db = common::open_database()?;
    let language = args.language.to.code;
    let entry = db
        .glossary_list(language)?
        .into_iter()
        .find(|s| s.term.source == args.term.trim())
        .with_context(|| format!("\"{}\" is not in your {language} glossary", args.term))?;
    db.glossary_delete(entry.id)?;
    eprintln!("removed: {} ({language})", entry.term.source);
    Ok(())
}

fn import(args: &GlossaryFileArgs) -> Result<()> {
    let terms = read_glossary_file(&args.file)?;
    let mut db = common::open_database()?;
    let language = args.language.to.code;
    let summary = db.glossary_import(language, &terms)?;
    eprintln!(
        "{}: {} added, {} replaced, {} skipped ({language} glossary)",
        args.file.display(),
        summary.added,
        summary.replaced,
        summary.skipped.len()
    );
    for reason in &summary.skipped {
        eprintln!("  skipped: {reason}");
    }
    Ok(())
}

fn export(args: &GlossaryFileArgs) -> Result<()> {
    let terms = common::open_database()?.glossary_terms(args.language.to.code)?;
    let out = (args.file.as_os_str() != "-").then_some(args.file.as_path());
    common::emit(&write_glossary(&terms), out)
}
