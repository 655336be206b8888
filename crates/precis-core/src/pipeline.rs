//! The whole job the app and the CLI run: summary first (the reader sees it soonest), then the
//! summary in the target language, then the full translation, all sharing one name glossary.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::document::Document;
use crate::lang::Language;
use crate::llm::{GenerationStats, Generator, ModelInfo};
use crate::models::ModelChoice;
use crate::mt::document::MachineTranslation;
use crate::mt::MachineTranslator;
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::remote::RemoteConfig;
use crate::summarize::{self, Length, Style, Summary, SummaryEngine, SummaryOptions, SummaryPoint};
use crate::translate::{
    DocumentTranslator, KnownTerms, Problem, TermOrigin, TranslatedText, Translation, Translator,
};
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
    /// The reader's glossary for `target` (stored, or `translate::read_glossary_file`), which
    /// wins over the built-in term base, and the names remembered from earlier articles.
    pub glossary: KnownTerms,
}

/// What the window asks of a job, as it sends it and as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProcessOptions {
    /// The language code of the translation (and of the summary, with `summary_in_target`).
    pub target: String,
    #[serde(default)]
    pub length: Length,
    #[serde(default)]
    pub style: Style,
    /// `None`: the LLM when a model is installed, else extractive ([`SummaryEngine::choose`]).
    pub engine: Option<SummaryEngine>,
    #[serde(default)]
    pub translate: bool,
    #[serde(default)]
    pub summary_in_target: bool,
    /// Catalog id, `imported:<file>` or a path; `None` picks the first installed model.
    pub model: Option<String>,
    /// A dedicated translation model (catalog id or Marian folder) for the article and summary
    /// translation; `None`: the LLM translates.
    #[serde(default)]
    pub translation_model: Option<String>,
}

impl ProcessOptions {
    /// The defaults for a summary, with `target` as the translation language.
    pub fn for_target(target: &str) -> ProcessOptions {
        ProcessOptions {
            target: target.to_string(),
            length: Length::default(),
            style: Style::default(),
            engine: None,
            translate: false,
            summary_in_target: false,
            model: None,
            translation_model: None,
        }
    }

    /// The models these options name, with the remote engine the window has set up (which
    /// then stands for the LLM).
    pub fn model_choice<'a>(&'a self, remote: Option<&'a RemoteConfig>) -> ModelChoice<'a> {
        ModelChoice {
            model: self.model.as_deref(),
            translation_model: self.translation_model.as_deref(),
            remote,
        }
    }

    /// [`ProcessOptions::request_for`] with local models only.
    pub fn request(&self) -> Result<Request> {
        self.request_for(&self.model_choice(None))
    }

