//! A whole article through a dedicated translation model: every sentence in length-sorted
//! batches, paragraphs put back together and given the translator's checks and repairs
//! ([`crate::translate::settle_machine_output`]), streamed to the window as they complete.

use std::time::Instant;

use super::MachineTranslator;
use crate::document::{sentences::split_sentences, Document};
use crate::lang::Language;
use crate::llm::LogProb;
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::script::Converter;
use crate::translate::{
    announced_glossary, contains_term, has_words, settle_machine_output, warning_texts,
    DocumentTranslator, FinishedText, GlossaryEntry, KnownTerms, TranslatedParagraph,
    TranslatedText, Translation,
};
use crate::{Error, Result};

/// Sentences sent to the model at once, in the model's batches: two batches' worth, so
/// batches are full and sorted by length, and the window still sees paragraphs arrive.
const BATCHES_PER_ROUND: usize = 2;

pub struct MachineTranslation<'a> {
    pub mt: &'a mut dyn MachineTranslator,
    /// The language the reader asked for.
    pub output: Language,
    /// The language the model writes (Simplified Chinese for a Traditional `output`,
    /// converted after the checks, as for an LLM).
    target: Language,
    convert: Option<Converter>,
    pub glossary: Vec<GlossaryEntry>,
    /// People whose original name a summary point already gave in brackets.
    explained: Vec<String>,
}

/// One text to translate: its id, source, and sentences.
struct Piece {
    id: String,
    source: String,
    sentences: Vec<String>,
    /// A body paragraph (streamed, warned about, counted in progress) rather than a heading
    /// or a summary.
    is_paragraph: bool,
    /// The title or subtitle.
    heading: bool,
}

/// Whether `mt` can translate an article in `source` (ISO 639-1, `und` if unknown) into
/// `output`: a clear error naming the pair otherwise, before any work is done.
fn check_pair(mt: &dyn MachineTranslator, source: &str, output: &Language) -> Result<()> {
    let (target, _) = crate::script::written_via(output).unwrap_or((*output, None));
    let info = mt.info();
    let refuse = |what: String| {
        Err(Error::EngineUnavailable {
            engine: "mt".into(),
            reason: format!("{what}; choose another translation model or translate with the LLM"),
        })
    };
    if !mt.writes(&target) {
        return refuse(format!(
            "{} translates into {}, not {}",
            info.name,
            info.target_language
                .as_deref()
                .unwrap_or("another language"),
            output.name
        ));
    }
    if let Some(reads) = &info.source_language {
        if source != "und" && !reads.eq_ignore_ascii_case(source) && reads != "mul" {
            let name = Language::parse(source).map(|l| l.name).unwrap_or(source);
            return refuse(format!(
                "{} translates from {reads}, and this article is in {name}",
                info.name
            ));
        }
    }
    Ok(())
}

impl<'a> MachineTranslation<'a> {
    /// For articles in `source`; refuses a pair the model does not translate ([`check_pair`]).
    pub fn new(mt: &'a mut dyn MachineTranslator, source: &str, output: Language) -> Result<Self> {
        check_pair(mt, source, &output)?;
        let (target, convert) = crate::script::written_via(&output).unwrap_or((output, None));
        Ok(Self {
            mt,
            output,
            target,
            convert,
            glossary: Vec::new(),
            explained: Vec::new(),
        })
    }
}

