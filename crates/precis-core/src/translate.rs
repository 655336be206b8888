//! Paragraph-by-paragraph translation with a local LLM.
//!
//! Faithfulness measures, in order:
//! 1. a name glossary built once per article (one short generation), so every paragraph uses
//!    the same rendering of a name;
//! 2. amounts pre-rendered by code for CJK targets ("$45 million" → 4500万美元) and given to the
//!    model as required renderings;
//! 3. a check after each paragraph that every amount survived, with one stricter retry, and a
//!    warning on the paragraph if it still did not.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
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

const SENTENCE_STARTERS: &[&str] = &[
    "The", "A", "An", "In", "On", "At", "As", "But", "And", "For", "From", "With", "By", "After", "Before",
    "When", "While", "If", "This", "That", "These", "Those", "Their", "His", "Her", "Its", "Our",
];

/// Proper-name candidates: runs of capitalised words that occur somewhere other than at the
/// start of a sentence, most frequent first.
pub fn name_candidates(doc: &Document, limit: usize) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"\b[A-Z][\p{L}’'\-]+(?:\s(?:(?:al|de|bin|van|von|der|da)[\s\-])?[A-Z][\p{L}’'\-]+)*").expect("valid regex")
    });
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for p in &doc.paragraphs {
        for s in &p.sentences {
            for m in re.find_iter(&s.text) {
                let raw = m.as_str();
                let raw = raw.strip_suffix("’s").or_else(|| raw.strip_suffix("'s")).unwrap_or(raw);
                let mut start = m.start();
                let mut name = raw.trim_end_matches(['’', '\'', '-']);
                // "In Aleppo" at a sentence start: the capital on "In" is grammar, not a name.
                if start == 0 {
                    if let Some((first, rest)) = name.split_once(' ') {
                        if SENTENCE_STARTERS.contains(&first) {
                            name = rest;
                            start = first.len() + 1;
                        }
                    }
                }
                if name.chars().count() < 3 || name.chars().all(|c| c.is_uppercase() || !c.is_alphabetic()) {
                    continue;
                }
                let entry = counts.entry(name.to_string()).or_default();
                entry.0 += 1;
                if start > 0 {
                    entry.1 += 1;
                }
            }
        }
    }
    let mut names: Vec<(String, usize)> = counts
        .into_iter()
        .filter(|(_, (_, mid))| *mid > 0)
        .map(|(n, (total, _))| (n, total))
        .collect();
    names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    names.into_iter().take(limit).map(|(n, _)| n).collect()
}