    /// The pipeline's request: always a summary (its engine chosen by [`SummaryEngine::choose`]
    /// for the `models` the job will have), the translation when asked. Fails on an unknown
    /// target language.
    pub fn request_for(&self, models: &ModelChoice) -> Result<Request> {
        Ok(Request {
            summary: Some(SummaryOptions {
                length: self.length,
                style: self.style,
                engine: SummaryEngine::choose(self.engine, self.length, models),
            }),
            summary_in_target: self.summary_in_target,
            translate: self.translate,
            target: Language::parse(&self.target)?,
            glossary: KnownTerms::default(),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
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

    /// Whether this request needs an LLM (local or remote): for an abstractive summary, and for
    /// translation unless a dedicated translation model does it (`with_translation_model`).
    pub fn needs_llm(&self, doc: &Document, with_translation_model: bool) -> bool {
        let translates = self.translate || self.summary_needs_translation(doc);
        (translates && !with_translation_model)
            || self.summary.is_some_and(|o| o.engine == SummaryEngine::Llm)
    }

    /// Whether a dedicated translation model would have anything to do.
    pub fn translates(&self, doc: &Document) -> bool {
        self.translate || self.summary_needs_translation(doc)
    }
}

/// The models a job may use.
#[derive(Default)]
pub struct JobModels<'a> {
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
        JobModels {
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
    models: JobModels,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Outcome> {
    let translate_summary = req.summary_needs_translation(&document);
    let JobModels {
        mut llm,
        translation,
    } = models;
    let mut outcome = Outcome {
        model: llm.as_ref().map(|l| l.info().clone()),
        document,
        summary: None,
        summary_original: None,
        translation: None,
        stats: None,
    };
    let doc = &outcome.document;
    if doc.from_ocr {
        sink.emit(Event::warning(crate::reading::OCR_WARNING));
    }
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
        Some(o) if o.engine == SummaryEngine::Llm => {
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
            (Some(machine), _) => Box::new(machine) as Box<dyn DocumentTranslator + '_>,
            (None, Some(llm)) => Box::new(Translator::new(llm, req.target)),
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
    mut tr: Box<dyn DocumentTranslator + '_>,
    req: &Request,
    translate_summary: bool,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<()> {
    let doc = &outcome.document;
    tr.build_glossary(doc, &req.glossary, sink, cancel)?;
    let translate_article = req.translate && !same_language(&req.target, &doc.language);
    if req.translate && !translate_article {
        sink.emit(Event::warning(format!(
            "the article is already in {}; nothing to translate",
            req.target.name
        )));
    }
    let summary_to_translate = original.as_ref().filter(|_| translate_summary);
    // An extractive summary is made of the article's own sentences: when the whole article is
    // translated anyway, its summary is those sentences' translations (translated once, in
    // their paragraph's context, and worded as in the article) instead of a second
    // translation.
    if let Some(orig) =
        summary_to_translate.filter(|o| translate_article && o.engine == SummaryEngine::Extractive)
    {
        let started = std::time::Instant::now();
        let target = tr.output();
        // Shown as soon as the paragraphs it quotes are done, not after the whole article.
        let mut early = EarlySummary::new(sink, orig, doc, &target);
        let translation = tr.translate_document(doc, &mut early, cancel)?;
        outcome.summary = Some(match early.points {
            Some(points) => in_target(orig, points, &*tr, started),
            None => translate_summary_points(&mut *tr, orig, sink, cancel)?,
        });
        outcome.summary_original = original;
        outcome.translation = Some(with_unapplied_glossary(translation, sink));
        return Ok(());
    }
    if let Some(orig) = summary_to_translate {
        outcome.summary = Some(translate_summary_points(&mut *tr, orig, sink, cancel)?);
        outcome.summary_original = original;
    } else {
        outcome.summary = original;
    }
    if translate_article {
        let translation = tr.translate_document(doc, sink, cancel)?;
        outcome.translation = Some(with_unapplied_glossary(translation, sink));
    }
    Ok(())
}

/// Notes (in the translation) and warns about each of the reader's glossary entries the
/// article uses whose rendering is nowhere in the translation (the model worded it differently
/// and enforcement could not replace it): the reader asked for that rendering and should know
/// it is missing.
pub(crate) fn with_unapplied_glossary(
    mut translation: Translation,
    sink: &mut dyn EventSink,
) -> Translation {
    let mut text = translation.title.clone();
    for p in &translation.paragraphs {
        text.push('\n');
        text.push_str(&p.text);
    }
    for g in translation
        .glossary
        .iter()
        .filter(|g| g.origin == TermOrigin::User)
    {
        if !text.contains(&g.target) {
            sink.emit(Event::warning(format!(
                "your glossary's \"{} → {}\" could not be applied: the translation words it differently",
                g.source, g.target
            )));
            translation.glossary_unapplied.push(g.source.clone());
        }
    }
    translation
}

/// Passes events on, and emits an extractive summary's translation ([`summary_from_translation`])
/// once every paragraph it quotes is done (each paragraph of either backend ends with
/// `ParagraphDone`).
struct EarlySummary<'a> {
    inner: &'a mut dyn EventSink,
    summary: &'a Summary,
    doc: &'a Document,
    target: &'a Language,
    /// The paragraphs the summary quotes → their finished text, once done.
    quoted: HashMap<String, Option<String>>,
    /// The summary's points, once emitted; stays `None` when its sentences cannot all be
    /// found (the caller then translates the summary itself).
    points: Option<Vec<SummaryPoint>>,
}

impl<'a> EarlySummary<'a> {
    fn new(
        inner: &'a mut dyn EventSink,
        summary: &'a Summary,
        doc: &'a Document,
        target: &'a Language,
    ) -> Self {
        let quoted = summary
            .points
            .iter()
            .flat_map(|p| &p.source_sentence_ids)
            .filter_map(|id| id.split_once('.'))
            .map(|(paragraph, _)| (paragraph.to_string(), None))
            .collect();
        Self {
            inner,
            summary,
            doc,
            target,
            quoted,
            points: None,
        }
    }
}

impl EventSink for EarlySummary<'_> {
    fn emit(&mut self, event: Event) {
        let mut completed = false;
        if let Event::ParagraphDone { paragraph_id, text } = &event {
            if let Some(slot @ None) = self.quoted.get_mut(paragraph_id) {
                *slot = Some(text.clone());
                completed = self.quoted.values().all(Option::is_some);
            }
        }
        self.inner.emit(event);
        if !completed {
            return;
        }
        // A paragraph shown in the original reads as its source: not a translation to take.
        let translated = |id: &str| {
            let text = self.quoted.get(id)?.as_ref()?;
            let source = self.doc.paragraphs.iter().find(|p| p.id == id)?;
            (text.trim() != source.text.trim()).then(|| text.clone())
        };
        self.points = summary_from_translation(self.summary, self.doc, self.target, &translated);
        // Streamed as one text, the points need the space a language with spaces puts between
        // sentences.
        let joiner = if self.target.is_cjk() { "" } else { " " };
        for (i, p) in self.points.iter().flatten().enumerate() {
            let text = if i > 0 && !p.text.starts_with('\n') {
                format!("{joiner}{}", p.text)
            } else {
                p.text.clone()
            };
            self.inner.emit(Event::Token {
                stage: Stage::TranslatingSummary,
                paragraph_id: Some("summary".into()),
                text,
            });
        }
    }
}

/// An extractive summary's points in the target language, taken from the article's
/// translation (`translated`: a paragraph id's translation, `None` when it has none or was left
/// in the original): each source sentence is found in its translated paragraph, split into as
/// many sentences as the source paragraph has (the sentence-final punctuation of either script
/// ends one). `None` when any sentence cannot be found that way: the caller translates the
/// summary itself then.
fn summary_from_translation(
    summary: &Summary,
    doc: &Document,
    target: &Language,
    translated: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<SummaryPoint>> {
    let sentence = |id: &str| -> Option<String> {
        let (paragraph, _) = id.split_once('.')?;
        let source = doc.paragraphs.iter().find(|p| p.id == paragraph)?;
        let text = translated(paragraph)?;
        let index = source.sentences.iter().position(|s| s.id == id)?;
        let sentences = crate::document::split_sentences(&text);
        if sentences.len() != source.sentences.len() {
            return None;
        }
        Some(sentences[index].trim().to_string())
    };
    // Scripts written without spaces join sentences directly.
    let joiner = if target.is_cjk() { "" } else { " " };
    let point = |ids: &[String]| -> Option<SummaryPoint> {
        let parts = ids
            .iter()
            .map(|id| sentence(id))
            .collect::<Option<Vec<_>>>()?;
        Some(SummaryPoint {
            text: parts.join(joiner),
            source_sentence_ids: ids.to_vec(),
        })
    };
    match summary.style {
        // Prose keeps its sentences as points (and its paragraph breaks), each with its own
        // evidence, as a translated prose summary does.
        summarize::Style::Prose => summary
            .points
            .iter()
            .map(|p| {
                (!p.source_sentence_ids.is_empty()).then_some(())?;
                let mut point = point(&p.source_sentence_ids)?;
                if p.text.starts_with('\n') {
                    point.text.insert(0, '\n');
                }
                Some(point)
            })
            .collect(),
        summarize::Style::Bullets => summary
            .points
            .iter()
            .map(|p| {
                (!p.source_sentence_ids.is_empty()).then_some(())?;
                point(&p.source_sentence_ids)
            })
            .collect(),
    }
}

fn warn(sink: &mut dyn EventSink, what: &str, problems: &[Problem]) {
    for p in problems {
        sink.emit(Event::Warning {
            paragraph_id: Some(what.to_string()),
            message: p.to_string(),
        });
    }
}

/// The translation of a prose summary split back into its sentences, each with the source
/// sentences of the summary sentence it translates, when the translation has as many sentences
/// as the summary (the usual case: a model translates sentence for sentence); otherwise one
/// point resting on all of them, as nothing says which translated sentence is which.
fn aligned_sentences(points: &[SummaryPoint], translation: &str) -> Vec<SummaryPoint> {
    let sentences = crate::document::sentences::split_sentences(translation);
    if points.len() > 1 && sentences.len() == points.len() {
        return points
            .iter()
            .zip(sentences)
            .map(|(point, sentence)| SummaryPoint {
                // A paragraph break before the point stays before its translation.
                text: if point.text.starts_with('\n') {
                    format!("\n{sentence}")
                } else {
                    sentence
                },
                source_sentence_ids: point.source_sentence_ids.clone(),
            })
            .collect();
    }
    vec![SummaryPoint {
        text: translation.to_string(),
        source_sentence_ids: points
            .iter()
            .flat_map(|p| p.source_sentence_ids.clone())
            .collect(),
    }]
}

/// Translates a summary point by point, so each keeps its alignment to the source sentences.
fn translate_summary_points(
    tr: &mut dyn DocumentTranslator,
    summary: &Summary,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Summary> {
    let started = std::time::Instant::now();
    // Prose is translated as one text for fluency (one point); bullets one by one.
    let points = match summary.style {
        summarize::Style::Prose => {
            let TranslatedText {
                text,
                problems: warnings,
                ..
            } = tr.translate_text(
                &summary.text(),
                Some("summary"),
                Stage::TranslatingSummary,
                sink,
                cancel,
            )?;
            warn(sink, "summary", &warnings);
            aligned_sentences(&summary.points, &text)
        }
        summarize::Style::Bullets => {
            let mut out = Vec::new();
            for p in &summary.points {
                let TranslatedText {
                    text,
                    problems: warnings,
                    ..
                } = tr.translate_text(
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
    Ok(in_target(summary, points, tr, started))
}

/// `summary` with its points in the target language, translated by `tr` since `started`.
fn in_target(
    summary: &Summary,
    points: Vec<SummaryPoint>,
    tr: &dyn DocumentTranslator,
    started: std::time::Instant,
) -> Summary {
    Summary {
        engine: summary.engine,
        model: summary.model.clone(),
        language: tr.output().code.to_string(),
        style: summary.style,
        points,
        seconds: summary.seconds + started.elapsed().as_secs_f64(),
        translated_by: Some(tr.model_name()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_translated_prose_summary_keeps_each_sentences_evidence() {
        let point = |text: &str, ids: &[&str]| super::SummaryPoint {
            text: text.into(),
            source_sentence_ids: ids.iter().map(|s| s.to_string()).collect(),
        };
        let points = [
            point("Talks resumed.", &["p1.s1"]),
            point("No deal was reached.", &["p2.s1", "p3.s2"]),
            point("\nAid will follow.", &["p4.s1"]),
        ];
        let aligned = super::aligned_sentences(&points, "会谈恢复。未能达成协议。援助将随后到来。");
        let pairs: Vec<(&str, Vec<&str>)> = aligned
            .iter()
            .map(|p| {
                (
                    p.text.as_str(),
                    p.source_sentence_ids.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                ("会谈恢复。", vec!["p1.s1"]),
                ("未能达成协议。", vec!["p2.s1", "p3.s2"]),
                ("\n援助将随后到来。", vec!["p4.s1"]),
            ]
        );
        // The model merged two sentences: one point, resting on all of them.
        let merged = super::aligned_sentences(&points, "会谈恢复但未能达成协议。援助将随后到来。");
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0].source_sentence_ids,
            ["p1.s1", "p2.s1", "p3.s2", "p4.s1"]
        );
    }

    use super::*;
    use crate::translate::{GlossaryEntry, TranslatedParagraph};

    fn doc() -> Document {
        Document::from_paragraphs(
            "Talks",
            "t.txt",
            vec![
                "The ministers met in Geneva. They talked for hours.".into(),
                "Nothing was agreed.".into(),
            ],
        )
    }

    fn translation(paragraphs: &[(&str, &str, bool)]) -> Translation {
        Translation {
            language: "zh-Hans".into(),
            model: "m".into(),
            title: "会谈".into(),
            subtitle: None,
            paragraphs: paragraphs
                .iter()
                .map(|&(id, text, untranslated)| TranslatedParagraph {
                    id: id.into(),
                    source: String::new(),
                    text: text.into(),
                    warnings: Vec::new(),
                    problems: Vec::new(),
                    untranslated,
                    edited: false,
                    confidence: None,
                })
                .collect(),
            glossary: Vec::new(),
            glossary_unapplied: Vec::new(),
            seconds: 0.0,
        }
    }

    fn summary(style: summarize::Style, ids: &[&[&str]]) -> Summary {
        Summary {
            engine: SummaryEngine::Extractive,
            model: None,
            language: "en".into(),
            style,
            points: ids
                .iter()
                .map(|ids| SummaryPoint {
                    text: String::new(),
                    source_sentence_ids: ids.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
            seconds: 0.0,
            translated_by: None,
        }
    }

    fn from(s: &Summary, t: &Translation, target: &Language) -> Option<Vec<SummaryPoint>> {
        let translated = |id: &str| {
            let p = t.paragraphs.iter().find(|p| p.id == id)?;
            (!p.untranslated).then(|| p.text.clone())
        };
        summary_from_translation(s, &doc(), target, &translated)
    }

    #[test]
    fn an_extractive_summary_takes_its_sentences_from_the_translated_article() {
        let zh = Language::parse("zh").unwrap();
        let t = translation(&[
            ("p1", "部长们在日内瓦会面。他们谈了几个小时。", false),
            ("p2", "没有达成任何协议。", false),
        ]);
        let prose = summary(summarize::Style::Prose, &[&["p1.s2"], &["p2.s1"]]);
        let points = from(&prose, &t, &zh).unwrap();
        let pairs: Vec<_> = points
            .iter()
            .map(|p| (p.text.as_str(), p.source_sentence_ids.clone()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("他们谈了几个小时。", vec!["p1.s2".to_string()]),
                ("没有达成任何协议。", vec!["p2.s1".to_string()])
            ]
        );

        let bullets = summary(summarize::Style::Bullets, &[&["p1.s1"], &["p2.s1"]]);
        let points = from(&bullets, &t, &zh).unwrap();
        let texts: Vec<_> = points.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["部长们在日内瓦会面。", "没有达成任何协议。"]);

        // Languages written with spaces keep one between sentences.
        let de = Language::parse("de").unwrap();
        let t = translation(&[
            (
                "p1",
                "Die Minister trafen sich in Genf. Sie redeten stundenlang.",
                false,
            ),
            ("p2", "Nichts wurde vereinbart.", false),
        ]);
        let points = from(&prose, &t, &de).unwrap();
        let texts: Vec<_> = points.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Sie redeten stundenlang.", "Nichts wurde vereinbart."]
        );
    }

    #[test]
    fn the_summary_is_shown_as_soon_as_the_paragraphs_it_quotes_are_done() {
        let zh = Language::parse("zh").unwrap();
        let d = Document::from_paragraphs(
            "Talks",
            "t.txt",
            vec![
                "The ministers met in Geneva. They talked for hours.".into(),
                "Nothing was agreed.".into(),
                "They will meet again.".into(),
            ],
        );
        let s = summary(summarize::Style::Prose, &[&["p1.s1"], &["p2.s1"]]);
        let mut events = Vec::new();
        let mut inner = |e: Event| events.push(e);
        let mut early = EarlySummary::new(&mut inner, &s, &d, &zh);
        let done = |id: &str, text: &str| Event::ParagraphDone {
            paragraph_id: id.into(),
            text: text.into(),
        };
        early.emit(done("p1", "部长们在日内瓦会面。他们谈了几个小时。"));
        assert!(early.points.is_none());
        early.emit(done("p2", "没有达成任何协议。"));
        let points = early.points.clone().expect("shown once p1 and p2 are done");
        let texts: Vec<_> = points.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["部长们在日内瓦会面。", "没有达成任何协议。"]);
        early.emit(done("p3", "他们将再次会面。"));
        let shown: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Token {
                    stage: Stage::TranslatingSummary,
                    text,
                    ..
                } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(shown, ["部长们在日内瓦会面。", "没有达成任何协议。"]);
        assert_eq!(events.len(), 5, "every event passed on, the summary once");
    }

    #[test]
    fn a_sentence_that_cannot_be_found_sends_the_summary_to_the_translator() {
        let zh = Language::parse("zh").unwrap();
        let prose = summary(summarize::Style::Prose, &[&["p1.s2"], &["p2.s1"]]);
        // Two source sentences translated as one: no way to tell where the second begins.
        let merged = translation(&[
            ("p1", "部长们在日内瓦会面并谈了几个小时。", false),
            ("p2", "没有达成任何协议。", false),
        ]);
        assert!(from(&prose, &merged, &zh).is_none());
        // A paragraph shown in the original (untranslated) is no translation to take.
        let kept = translation(&[
            ("p1", "部长们在日内瓦会面。他们谈了几个小时。", false),
            ("p2", "Nothing was agreed.", true),
        ]);
        assert!(from(&prose, &kept, &zh).is_none());
        // A point with no source sentence (never from the extractive engine) is not guessed.
        let empty = summary(summarize::Style::Bullets, &[&[]]);
        assert!(from(&empty, &kept, &zh).is_none());
    }

    #[test]
    fn a_glossary_rendering_missing_from_the_translation_is_reported() {
        let entry = |source: &str, target: &str, origin| GlossaryEntry {
            source: source.into(),
            target: target.into(),
            origin,
        };
        let translation = Translation {
            language: "zh-Hans".into(),
            model: "scripted".into(),
            title: "日内瓦会谈".into(),
            subtitle: None,
            paragraphs: Vec::new(),
            glossary: vec![
                entry("Geneva", "日内瓦", TermOrigin::User),
                entry("talks", "磋商", TermOrigin::User),
                entry("Syria", "叙利亚", TermOrigin::TermBase),
            ],
            glossary_unapplied: Vec::new(),
            seconds: 0.0,
        };
        let mut warnings = Vec::new();
        let translation = with_unapplied_glossary(translation, &mut |e: Event| {
            if let Event::Warning { message, .. } = e {
                warnings.push(message);
            }
        });
        assert_eq!(
            warnings,
            ["your glossary's \"talks → 磋商\" could not be applied: the translation words it differently"]
        );
        assert_eq!(translation.glossary_unapplied, ["talks"]);
    }
}
