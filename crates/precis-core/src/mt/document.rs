//! A whole article through a dedicated translation model: every sentence in length-sorted
//! batches, paragraphs put back together and given the translator's checks and repairs
//! ([`crate::translate::settle_machine_output`]), streamed to the window as they complete.

use std::time::Instant;

use super::MachineTranslator;
use crate::document::{sentences::split_sentences, Document};
use crate::lang::Language;
use crate::names::bracket_originals;
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::script::Converter;
use crate::translate::{
    contains_term, document_glossary, has_words, settle_machine_output, GlossaryEntry,
    TranslatedParagraph, Translation,
};
use crate::{Error, Result};

/// Sentences sent to the model at once: enough for full batches, few enough that the window
/// sees paragraphs arrive as they are done.
const SENTENCES_PER_ROUND: usize = 32;

pub struct MachineTranslation<'a> {
    pub mt: &'a mut dyn MachineTranslator,
    /// The language the reader asked for.
    pub output: Language,
    /// The language the model writes (Simplified Chinese for a Traditional `output`,
    /// converted after the checks, as for an LLM).
    target: Language,
    convert: Option<Converter>,
    pub glossary: Vec<GlossaryEntry>,
}

/// One text to translate: its id, source, and sentences.
struct Piece {
    id: String,
    source: String,
    sentences: Vec<String>,
    /// A body paragraph (streamed, warned about, counted in progress) rather than a heading
    /// or a summary.
    is_paragraph: bool,
}

impl<'a> MachineTranslation<'a> {
    /// Refuses a model known to write another language than `output`.
    pub fn new(mt: &'a mut dyn MachineTranslator, output: Language) -> Result<Self> {
        let (target, convert) = crate::script::written_via(&output).unwrap_or((output, None));
        if !mt.writes(&target) {
            let info = mt.info();
            return Err(Error::EngineUnavailable {
                engine: "mt".into(),
                reason: format!(
                    "{} translates into {}, not {}; choose a translation model for {} or translate with the LLM",
                    info.name,
                    info.target_language.as_deref().unwrap_or("another language"),
                    output.name,
                    output.name
                ),
            });
        }
        Ok(Self {
            mt,
            output,
            target,
            convert,
            glossary: Vec::new(),
        })
    }

    pub fn model_name(&self) -> String {
        self.mt.info().name.clone()
    }

    pub fn build_glossary(&mut self, doc: &Document, sink: &mut dyn EventSink) {
        self.glossary = document_glossary(&self.target, doc);
        sink.emit(Event::Progress {
            stage: Stage::Glossary,
            done: 1,
            total: 1,
            tokens: 0,
        });
    }

    /// Translates one text (a summary), with the same checks as a paragraph.
    pub fn translate_text(
        &mut self,
        text: &str,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<(String, Vec<String>)> {
        if text.trim().is_empty() {
            return Ok((String::new(), Vec::new()));
        }
        let piece = Piece {
            id: "summary".into(),
            source: text.to_string(),
            sentences: split_sentences(text),
            is_paragraph: false,
        };
        let mut out = self.translate_pieces(&[piece], Stage::TranslatingSummary, sink, cancel)?;
        let p = out.pop().unwrap_or_else(|| TranslatedParagraph {
            id: "summary".into(),
            source: text.to_string(),
            text: String::new(),
            warnings: Vec::new(),
            untranslated: false,
        });
        Ok((p.text, p.warnings))
    }

    pub fn translate_document(
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
        }));
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
            seconds: started.elapsed().as_secs_f64(),
        })
    }

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
        let mut out = Vec::with_capacity(pieces.len());
        let mut start = 0;
        while start < pieces.len() {
            cancel.check()?;
            let mut end = start;
            let mut count = 0;
            while end < pieces.len()
                && (end == start || count + pieces[end].sentences.len() <= SENTENCES_PER_ROUND)
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
                let (mut text, warnings, untranslated) = if has_words(&piece.source) {
                    settle_machine_output(&self.target, &self.glossary, &piece.source, &output)
                } else {
                    (piece.source.trim().to_string(), Vec::new(), false)
                };
                if !untranslated && piece.is_paragraph {
                    // A name's original is given in brackets at its first mention.
                    let earlier = &pieces[..start + k];
                    text = bracket_originals(&self.glossary, &piece.source, &text, |name| {
                        earlier
                            .iter()
                            .any(|e| e.is_paragraph && contains_term(&e.source, name))
                    });
                }
                if let (Some(c), false) = (&self.convert, untranslated) {
                    text = c.convert(&text);
                }
                if piece.is_paragraph {
                    for w in &warnings {
                        sink.emit(Event::Warning {
                            message: format!("{}: {w}", piece.id),
                        });
                    }
                    sink.emit(Event::ParagraphDone {
                        paragraph_id: piece.id.clone(),
                        text: text.clone(),
                    });
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
                    warnings,
                    untranslated,
                });
            }
            start = end;
        }
        Ok(out)
    }
}