fn translator_system(target: &Language, glossary: &[GlossaryEntry], amounts: &[(String, String)], strict: bool) -> String {
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
        s.push_str("\nA previous attempt changed an amount. Copy each amount exactly as listed above.");
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
        Self { llm, target, glossary: Vec::new() }
    }

    /// Asks the model once for renderings of the article's names.
    pub fn build_glossary(&mut self, doc: &Document, sink: &mut dyn EventSink, cancel: &CancelToken) -> Result<()> {
        let names = name_candidates(doc, 12);
        if names.is_empty() || self.target.is_english() {
            return Ok(());
        }
        sink.emit(Event::Progress { stage: Stage::Glossary, done: 0, total: 1, tokens: 0 });
        let messages = [
            Message::system(format!(
                "You translate proper names for a news glossary into {}. For each English name, give the standard rendering used by news media in {}. Answer with one line per name in the form: English = translation",
                self.target.name, self.target.name
            )),
            Message::user(names.join("\n")),
        ];
        let params = GenerationParams { max_new_tokens: 24 * names.len() + 16, ..Default::default() };
        let gen = self.llm.generate(&messages, &params, &mut |_t| {}, cancel)?;
        self.glossary = parse_glossary(&gen.text, &names, &self.target);
        sink.emit(Event::Progress { stage: Stage::Glossary, done: 1, total: 1, tokens: gen.generated_tokens as u64 });
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
            numbers::find_amounts(text).iter().map(|a| (a.text.clone(), numbers::render_cjk(a, &self.target))).collect()
        } else {
            Vec::new()
        };
        let glossary: Vec<GlossaryEntry> = self.glossary.iter().filter(|g| text.contains(&g.source)).cloned().collect();
        let source_tokens = self.llm.count_tokens(text);
        let params = GenerationParams { max_new_tokens: source_tokens * 3 + 32, ..Default::default() };
        let mut attempt = |strict: bool, sink: &mut dyn EventSink| -> Result<String> {
            let messages = [Message::system(translator_system(&self.target, &glossary, &amounts, strict)), Message::user(text)];
            let mut on_text = |piece: &str| {
                sink.emit(Event::Token { stage, paragraph_id: paragraph_id.map(str::to_string), text: piece.to_string() })
            };
            Ok(clean_output(&self.llm.generate(&messages, &params, &mut on_text, cancel)?.text))
        };
        let first = attempt(false, sink)?;
        let missing = numbers::missing_amounts(text, &first);
        if missing.is_empty() || !self.target.is_cjk() {
            return Ok((first, Vec::new()));
        }
        let second = attempt(true, sink)?;
        let still = numbers::missing_amounts(text, &second);
        let (best, missing) = if still.len() <= missing.len() { (second, still) } else { (first, missing) };
        let warnings = missing
            .iter()
            .map(|a| format!("the amount \"{}\" may not have been translated exactly", a.text))
            .collect();
        Ok((best, warnings))
    }
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
    pub fn translate_document(&mut self, doc: &Document, sink: &mut dyn EventSink, cancel: &CancelToken) -> Result<Translation> {
        let started = std::time::Instant::now();
        let total = doc.paragraphs.len() as u64;
        let (title, _) = self.translate_text(&doc.title, Some("title"), Stage::Translating, sink, cancel)?;
        let subtitle = match &doc.subtitle {
            Some(s) => Some(self.translate_text(s, Some("subtitle"), Stage::Translating, sink, cancel)?.0),
            None => None,
        };
        let mut paragraphs = Vec::with_capacity(doc.paragraphs.len());
        for (i, p) in doc.paragraphs.iter().enumerate() {
            sink.emit(Event::Progress { stage: Stage::Translating, done: i as u64, total, tokens: 0 });
            let (text, warnings) = self.translate_text(&p.text, Some(&p.id), Stage::Translating, sink, cancel)?;
            for w in &warnings {
                sink.emit(Event::Warning { message: format!("{}: {w}", p.id) });
            }
            sink.emit(Event::ParagraphDone { paragraph_id: p.id.clone(), text: text.clone() });
            paragraphs.push(TranslatedParagraph { id: p.id.clone(), source: p.text.clone(), text, warnings });
        }
        sink.emit(Event::Progress { stage: Stage::Translating, done: total, total, tokens: 0 });
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

/// Keeps only lines of the form `Name = rendering` for names we asked about, with a rendering
/// that is plausible for the target script.
fn parse_glossary(text: &str, names: &[String], target: &Language) -> Vec<GlossaryEntry> {
    let mut out: Vec<GlossaryEntry> = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches(['-', '*', '•', ' ']);
        let Some((src, tgt)) = line.split_once(['=', ':', '：']) else { continue };
        let src = src.trim();
        let tgt = tgt.trim().trim_matches(['"', '“', '”', '。', '.']).trim();
        let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(src)) else { continue };
        let plausible = !tgt.is_empty()
            && tgt.chars().count() <= 24
            && (!target.is_cjk() || tgt.chars().any(|c| c as u32 >= 0x3000))
            && tgt != name;
        if plausible && !out.iter().any(|g| &g.source == name) {
            out.push(GlossaryEntry { source: name.clone(), target: tgt.to_string() });
        }
    }
    out
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
    fn names_come_from_mid_sentence_capitals() {
        let doc = Document::from_paragraphs(
            "t",
            "t.txt",
            vec![
                "The talks in Geneva were long. John Kerry met Sergei Lavrov in Geneva.".into(),
                "Officials said Aleppo was surrounded. In Aleppo, aid ran out.".into(),
            ],
        );
        let names = name_candidates(&doc, 10);
        assert!(names.contains(&"Geneva".to_string()), "{names:?}");
        assert!(names.contains(&"Sergei Lavrov".to_string()), "{names:?}");
        assert!(names.contains(&"Aleppo".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n == "The" || n == "In" || n == "Officials"), "{names:?}");
    }

    #[test]
    fn glossary_parsing_rejects_junk() {
        let zh = Language::parse("zh").unwrap();
        let names = vec!["Aleppo".to_string(), "Geneva".to_string(), "Kerry".to_string()];
        let g = parse_glossary("Aleppo = 阿勒颇\n- Geneva: 日内瓦\nKerry = Kerry\nParis = 巴黎\nnonsense", &names, &zh);
        assert_eq!(
            g,
            vec![
                GlossaryEntry { source: "Aleppo".into(), target: "阿勒颇".into() },
                GlossaryEntry { source: "Geneva".into(), target: "日内瓦".into() },
            ]
        );
    }

    #[test]
    fn strips_answer_wrappers() {
        assert_eq!(clean_output("Translation: 你好"), "你好");
        assert_eq!(clean_output("```\n你好\n```"), "你好");
    }
}
