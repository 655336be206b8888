//! Paragraph-by-paragraph translation with a local LLM.
//!
//! Faithfulness measures, in order:
//! 1. a built-in term base (countries, cities, organisations) whose entries found in the
//!    article are given to the model, so every paragraph uses the standard rendering;
//! 2. amounts pre-rendered by code for CJK targets ("$45 million" → 4500万美元) and given to the
//!    model as required renderings;
//! 3. a check after each paragraph that every amount survived and, for CJK targets, that the
//!    text was actually translated (not left in English); one stricter retry, and a warning on
//!    the paragraph if it still fails.

use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::lang::Language;
use crate::llm::chat::Message;
use crate::llm::{GenerationParams, LlmEngine};
use crate::numbers;
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::Result;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GlossaryEntry {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TranslatedParagraph {
    /// The source paragraph's id (1:1 mapping).
    pub id: String,
    pub source: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Translation {
    pub language: String,
    pub model: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub paragraphs: Vec<TranslatedParagraph>,
    pub glossary: Vec<GlossaryEntry>,
    pub seconds: f64,
}

const GAZETTEER_ZH_HANS: &str = include_str!("../data/gazetteer.en-zh-Hans.tsv");

/// The built-in terminology for `target`: standard renderings of countries, cities and
/// organisations. Small models do not know that Aleppo is 阿勒颇 or Geneva 日内瓦; a translation
/// desk's term base does. (Only Simplified Chinese has one so far.)
pub fn gazetteer(target: &Language) -> Vec<GlossaryEntry> {
    let table = match target.code {
        "zh-Hans" => GAZETTEER_ZH_HANS,
        _ => return Vec::new(),
    };
    table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(s, t)| GlossaryEntry {
            source: s.trim().to_string(),
            target: t.trim().to_string(),
        })
        .collect()
}

/// Whether `term` occurs in `text` as a whole word (or phrase).
fn contains_term(text: &str, term: &str) -> bool {
    text.match_indices(term).any(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

/// The glossary entries that occur in `text`, longest first.
pub fn terms_in<'g>(glossary: &'g [GlossaryEntry], text: &str) -> Vec<&'g GlossaryEntry> {
    let mut found: Vec<&GlossaryEntry> = glossary
        .iter()
        .filter(|g| contains_term(text, &g.source))
        .collect();
    found.sort_by_key(|g| std::cmp::Reverse(g.source.len()));
    found
}

fn translator_system(
    target: &Language,
    glossary: &[GlossaryEntry],
    amounts: &[(String, String)],
    strict: bool,
) -> String {
    let mut s = format!(
        "You are a professional news translator. Translate the user's text from English into {}. \
         Translate every sentence completely and faithfully; add nothing and omit nothing. \
         Keep names, numbers, dates and amounts exact. Output only the translation.",
        target.name
    );
    if !glossary.is_empty() {
        s.push_str("\nUse these renderings of names:");
        for g in glossary {
            s.push_str(&format!("\n{} = {}", g.source, g.target));
        }
    }
    if !amounts.is_empty() {
        s.push_str("\nWrite these amounts exactly like this:");
        for (src, tgt) in amounts {
            s.push_str(&format!("\n{src} = {tgt}"));
        }
    }
    if strict {
        s.push_str(&format!(
            "\nA previous attempt was rejected. Write everything in {}: leave no English words untranslated, \
             and copy each amount exactly as listed above.",
            target.name
        ));
    }
    s
}

pub struct Translator<'a> {
    pub llm: &'a mut LlmEngine,
    pub target: Language,
    pub glossary: Vec<GlossaryEntry>,
}

impl<'a> Translator<'a> {
    pub fn new(llm: &'a mut LlmEngine, target: Language) -> Self {
        Self {
            llm,
            target,
            glossary: Vec::new(),
        }
    }

    /// Collects the terminology entries this document uses, so every paragraph (and the
    /// summary) renders them the same way.
    pub fn build_glossary(
        &mut self,
        doc: &Document,
        sink: &mut dyn EventSink,
        _cancel: &CancelToken,
    ) -> Result<()> {
        let table = gazetteer(&self.target);
        let mut text = format!("{}\n{}\n", doc.title, doc.subtitle.as_deref().unwrap_or(""));
        text.push_str(&doc.body_text());
        self.glossary = terms_in(&table, &text).into_iter().cloned().collect();
        sink.emit(Event::Progress {
            stage: Stage::Glossary,
            done: 1,
            total: 1,
            tokens: 0,
        });
        Ok(())
    }

