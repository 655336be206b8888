//! `precis extract`: show what the reader took from a file.

use anyhow::Result;
use precis_core::document::Document;
use precis_core::progress::CancelToken;

use crate::args::{ExtractArgs, ExtractFormat};
use crate::common;

pub fn run(args: &ExtractArgs, quiet: bool, cancel: &CancelToken) -> Result<()> {
    let doc = common::read(&args.file, &args.input, quiet, cancel)?;
    let text = match args.format {
        ExtractFormat::Json => serde_json::to_string_pretty(&doc)? + "\n",
        ExtractFormat::Txt => describe(&doc),
    };
    common::emit(&text, None)
}

/// The text form: the header fields, a line of counts, then each paragraph with its id.
fn describe(doc: &Document) -> String {
    let mut s = String::new();
    if let Some(d) = &doc.dateline {
        s.push_str(&format!("dateline: {d}\n"));
    }
    s.push_str(&format!("title: {}\n", doc.title));
    if let Some(sub) = &doc.subtitle {
        s.push_str(&format!("subtitle: {sub}\n"));
    }
    s.push_str(&format!(
        "language: {} · encoding: {} · {} paragraphs · {} sentences · {} words\n",
        doc.language,
        doc.encoding,
        doc.paragraphs.len(),
        doc.sentence_count(),
        doc.word_count()
    ));
    for p in &doc.paragraphs {
        s.push_str(&format!("\n[{}] {}\n", p.id, p.text));
    }
    s
}
