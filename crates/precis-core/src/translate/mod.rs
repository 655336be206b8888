//! Paragraph-by-paragraph translation with a local LLM.
//!
//! Faithfulness measures, in order (one policy for paragraphs, headings and summaries, in
//! [`schedule`]; the term base in [`glossary`], prompts in [`prompt`], checks in [`checks`]):
//! 1. a built-in term base (countries, cities, organisations) whose entries found in the
//!    article are given to the model, so every paragraph uses the standard rendering;
//! 2. amounts rendered by code for the target language ("€100m" → 1亿欧元) and given to the
//!    model as required renderings; after generation each is checked by value and a wrong
//!    figure replaced in place where it can be located ([`crate::numbers`]);
//! 3. the article text framed as text to translate, never instructions; text without words
//!    copied, not generated;
//! 4. checks after each piece (amounts, invented numbers, names, English left in, echoed
//!    instructions, a translation far shorter than its source); one stricter retry; English
//!    words still left in looked up one by one; a piece still in English shown as the original,
//!    marked, never as a half-translation; a warning on whatever still fails.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::document::Document;
use crate::lang::Language;
use crate::llm::{FinishReason, Generator, LogProb};
use crate::names::{bracket_originals, learn_renderings};
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::script::Converter;
use crate::Result;

mod checks;
mod glossary;
mod prompt;
mod schedule;
#[cfg(test)]
pub(crate) mod tests;
mod user_glossary;

pub use checks::{
    has_words, in_target_language, latin_share, untranslated_words, Problem, NOT_TRANSLATED,
};
pub(crate) use glossary::document_glossary;
pub use glossary::{contains_term, enforce_terms, gazetteer, terms_in, GlossaryEntry, TermOrigin};
pub use user_glossary::{
    parse_glossary, read_glossary_file, write_glossary, KnownTerms, UserTerm, MAX_GLOSSARY_BYTES,
};

use checks::{settle, Attempt};
use schedule::DocumentJobs;

/// Below this mean log-probability per token a model's translation counts as doubtful even when
/// it passed every check. Chosen on the development set (QUALITY.md, "Confidence"): it shades
/// 14% of the 0.5B's segments, whose reference chrF averages half the rest's, and keeps the
/// heat-map quiet for the 1.5B; the checks' flags and the log-probability are nearly
/// independent there, so it finds failures the checks miss.
pub const LOW_CONFIDENCE: f32 = -1.0;

/// One text's translation, as [`Translator::translate_text`] gives it.
#[derive(Debug, Clone, Default)]
pub struct TranslatedText {
    pub text: String,
    /// What is still wrong with it (empty when it passed every check).
    pub problems: Vec<Problem>,
    /// How sure the model was of what it wrote (no tokens for a model that does not say).
    pub logprob: LogProb,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct TranslatedParagraph {
    /// The source paragraph's id (1:1 mapping).
    pub id: String,
    pub source: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub warnings: Vec<String>,
    /// The same warnings, typed: what the window shades a doubtful paragraph by. (Absent in
    /// results stored before it existed; their `warnings` still say it.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<Problem>>", optional)]
    pub problems: Vec<Problem>,
    /// `text` is the reader's own (see [`crate::revise::edit_paragraph`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub edited: bool,
    /// The model's mean log-probability per token of the text it wrote (≤ 0; closer to 0 is
    /// surer); absent for text it did not write (copied, untranslated, edited) and in results
    /// stored before it existed. Below [`LOW_CONFIDENCE`] the paragraph is doubtful.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub confidence: Option<f32>,
    /// The model did not translate this paragraph even when retried: `text` is the source as
    /// it is, never a half-translated mixture, and the window and exports mark it so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub untranslated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Translation {
    pub language: String,
    pub model: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub paragraphs: Vec<TranslatedParagraph>,
    pub glossary: Vec<GlossaryEntry>,
    /// The reader's glossary terms the article uses whose rendering is nowhere in the
    /// translation (the model worded them differently and enforcement could not replace them).
    #[serde(default)]
    pub glossary_unapplied: Vec<String>,
    pub seconds: f64,
}

pub struct Translator<'a> {
    pub llm: &'a mut dyn Generator,
    /// The language the reader asked for.
    pub output: Language,
    /// The language the model writes: `output`, or Simplified Chinese for a Traditional
    /// `output`, converted by `convert` (see [`crate::script`]).
    pub target: Language,
    convert: Option<Converter>,
    pub glossary: Vec<GlossaryEntry>,
    /// English words a translation left in, looked up and rendered (shared by the summary and
    /// the article, so a word reads the same in both).
    words: std::collections::HashMap<String, String>,
    /// People whose original name the summary has already given in brackets (its points are
    /// translated one by one, and the first mention is explained once).
    explained: Vec<String>,
    /// The source language's English name, for the prompt.
    pub source_language: &'static str,
    /// Paragraphs translated at once ([`DEFAULT_PARALLEL`], or `PRECIS_BATCH`).
    pub parallel: usize,
}

