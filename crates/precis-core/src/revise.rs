//! The reader's corrections to a finished translation: their own text for a paragraph, or
//! paragraphs translated again, sentence by sentence.
//!
//! A small model that drops, garbles or half-translates a long paragraph usually gets each of
//! its sentences right on its own, with the article's glossary; a paragraph the reader
//! rewrote is theirs and is kept as written.

use crate::document::Document;
use crate::llm::LogProb;
use crate::mt::document::MachineTranslation;
use crate::pipeline::{with_unapplied_glossary, JobModels, Outcome, Request};
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::translate::{
    warning_texts, DocumentTranslator, Problem, TranslatedParagraph, Translation, Translator,
    LOW_CONFIDENCE,
};
use crate::{Error, Result};

/// Puts the reader's `text` in place of paragraph `id`'s translation, marked as edited (its
/// problems go: the reader vouches for it).
pub fn edit_paragraph(outcome: &mut Outcome, id: &str, text: &str) -> Result<()> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Revision(
            "the new text is empty; to get the model's translation back, retranslate the paragraph"
                .into(),
        ));
    }
    let p = paragraph_mut(outcome, id)?;
    p.text = text.to_string();
    p.edited = true;
    p.untranslated = false;
    p.warnings.clear();
    p.problems.clear();
    p.confidence = None;
    Ok(())
}

/// The paragraphs a "retranslate the doubtful ones" means: those the reader has not rewritten
/// with problems or a model that was unsure of them ([`LOW_CONFIDENCE`]).
pub fn doubtful_paragraphs(translation: &Translation) -> Vec<String> {
    translation
        .paragraphs
        .iter()
        .filter(|p| !p.edited && is_doubtful(p))
        .map(|p| p.id.clone())
        .collect()
}

fn is_doubtful(p: &TranslatedParagraph) -> bool {
    !p.problems.is_empty()
        || !p.warnings.is_empty()
        || p.confidence.is_some_and(|c| c < LOW_CONFIDENCE)
}

/// Translates paragraphs `ids` of `outcome` again, each sentence on its own, with the
/// article's glossary (the reader's and the remembered names in `req.glossary`), by the
/// translation model of `models` or else its LLM. Progress counts sentences; a cancel keeps
/// the paragraphs finished so far.
pub fn retranslate_paragraphs(
    outcome: &mut Outcome,
    ids: &[String],
    req: &Request,
    models: JobModels,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<()> {
    for id in ids {
        paragraph_mut(outcome, id)?;
    }
    let doc = &outcome.document;
    let mut tr = translator(models, doc, req)?;
    tr.build_glossary(doc, &req.glossary, sink, cancel)?;
    let total = ids
        .iter()
        .map(|id| sentences_of(doc, id).len() as u64)
        .sum();
    let mut done = 0;
    let mut revised = Vec::with_capacity(ids.len());
    for id in ids {
        let mut texts = Vec::new();
        let mut problems = Vec::new();
        let mut logprob = LogProb::default();
        let sentences = sentences_of(doc, id);
        for sentence in &sentences {
            let sentence =
                tr.translate_text(sentence, Some(id), Stage::Translating, sink, cancel)?;
            texts.push(sentence.text);
            problems.extend(sentence.problems);
            logprob = logprob.combined(sentence.logprob);
            done += 1;
            sink.emit(Event::Progress {
                stage: Stage::Translating,
                done,
                total,
                tokens: 0,
            });
        }
        let untranslated = problems
            .iter()
            .filter(|p| **p == Problem::NotTranslated)
            .count()
            == sentences.len();
        let joiner = if tr.output().is_cjk() { "" } else { " " };
        let confidence = if untranslated { None } else { logprob.mean() };
        revised.push((id, texts.join(joiner), problems, untranslated, confidence));
    }
    drop(tr);
    for (id, text, problems, untranslated, confidence) in revised {
        let p = paragraph_mut(outcome, id)?;
        p.text = text;
        p.warnings = warning_texts(&problems);
        p.problems = problems;
        p.untranslated = untranslated;
        p.edited = false;
        p.confidence = confidence;
        sink.emit(Event::ParagraphDone {
            paragraph_id: id.clone(),
            text: p.text.clone(),
        });
    }
    if let Some(mut t) = outcome.translation.take() {
        t.glossary_unapplied.clear();
        outcome.translation = Some(with_unapplied_glossary(t, sink));
    }
    Ok(())
}

/// The paragraph's sentences as the reader split it (the whole text when it has none).
fn sentences_of<'d>(doc: &'d Document, id: &str) -> Vec<&'d str> {
    let Some(p) = doc.paragraphs.iter().find(|p| p.id == id) else {
        return Vec::new();
    };
    if p.sentences.is_empty() {
        return vec![p.text.as_str()];
    }
    p.sentences.iter().map(|s| s.text.as_str()).collect()
}