impl DocumentTranslator for MachineTranslation<'_> {
    fn output(&self) -> Language {
        self.output
    }

    fn model_name(&self) -> String {
        self.mt.info().name.clone()
    }

    fn build_glossary(
        &mut self,
        doc: &Document,
        known: &KnownTerms,
        sink: &mut dyn EventSink,
        _cancel: &CancelToken,
    ) -> Result<()> {
        self.glossary = announced_glossary(&self.target, doc, known, sink);
        Ok(())
    }

    /// Translates one text (a summary point), with the same checks as a paragraph.
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
        let piece = Piece {
            id: paragraph_id.unwrap_or("text").to_string(),
            source: text.to_string(),
            sentences: split_sentences(text),
            is_paragraph: false,
            heading: false,
        };
        let mut out = self.translate_pieces(&[piece], stage, sink, cancel)?;
        let p = out.pop().unwrap_or_else(|| TranslatedParagraph {
            id: "summary".into(),
            source: text.to_string(),
            text: String::new(),
            warnings: Vec::new(),
            problems: Vec::new(),
            untranslated: false,
            edited: false,
            confidence: None,
        });
        // Marian's scores are not log-probabilities comparable with the LLM's: no confidence.
        Ok(TranslatedText {
            text: p.text,
            problems: p.problems,
            logprob: LogProb::default(),
        })
    }

    fn translate_document(
        &mut self,
        doc: &Document,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<Translation> {
        let started = Instant::now();
        let heading = |id: &str, text: &str| Piece {
            id: id.into(),
            source: text.to_string(),
            sentences: vec![text.to_string()],
            is_paragraph: false,
            heading: true,
        };
        let mut pieces = vec![heading("title", &doc.title)];
        if let Some(s) = &doc.subtitle {
            pieces.push(heading("subtitle", s));
        }
        pieces.extend(doc.paragraphs.iter().map(|p| Piece {
            id: p.id.clone(),
            source: p.text.clone(),
            sentences: if p.sentences.is_empty() {
                split_sentences(&p.text)
            } else {
                p.sentences.iter().map(|s| s.text.clone()).collect()
            },
            is_paragraph: true,
            heading: false,
        }));
        // The article is read on its own: its first mentions are explained again.
        self.explained.clear();
        let mut done = self
            .translate_pieces(&pieces, Stage::Translating, sink, cancel)?
            .into_iter();
        let title = done.next().map(|t| t.text).unwrap_or_default();
        let subtitle = if doc.subtitle.is_some() {
            done.next().map(|t| t.text)
        } else {
            None
        };
        Ok(Translation {
            language: self.output.code.to_string(),
            model: self.model_name(),
            title,
            subtitle,
            paragraphs: done.collect(),
            glossary: self.glossary.clone(),
            glossary_unapplied: Vec::new(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

impl MachineTranslation<'_> {
    /// Translates pieces in order, a round of whole pieces at a time.
    fn translate_pieces(
        &mut self,
        pieces: &[Piece],
        stage: Stage,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<Vec<TranslatedParagraph>> {
        let paragraphs_total = pieces.iter().filter(|p| p.is_paragraph).count() as u64;
        let mut paragraphs_done = 0;
        sink.emit(Event::Progress {
            stage,
            done: 0,
            total: paragraphs_total.max(1),
            tokens: 0,
        });
        let joiner = if self.target.is_cjk() { "" } else { " " };
        let per_round = self.mt.batch().max(1) * BATCHES_PER_ROUND;
        let mut out = Vec::with_capacity(pieces.len());
        let mut start = 0;
        while start < pieces.len() {
            cancel.check()?;
            let mut end = start;
            let mut count = 0;
            while end < pieces.len()
                && (end == start || count + pieces[end].sentences.len() <= per_round)
            {
                count += pieces[end].sentences.len();
                end += 1;
            }
            let round: Vec<String> = pieces[start..end]
                .iter()
                .flat_map(|p| p.sentences.iter().cloned())
                .collect();
            let translated = self
                .mt
                .translate(&round, &self.target, &mut |_| {}, cancel)?;
            let mut sentences = translated.into_iter();
            for (k, piece) in pieces[start..end].iter().enumerate() {
                let text: Vec<String> = sentences.by_ref().take(piece.sentences.len()).collect();
                let output = text.join(joiner);
                // Text without words (figures, symbols) is copied, as the LLM path does.
                let (text, warnings, untranslated) = if has_words(&piece.source) {
                    settle_machine_output(&self.target, &self.glossary, &piece.source, &output)
                } else {
                    (piece.source.trim().to_string(), Vec::new(), false)
                };
                let earlier = &pieces[..start + k];
                let finished = FinishedText {
                    id: &piece.id,
                    source: &piece.source,
                    heading: piece.heading,
                    is_paragraph: piece.is_paragraph,
                    untranslated,
                };
                let text = finished.present(
                    text,
                    &warnings,
                    &self.target,
                    self.convert.as_ref(),
                    &mut self.glossary,
                    &mut self.explained,
                    &|name| {
                        earlier
                            .iter()
                            .any(|e| e.is_paragraph && contains_term(&e.source, name))
                    },
                    sink,
                );
                if piece.is_paragraph {
                    paragraphs_done += 1;
                    sink.emit(Event::Progress {
                        stage,
                        done: paragraphs_done,
                        total: paragraphs_total,
                        tokens: 0,
                    });
                }
                out.push(TranslatedParagraph {
                    id: piece.id.clone(),
                    source: piece.source.clone(),
                    text,
                    warnings: warning_texts(&warnings),
                    problems: warnings,
                    untranslated,
                    edited: false,
                    confidence: None,
                });
            }
            start = end;
        }
        Ok(out)
    }
}