impl<'a> Translator<'a> {
    pub fn new(llm: &'a mut dyn Generator, output: Language) -> Self {
        // Should the built-in tables ever fail to load, the model is asked for `output` itself.
        let (target, convert) = crate::script::written_via(&output).unwrap_or((output, None));
        Self {
            llm,
            output,
            target,
            convert,
            glossary: Vec::new(),
            words: std::collections::HashMap::new(),
            explained: Vec::new(),
            source_language: "English",
            parallel: parallel_from_env(),
        }
    }
}

impl DocumentTranslator for Translator<'_> {
    fn output(&self) -> Language {
        self.output
    }

    fn model_name(&self) -> String {
        self.llm.info().name.clone()
    }

    fn build_glossary(
        &mut self,
        doc: &Document,
        known: &KnownTerms,
        sink: &mut dyn EventSink,
        _cancel: &CancelToken,
    ) -> Result<()> {
        self.source_language = Language::parse(&doc.language)
            .map(|l| l.name)
            .unwrap_or("the source language");
        self.glossary = announced_glossary(&self.target, doc, known, sink);
        Ok(())
    }

    /// The same jobs and checks as a document's paragraphs.
    fn translate_text(
        &mut self,
        text: &str,
        paragraph_id: Option<&str>,
        stage: Stage,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<TranslatedText> {
        if text.trim().is_empty() {
            return Ok(TranslatedText::default());
        }
        let parallel = self.parallel;
        let mut jobs = DocumentJobs::new(self, stage, sink);
        let llm = &*self.llm;
        jobs.add(
            &|t| llm.count_tokens(t),
            paragraph_id.unwrap_or("text"),
            text,
            false,
        );
        let run = jobs.run(self.llm, parallel, cancel);
        self.glossary = std::mem::take(&mut jobs.glossary);
        self.words = std::mem::take(&mut jobs.words);
        self.explained = std::mem::take(&mut jobs.explained);
        run?;
        let settled = jobs.items.pop().and_then(|i| i.text).unwrap_or_default();
        Ok(TranslatedText {
            text: settled.text,
            problems: settled.warnings,
            logprob: settled.logprob,
        })
    }

    /// Translates the whole document with the glossary built so far, several paragraphs at a
    /// time ([`Self::parallel`]).
    fn translate_document(
        &mut self,
        doc: &Document,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<Translation> {
        let started = std::time::Instant::now();
        let total = doc.paragraphs.len() as u64;
        // Progress starts at paragraph 0 of n while the headings are translated, so a UI
        // never shows the previous stage's counts under "translating".
        sink.emit(Event::Progress {
            stage: Stage::Translating,
            done: 0,
            total,
            tokens: 0,
        });
        let parallel = self.parallel;
        let mut jobs = DocumentJobs::new(self, Stage::Translating, sink);
        // The article is read on its own: its first mentions are explained again.
        jobs.explained.clear();
        let llm = &*self.llm;
        let count_tokens = |t: &str| llm.count_tokens(t);
        jobs.add(&count_tokens, "title", &doc.title, false);
        if let Some(s) = &doc.subtitle {
            jobs.add(&count_tokens, "subtitle", s, false);
        }
        for p in &doc.paragraphs {
            jobs.add(&count_tokens, &p.id, &p.text, true);
        }
        let run = jobs.run(self.llm, parallel, cancel);
        self.glossary = std::mem::take(&mut jobs.glossary);
        self.words = std::mem::take(&mut jobs.words);
        run?;
        let mut texts = jobs
            .items
            .into_iter()
            .map(|i| (i.id, i.source, i.text.unwrap_or_default()));
        let (_, _, title) = texts.next().unwrap_or_default();
        let subtitle = if doc.subtitle.is_some() {
            texts.next().map(|(_, _, t)| t.text)
        } else {
            None
        };
        let paragraphs = texts
            .map(|(id, source, settled)| TranslatedParagraph {
                id,
                source,
                text: settled.text,
                warnings: warning_texts(&settled.warnings),
                problems: settled.warnings,
                untranslated: settled.untranslated,
                edited: false,
                confidence: settled.logprob.mean(),
            })
            .collect();
        Ok(Translation {
            language: self.output.code.to_string(),
            model: self.llm.info().name.clone(),
            title: title.text,
            subtitle,
            paragraphs,
            glossary: self.glossary.clone(),
            glossary_unapplied: Vec::new(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// A settled translation about to reach the reader.
pub(crate) struct FinishedText<'a> {
    pub id: &'a str,
    pub source: &'a str,
    /// The title or subtitle (no bracketed originals there).
    pub heading: bool,
    /// A body paragraph (warned about, streamed, learnt from) rather than a heading or a
    /// summary point.
    pub is_paragraph: bool,
    pub untranslated: bool,
}

impl FinishedText<'_> {
    /// The last steps both backends take (one policy): a person's original name in brackets
    /// at the first mention (`mentioned_earlier` says whether earlier text named them; a
    /// summary point's names count as explained for the points after it), renderings the model
    /// chose learnt from a paragraph for the ones after it, the Traditional conversion, and a
    /// paragraph's warnings and text streamed to `sink`. Returns the reader's text.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn present(
        &self,
        mut text: String,
        warnings: &[Problem],
        target: &Language,
        convert: Option<&Converter>,
        glossary: &mut Vec<GlossaryEntry>,
        explained: &mut Vec<String>,
        mentioned_earlier: &dyn Fn(&str) -> bool,
        sink: &mut dyn EventSink,
    ) -> String {
        if !self.untranslated && !self.heading {
            text = bracket_originals(glossary, self.source, &text, |name| {
                explained.iter().any(|n| n == name) || mentioned_earlier(name)
            });
            if !self.is_paragraph {
                // A text translated on its own (a summary point): later points are told.
                let named: Vec<String> = glossary
                    .iter()
                    .filter(|g| {
                        g.origin == TermOrigin::Rendered && contains_term(self.source, &g.source)
                    })
                    .map(|g| g.source.clone())
                    .collect();
                explained.extend(named);
            }
        }
        if self.is_paragraph {
            for w in warnings {
                sink.emit(Event::Warning {
                    paragraph_id: Some(self.id.to_string()),
                    message: w.to_string(),
                });
            }
            if target.is_cjk() && !self.untranslated {
                let learned = learn_renderings(self.source, &text, glossary);
                glossary.extend(learned);
            }
        }
        let text = match (convert, self.untranslated) {
            (Some(c), false) => c.convert(&text),
            _ => text,
        };
        if self.is_paragraph {
            sink.emit(Event::ParagraphDone {
                paragraph_id: self.id.to_string(),
                text: text.clone(),
            });
        }
        text
    }
}

/// What the reader gets of a dedicated translation model's output for `source`: the same
/// repairs, checks and settling as an LLM's first attempt (one policy for both backends;
/// there is no retry, as the model takes no instructions). Returns the text (with a note of
/// the source amounts it lost), its warnings, and whether it was left in the original.
pub(crate) fn settle_machine_output(
    target: &Language,
    glossary: &[GlossaryEntry],
    source: &str,
    output: &str,
) -> (String, Vec<Problem>, bool) {
    let attempt = Attempt::check(target, glossary, source, output, FinishReason::Stop);
    let mut settled = settle(target, source, attempt);
    settled.text.push_str(&settled.note);
    (settled.text, settled.warnings, settled.untranslated)
}

/// The warnings as the reader sees them.
pub fn warning_texts(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

/// Who translates: an instruct LLM (prompts, checks, retries: [`Translator`]) or a dedicated
/// translation model (sentences in, sentences out, the same checks:
/// [`crate::mt::document::MachineTranslation`]). The pipeline talks to this.
pub trait DocumentTranslator {
    /// The language the reader asked for.
    fn output(&self) -> Language;

    /// The model that translates, as the window and exports name it.
    fn model_name(&self) -> String;

    /// Collects the terminology entries this document uses — the reader's own (`user`) first,
    /// then the built-in ones — so every paragraph (and the summary) renders them the same way.
    fn build_glossary(
        &mut self,
        doc: &Document,
        known: &KnownTerms,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<()>;

    /// Translates one text (a summary, say), streaming it to `sink` under `paragraph_id`.
    /// Returns the translation, the problems left in it (none when it passed every check) and
    /// the model's confidence; a part the model would not translate comes back in the
    /// original, with [`Problem::NotTranslated`].
    fn translate_text(
        &mut self,
        text: &str,
        paragraph_id: Option<&str>,
        stage: Stage,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<TranslatedText>;

    /// Translates the title, subtitle and every paragraph with the glossary built so far.
    fn translate_document(
        &mut self,
        doc: &Document,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<Translation>;
}

/// The terminology entries `doc` uses for `target`, reported as the glossary stage.
pub(crate) fn announced_glossary(
    target: &Language,
    doc: &Document,
    known: &KnownTerms,
    sink: &mut dyn EventSink,
) -> Vec<GlossaryEntry> {
    let glossary = document_glossary(target, doc, known);
    sink.emit(Event::Progress {
        stage: Stage::Glossary,
        done: 1,
        total: 1,
        tokens: 0,
    });
    glossary
}

/// How many paragraphs are translated at once by default. Decoding reads every weight once per
/// step whatever the batch, so eight paragraphs cost little more per step than one (see
/// BENCHMARKS.md); `PRECIS_BATCH` overrides it (1 translates one paragraph at a time).
pub const DEFAULT_PARALLEL: usize = 8;

/// Paragraphs decoded at once: `PRECIS_BATCH`, else [`DEFAULT_PARALLEL`].
pub fn parallel_from_env() -> usize {
    std::env::var("PRECIS_BATCH")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_PARALLEL)
}