    /// Translates one piece of text, streaming it to `sink` under `paragraph_id`.
    pub fn translate_text(
        &mut self,
        text: &str,
        paragraph_id: Option<&str>,
        stage: Stage,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<(String, Vec<String>)> {
        if text.trim().is_empty() {
            return Ok((String::new(), Vec::new()));
        }
        let amounts: Vec<(String, String)> = if self.target.is_cjk() {
            numbers::find_amounts(text)
                .iter()
                .map(|a| (a.text.clone(), numbers::render_cjk(a, &self.target)))
                .collect()
        } else {
            Vec::new()
        };
        let glossary: Vec<GlossaryEntry> = terms_in(&self.glossary, text)
            .into_iter()
            .cloned()
            .collect();
        let source_tokens = self.llm.count_tokens(text);
        let params = GenerationParams {
            max_new_tokens: source_tokens * 3 + 32,
            ..Default::default()
        };
        let mut attempt = |strict: bool, sink: &mut dyn EventSink| -> Result<String> {
            let messages = [
                Message::system(translator_system(&self.target, &glossary, &amounts, strict)),
                Message::user(text),
            ];
            let mut on_text = |piece: &str| {
                sink.emit(Event::Token {
                    stage,
                    paragraph_id: paragraph_id.map(str::to_string),
                    text: piece.to_string(),
                })
            };
            Ok(clean_output(
                &self
                    .llm
                    .generate(&messages, &params, &mut on_text, cancel)?
                    .text,
            ))
        };
        let first = attempt(false, sink)?;
        let first_problems = problems(&self.target, text, &first);
        if first_problems.is_empty() {
            return Ok((first, Vec::new()));
        }
        let second = attempt(true, sink)?;
        let second_problems = problems(&self.target, text, &second);
        Ok(if second_problems.len() <= first_problems.len() {
            (second, second_problems)
        } else {
            (first, first_problems)
        })
    }
}

/// What is wrong with a translation, as user-facing warnings (empty when it passes).
fn problems(target: &Language, source: &str, translation: &str) -> Vec<String> {
    let mut out: Vec<String> = numbers::missing_amounts(source, translation)
        .iter()
        .filter(|_| target.is_cjk())
        .map(|a| {
            format!(
                "the amount \"{}\" may not have been translated exactly",
                a.text
            )
        })
        .collect();
    if translation.trim().is_empty() {
        out.push("the model returned no translation".into());
    } else if target.is_cjk() && latin_share(translation) > 0.25 {
        out.push("parts of the text were left untranslated".into());
    }
    out
}

/// The share of letters that are Latin script: high in a CJK translation means English was
/// copied through instead of translated.
pub fn latin_share(text: &str) -> f64 {
    let letters = text.chars().filter(|c| c.is_alphabetic());
    let (latin, total) = letters.fold((0usize, 0usize), |(l, t), c| {
        (l + usize::from(c.is_ascii_alphabetic()), t + 1)
    });
    // Latin letters count per word, CJK per character: compare like with like.
    let latin_words = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .count();
    let cjk = total - latin;
    if total == 0 {
        return 0.0;
    }
    latin_words as f64 / (latin_words + cjk).max(1) as f64
}

/// Translates title, subtitle and every paragraph, keeping paragraph ids 1:1.
pub fn translate_document(
    llm: &mut LlmEngine,
    doc: &Document,
    target: Language,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Translation> {
    let mut tr = Translator::new(llm, target);
    tr.build_glossary(doc, sink, cancel)?;
    tr.translate_document(doc, sink, cancel)
}

impl Translator<'_> {
    /// Translates the whole document with the glossary built so far.
    pub fn translate_document(
        &mut self,
        doc: &Document,
        sink: &mut dyn EventSink,
        cancel: &CancelToken,
    ) -> Result<Translation> {
        let started = std::time::Instant::now();
        let total = doc.paragraphs.len() as u64;
        let (title, _) =
            self.translate_text(&doc.title, Some("title"), Stage::Translating, sink, cancel)?;
        let subtitle = match &doc.subtitle {
            Some(s) => Some(
                self.translate_text(s, Some("subtitle"), Stage::Translating, sink, cancel)?
                    .0,
            ),
            None => None,
        };
        let mut paragraphs = Vec::with_capacity(doc.paragraphs.len());
        for (i, p) in doc.paragraphs.iter().enumerate() {
            sink.emit(Event::Progress {
                stage: Stage::Translating,
                done: i as u64,
                total,
                tokens: 0,
            });
            let (text, warnings) =
                self.translate_text(&p.text, Some(&p.id), Stage::Translating, sink, cancel)?;
            for w in &warnings {
                sink.emit(Event::Warning {
                    message: format!("{}: {w}", p.id),
                });
            }
            sink.emit(Event::ParagraphDone {
                paragraph_id: p.id.clone(),
                text: text.clone(),
            });
            paragraphs.push(TranslatedParagraph {
                id: p.id.clone(),
                source: p.text.clone(),
                text,
                warnings,
            });
        }
        sink.emit(Event::Progress {
            stage: Stage::Translating,
            done: total,
            total,
            tokens: 0,
        });
        Ok(Translation {
            language: self.target.code.to_string(),
            model: self.llm.info().name.clone(),
            title,
            subtitle,
            paragraphs,
            glossary: self.glossary.clone(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// Removes wrappers small models add around an answer.
pub fn clean_output(text: &str) -> String {
    let mut t = text.trim();
    for prefix in ["Translation:", "翻译：", "翻译:", "译文：", "Summary:"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.trim_start();
        }
    }
    if t.starts_with("```") && t.ends_with("```") && t.len() >= 6 {
        t = t.trim_start_matches("```").trim_end_matches("```").trim();
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gazetteer_terms_match_whole_words_longest_first() {
        let zh = Language::parse("zh").unwrap();
        let table = gazetteer(&zh);
        assert!(table.len() > 200);
        let text = "Talks on the shore of Lake Geneva; Russian officials flew to Genevan hotels in the US.";
        let found: Vec<&str> = terms_in(&table, text)
            .iter()
            .map(|g| g.source.as_str())
            .collect();
        assert_eq!(found, ["Lake Geneva", "Geneva", "US"]);
        assert!(gazetteer(&Language::parse("fr").unwrap()).is_empty());
    }

    #[test]
    fn gazetteer_has_no_duplicate_or_empty_entries() {
        let table = gazetteer(&Language::parse("zh").unwrap());
        let mut seen = std::collections::HashSet::new();
        for g in &table {
            assert!(!g.source.is_empty() && !g.target.is_empty(), "{g:?}");
            assert!(seen.insert(g.source.clone()), "duplicate {}", g.source);
        }
    }

    #[test]
    fn strips_answer_wrappers() {
        assert_eq!(clean_output("Translation: 你好"), "你好");
        assert_eq!(clean_output("```\n你好\n```"), "你好");
    }
}
