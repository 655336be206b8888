//! The whole job the app and the CLI run: summary first (the reader sees it soonest), then the
//! summary in the target language, then the full translation, all sharing one name glossary.

use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::lang::Language;
use crate::llm::{GenerationStats, Generator, ModelInfo};
use crate::mt::document::MachineTranslation;
use crate::mt::MachineTranslator;
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::summarize::{self, EngineKind, Summary, SummaryOptions, SummaryPoint};
use crate::translate::{Backend, Translation, Translator};
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

    /// Whether this request needs a local LLM: for an abstractive summary, and for
    /// translation unless a dedicated translation model does it (`with_translation_model`).
    pub fn needs_llm(&self, doc: &Document, with_translation_model: bool) -> bool {
        let translates = self.translate || self.summary_needs_translation(doc);
        (translates && !with_translation_model)
            || self.summary.is_some_and(|o| o.engine == EngineKind::Llm)
    }

    /// Whether a dedicated translation model would have anything to do.
    pub fn translates(&self, doc: &Document) -> bool {
        self.translate || self.summary_needs_translation(doc)
    }
}

/// The models a job may use.
#[derive(Default)]
pub struct Engines<'a> {
    /// Summaries, and translation when there is no `translation` model.
    pub llm: Option<&'a mut dyn Generator>,
    /// A dedicated translation model: translates the article and the summary.
    pub translation: Option<&'a mut dyn MachineTranslator>,
}

/// [`run_with`] with an LLM only.
pub fn run(
    document: Document,
    req: &Request,
    llm: Option<&mut dyn Generator>,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Outcome> {
    run_with(
        document,
        req,
        Engines {
            llm,
            translation: None,
        },
        sink,
        cancel,
    )
}

pub fn run_with(
    document: Document,
    req: &Request,
    engines: Engines,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Outcome> {
    let translate_summary = req.summary_needs_translation(&document);
    let Engines {
        mut llm,
        translation,
    } = engines;
    let mut outcome = Outcome {
        model: llm.as_ref().map(|l| l.info().clone()),
        document,
        summary: None,
        summary_original: None,
        translation: None,
        stats: None,
    };
    let doc = &outcome.document;
    if llm.is_none() && req.needs_llm(doc, translation.is_some()) {
        return Err(Error::EngineUnavailable {
            engine: "llm".into(),
            reason: "translation and abstractive summaries need a local model; run `precis models fetch qwen2.5-1.5b-instruct`".into(),
        });
    }
    if llm.is_none() && translation.is_none() {
        outcome.summary = req.summary.map(|o| summarize::extractive_summary(doc, &o));
        return Ok(outcome);
    }
    // Set up (and a pair it cannot translate refused) before minutes of summary work.
    let machine = match translation {
        Some(mt) if req.translates(doc) => {
            Some(MachineTranslation::new(mt, &doc.language, req.target)?)
        }
        _ => None,
    };
    let before = llm.as_ref().map(|l| l.stats());
    let original = match req.summary {
        Some(o) if o.engine == EngineKind::Llm => {
            let llm = llm
                .as_deref_mut()
                .expect("checked above: an LLM summary has an LLM");
            Some(summarize::llm::summarize(llm, doc, &o, sink, cancel)?)
        }
        Some(o) => Some(summarize::extractive_summary(doc, &o)),
        None => None,
    };
    if req.translates(doc) {
        let backend = match (machine, llm.as_deref_mut()) {
            (Some(machine), _) => Backend::Machine(machine),
            (None, Some(llm)) => Backend::Llm(Translator::new(llm, req.target)),
            (None, None) => unreachable!("checked above: translation needs a model"),
        };
        translate(
            &mut outcome,
            original,
            backend,
            req,
            translate_summary,
            sink,
            cancel,
        )?;
    } else {
        outcome.summary = original;
    }
    if let (Some(llm), Some(before)) = (llm, before) {
        outcome.stats = Some(llm.stats().since(&before));
    }
    Ok(outcome)
}

/// The summary (when it must be in the target language) and the article, translated.
fn translate(
    outcome: &mut Outcome,
    original: Option<Summary>,
    mut tr: Backend,
    req: &Request,
    translate_summary: bool,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<()> {
    let doc = &outcome.document;
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
    Ok(())
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
    tr: &mut Backend,
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
        model: summary.model.clone(),
        language: tr.output().code.to_string(),
        style: summary.style,
        points,
        seconds: summary.seconds + started.elapsed().as_secs_f64(),
        translated_by: Some(tr.model_name()),
    })
}
