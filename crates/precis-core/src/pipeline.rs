//! The whole job the app and the CLI run: summary first (the reader sees it soonest), then the
//! summary in the target language, then the full translation, all sharing one name glossary.

use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::lang::Language;
use crate::llm::{GenerationStats, Generator, ModelInfo};
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::summarize::{self, EngineKind, Summary, SummaryOptions, SummaryPoint};
use crate::translate::{Translation, Translator};
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct Request {
    /// `None`: no summary.
    pub summary: Option<SummaryOptions>,
    /// Write the summary in `target` rather than the article's language.
    pub summary_in_target: bool,
    /// Translate the whole article into `target`.
    pub translate: bool,
    pub target: Language,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub document: Document,
    /// The summary in the requested language.
    pub summary: Option<Summary>,
    /// The summary in the article's language, when `summary` is a translation of it.
    pub summary_original: Option<Summary>,
    pub translation: Option<Translation>,
    pub model: Option<ModelInfo>,
    /// Model work for this article: tokens and time in prefill and decode.
    pub stats: Option<GenerationStats>,
}

fn same_language(target: &Language, doc_lang: &str) -> bool {
    target.code.eq_ignore_ascii_case(doc_lang) || target.code.split('-').next() == Some(doc_lang)
}

impl Request {
    fn summary_needs_translation(&self, doc: &Document) -> bool {
        self.summary.is_some()
            && self.summary_in_target
            && !same_language(&self.target, &doc.language)
    }

    /// Whether this request needs a local model at all.
    pub fn needs_model(&self, doc: &Document) -> bool {
        self.translate
            || self.summary_needs_translation(doc)
            || self.summary.is_some_and(|o| o.engine == EngineKind::Llm)
    }
}

pub fn run(
    document: Document,
    req: &Request,
    llm: Option<&mut dyn Generator>,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Outcome> {
    let translate_summary = req.summary_needs_translation(&document);
    let mut outcome = Outcome {
        model: llm.as_ref().map(|l| l.info().clone()),
        document,
        summary: None,
        summary_original: None,
        translation: None,
        stats: None,
    };
    let doc = &outcome.document;
    let llm = match llm {
        Some(llm) => llm,
        None if req.needs_model(doc) => {
            return Err(Error::EngineUnavailable {
                engine: "llm".into(),
                reason: "translation and abstractive summaries need a local model; run `precis models fetch qwen2.5-1.5b-instruct`".into(),
            })
        }
        None => {
            outcome.summary = req.summary.map(|o| summarize::extractive_summary(doc, &o));
            return Ok(outcome);
        }
    };

    let before = llm.stats();
    let outcome = run_with_model(outcome, req, translate_summary, llm, sink, cancel)?;
    Ok(Outcome {
        stats: Some(llm.stats().since(&before)),
        ..outcome
    })
}

fn run_with_model(
    mut outcome: Outcome,
    req: &Request,
    translate_summary: bool,
    llm: &mut dyn Generator,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Outcome> {
    let doc = &outcome.document;
    let original = match req.summary {
        Some(o) if o.engine == EngineKind::Llm => {
            Some(summarize::llm::summarize(llm, doc, &o, sink, cancel)?)
        }
        Some(o) => Some(summarize::extractive_summary(doc, &o)),
        None => None,
    };
    if !translate_summary && !req.translate {
        outcome.summary = original;
        return Ok(outcome);
    }

    let mut tr = Translator::new(llm, req.target);
    tr.build_glossary(doc, sink, cancel)?;
    if let (true, Some(orig)) = (translate_summary, &original) {
        outcome.summary = Some(translate_summary_points(&mut tr, orig, sink, cancel)?);
        outcome.summary_original = original;
    } else {
        outcome.summary = original;
    }
    if req.translate && same_language(&req.target, &doc.language) {
        sink.emit(Event::Warning {
            message: format!(
                "the article is already in {}; nothing to translate",
                req.target.name
            ),
        });
    } else if req.translate {
        outcome.translation = Some(tr.translate_document(doc, sink, cancel)?);
    }
    Ok(outcome)
}

fn warn(sink: &mut dyn EventSink, what: &str, warnings: &[String]) {
    for w in warnings {
        sink.emit(Event::Warning {
            message: format!("{what}: {w}"),
        });
    }
}

/// Translates a summary point by point, so each keeps its alignment to the source sentences.
fn translate_summary_points(
    tr: &mut Translator,
    summary: &Summary,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Summary> {
    let started = std::time::Instant::now();
    // Prose is translated as one text for fluency (one point); bullets one by one.
    let points = match summary.style {
        summarize::Style::Prose => {
            let (text, warnings) = tr.translate_text(
                &summary.text(),
                Some("summary"),
                Stage::TranslatingSummary,
                sink,
                cancel,
            )?;
            warn(sink, "summary", &warnings);
            let ids: Vec<String> = summary
                .points
                .iter()
                .flat_map(|p| p.source_sentence_ids.clone())
                .collect();
            vec![SummaryPoint {
                text,
                source_sentence_ids: ids,
            }]
        }
        summarize::Style::Bullets => {
            let mut out = Vec::new();
            for p in &summary.points {
                let (text, warnings) = tr.translate_text(
                    &p.text,
                    Some("summary"),
                    Stage::TranslatingSummary,
                    sink,
                    cancel,
                )?;
                warn(sink, "summary", &warnings);
                out.push(SummaryPoint {
                    text,
                    source_sentence_ids: p.source_sentence_ids.clone(),
                });
            }
            out
        }
    };
    Ok(Summary {
        engine: summary.engine,
        model: summary
            .model
            .clone()
            .or_else(|| Some(tr.llm.info().name.clone())),
        language: tr.output.code.to_string(),
        style: summary.style,
        points,
        seconds: summary.seconds + started.elapsed().as_secs_f64(),
    })
}