fn paragraph_mut<'o>(outcome: &'o mut Outcome, id: &str) -> Result<&'o mut TranslatedParagraph> {
    let t = outcome.translation.as_mut().ok_or_else(|| {
        Error::Revision("this article has no translation; translate it first".into())
    })?;
    t.paragraphs
        .iter_mut()
        .find(|p| p.id == id)
        .ok_or_else(|| Error::Revision(format!("the translation has no paragraph {id}")))
}

fn translator<'a>(
    models: JobModels<'a>,
    doc: &Document,
    req: &Request,
) -> Result<Box<dyn DocumentTranslator + 'a>> {
    match (models.translation, models.llm) {
        (Some(mt), _) => Ok(Box::new(MachineTranslation::new(
            mt,
            &doc.language,
            req.target,
        )?)),
        (None, Some(llm)) => Ok(Box::new(Translator::new(llm, req.target))),
        (None, None) => Err(Error::EngineUnavailable {
            engine: "llm".into(),
            reason: "translating needs a model; download one in the Models panel or run `precis models fetch qwen2.5-1.5b-instruct`".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::Message;
    use crate::pipeline::{self, ProcessOptions};
    use crate::translate::tests::{ScriptedGenerator, SCRIPTED_LOGPROB};
    use crate::translate::{KnownTerms, UserTerm};

    const ARTICLE: &str = "Talks in Geneva\n\nThe ministers met in Geneva on Monday. They agreed on aid worth $45 million.\n\nNothing else happened at the meeting, officials said afterwards in a statement.";

    /// The article translated once by a model that drops the second paragraph's amount and
    /// leaves an English word in the first.
    fn translated() -> Outcome {
        let doc = crate::document::parse_bytes(ARTICLE.as_bytes(), "a.txt", None).unwrap();
        let mut model = ScriptedGenerator::new(|messages: &[Message]| {
            let prompt = messages.last().unwrap().content.as_str();
            match prompt {
                p if p.contains("The ministers met") => {
                    "部长们周一在日内瓦会面。他们同意提供援助。"
                }
                p if p.contains("Nothing else") => "没有发生其他事情。",
                _ => "日内瓦会谈",
            }
            .to_string()
        });
        let req = Request {
            summary: None,
            translate: true,
            ..ProcessOptions::for_target("zh-Hans").request().unwrap()
        };
        pipeline::run(
            doc,
            &req,
            Some(&mut model),
            &mut |_: Event| {},
            &CancelToken::new(),
        )
        .unwrap()
    }

    #[test]
    fn an_edit_replaces_the_text_marks_it_and_clears_its_problems() {
        let mut outcome = translated();
        let t = outcome.translation.as_ref().unwrap();
        assert_eq!(doubtful_paragraphs(t), ["p1"], "{:?}", t.paragraphs);
        // The model's confidence reaches the result; below the cut a clean paragraph is
        // doubtful too.
        assert_eq!(t.paragraphs[1].confidence, Some(SCRIPTED_LOGPROB));
        let mut unsure = t.clone();
        unsure.paragraphs[1].confidence = Some(LOW_CONFIDENCE - 0.5);
        assert_eq!(doubtful_paragraphs(&unsure), ["p1", "p2"]);
        edit_paragraph(
            &mut outcome,
            "p1",
            "  部长们周一在日内瓦会面，同意提供4500万美元援助。 ",
        )
        .unwrap();
        let p = &outcome.translation.as_ref().unwrap().paragraphs[0];
        assert_eq!(p.text, "部长们周一在日内瓦会面，同意提供4500万美元援助。");
        assert!(p.edited && p.problems.is_empty() && p.warnings.is_empty());
        assert_eq!(p.confidence, None, "the reader's text is not the model's");
        assert!(doubtful_paragraphs(outcome.translation.as_ref().unwrap()).is_empty());
        let e = edit_paragraph(&mut outcome, "p1", " \n").unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::RevisionInvalid);
        let e = edit_paragraph(&mut outcome, "p9", "x").unwrap_err();
        assert!(e.to_string().contains("no paragraph p9"), "{e}");
    }

    /// Retranslation asks for each sentence on its own, with the reader's glossary, and the
    /// paragraph's problems are those of the new text.
    #[test]
    fn a_doubtful_paragraph_is_retranslated_sentence_by_sentence() {
        let mut outcome = translated();
        let mut asked = Vec::new();
        let mut model = ScriptedGenerator::new(|messages: &[Message]| {
            let prompt = messages.last().unwrap().content.clone();
            let all: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
            asked.push(all.join("\n"));
            match prompt.as_str() {
                p if p.contains("They agreed") => "他们同意提供价值4500万美元的援助。",
                _ => "部长们周一在日内瓦市会面。",
            }
            .to_string()
        });
        let req = Request {
            glossary: KnownTerms::user(vec![UserTerm::new("Geneva", "日内瓦市")]),
            ..ProcessOptions::for_target("zh-Hans").request().unwrap()
        };
        let mut events = Vec::new();
        retranslate_paragraphs(
            &mut outcome,
            &["p1".to_string()],
            &req,
            JobModels {
                llm: Some(&mut model),
                translation: None,
            },
            &mut |e: Event| events.push(e),
            &CancelToken::new(),
        )
        .unwrap();
        drop(model);
        let p = &outcome.translation.as_ref().unwrap().paragraphs[0];
        assert_eq!(
            p.text,
            "部长们周一在日内瓦市会面。他们同意提供价值4500万美元的援助。"
        );
        assert!(p.problems.is_empty() && !p.edited, "{:?}", p.problems);
        assert_eq!(p.confidence, Some(SCRIPTED_LOGPROB));
        assert_eq!(asked.len(), 2, "one request per sentence");
        assert!(
            asked[0].contains("Geneva") && asked[0].contains("日内瓦市"),
            "the glossary is in the prompt: {}",
            asked[0]
        );
        assert!(!asked[0].contains("They agreed") && asked[1].contains("They agreed"));
        assert!(events.iter().any(|e| matches!(
            e,
            Event::Progress {
                stage: Stage::Translating,
                done: 2,
                total: 2,
                ..
            }
        )));
        assert!(events.iter().any(
            |e| matches!(e, Event::ParagraphDone { paragraph_id, .. } if paragraph_id == "p1")
        ));
        // The other paragraphs are as they were.
        assert_eq!(
            outcome.translation.as_ref().unwrap().paragraphs[1].text,
            "没有发生其他事情。"
        );
    }

    #[test]
    fn retranslating_without_a_translation_or_a_model_is_a_clear_error() {
        let mut outcome = translated();
        let req = ProcessOptions::for_target("zh-Hans").request().unwrap();
        let none = || JobModels {
            llm: None,
            translation: None,
        };
        let e = retranslate_paragraphs(
            &mut outcome,
            &["p1".into()],
            &req,
            none(),
            &mut |_: Event| {},
            &CancelToken::new(),
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::EngineUnavailable);
        let e = retranslate_paragraphs(
            &mut outcome,
            &["p7".into()],
            &req,
            none(),
            &mut |_: Event| {},
            &CancelToken::new(),
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::RevisionInvalid);
        outcome.translation = None;
        let e = edit_paragraph(&mut outcome, "p1", "x").unwrap_err();
        assert!(e.to_string().contains("no translation"), "{e}");
    }
}
