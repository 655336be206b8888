//! Abstractive summaries with a local LLM.
//!
//! Long articles: the prompt never holds more than [`INPUT_BUDGET_CHARS`] of article text.
//! When an article is longer, the extractive ranker picks the most salient sentences that fit
//! (kept in article order), so the context and the CPU time stay bounded whatever the length.

use super::{align, extractive, EngineKind, Length, Style, Summary, SummaryOptions, SummaryPoint};
use crate::document::{split_sentences, Document};
use crate::llm::chat::Message;
use crate::llm::{GenerationParams, LlmEngine};
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::translate::clean_output;
use crate::Result;

/// About 1,000 tokens of English: prefill stays within seconds on a laptop CPU.
pub const INPUT_BUDGET_CHARS: usize = 4000;

/// The article text the model sees: everything if it fits, else the best sentences that do.
pub fn model_input(doc: &Document) -> String {
    let body = doc.body_text();
    if body.len() <= INPUT_BUDGET_CHARS {
        return body;
    }
    let picked = extractive::select_within_budget(doc, INPUT_BUDGET_CHARS);
    let mut out = String::new();
    let mut last_paragraph = String::new();
    for s in picked {
        if !out.is_empty() {
            out.push_str(if s.paragraph_id == last_paragraph {
                " "
            } else {
                "\n\n"
            });
        }
        out.push_str(&s.text);
        last_paragraph = s.paragraph_id;
    }
    out
}

fn instructions(opts: &SummaryOptions) -> String {
    let shape = match (opts.style, opts.length) {
        (Style::Prose, Length::Short) => "Write the summary as exactly 3 sentences.".to_string(),
        (Style::Prose, Length::Medium) => "Write the summary as one paragraph of 4 to 6 sentences.".to_string(),
        (Style::Prose, Length::Long) => "Write the summary as three paragraphs separated by blank lines.".to_string(),
        (Style::Bullets, len) => format!(
            "Write the summary as exactly {} bullet points, one per line, each starting with \"- \". \
             The first point says what happened, where, and who was involved.",
            len.sentences()
        ),
    };
    format!(
        "You are a careful news editor. Summarize the article the user gives you. \
         State only facts that the article states; keep names, numbers and dates exactly as written. \
         Start directly with the summary: no title, no preamble, no comments. {shape}"
    )
}

/// Summarizes `doc` in its own language. Streams text as it is generated.
pub fn summarize(
    llm: &mut LlmEngine,
    doc: &Document,
    opts: &SummaryOptions,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<Summary> {
    let started = std::time::Instant::now();
    sink.emit(Event::Progress {
        stage: Stage::Summarizing,
        done: 0,
        total: 1,
        tokens: 0,
    });
    let mut user = String::new();
    if !doc.title.is_empty() {
        user.push_str(&format!("Title: {}\n", doc.title));
    }
    if let Some(sub) = &doc.subtitle {
        user.push_str(&format!("Subtitle: {sub}\n"));
    }
    user.push_str(&format!("\n{}", model_input(doc)));
    let messages = [Message::system(instructions(opts)), Message::user(user)];
    let max_new_tokens = match opts.length {
        Length::Short => 160,
        Length::Medium => 260,
        Length::Long => 600,
    };
    let params = GenerationParams {
        max_new_tokens,
        repeat_penalty: 1.1,
        ..Default::default()
    };
    let mut tokens = 0u64;
    let mut on_text = |piece: &str| {
        tokens += 1;
        sink.emit(Event::Token {
            stage: Stage::Summarizing,
            paragraph_id: None,
            text: piece.to_string(),
        });
    };
    let gen = llm.generate(&messages, &params, &mut on_text, cancel)?;
    sink.emit(Event::Progress {
        stage: Stage::Summarizing,
        done: 1,
        total: 1,
        tokens: gen.generated_tokens as u64,
    });
    let mut points = parse_points(&clean_output(&gen.text), opts.style);
    if opts.style == Style::Bullets {
        // Small models overshoot the requested count; the first points are the most important.
        points.truncate(opts.length.sentences());
    }
    let points = points
        .into_iter()
        .map(|text| SummaryPoint {
            source_sentence_ids: align(doc, &text),
            text,
        })
        .collect();
    Ok(Summary {
        engine: EngineKind::Llm,
        model: Some(llm.info().name.clone()),
        language: doc.language.clone(),
        style: opts.style,
        points,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Splits model output into summary points: bullets by line, prose by sentence (a paragraph
/// break is kept as a leading newline on the first sentence of the next paragraph).
pub fn parse_points(text: &str, style: Style) -> Vec<String> {
    match style {
        Style::Bullets => text
            .lines()
            .map(|l| {
                let l = l.trim();
                let l = l.trim_start_matches(['-', '*', '•']).trim_start();
                // "1. point" / "2) point"
                let digits = l.chars().take_while(|c| c.is_ascii_digit()).count();
                if digits > 0 && l[digits..].starts_with(['.', ')']) {
                    l[digits + 1..].trim_start().to_string()
                } else {
                    l.to_string()
                }
            })
            .filter(|l| !l.is_empty())
            .collect(),
        Style::Prose => {
            let mut out = Vec::new();
            for (i, para) in text
                .split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .enumerate()
            {
                for (j, s) in split_sentences(&para.replace('\n', " "))
                    .into_iter()
                    .enumerate()
                {
                    out.push(if i > 0 && j == 0 { format!("\n{s}") } else { s });
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bullets_are_parsed_from_any_marker() {
        let p = parse_points("- one\n* two\n3. three\n\n• four", Style::Bullets);
        assert_eq!(p, ["one", "two", "three", "four"]);
    }

    #[test]
    fn long_articles_are_cut_to_the_budget() {
        let paragraphs: Vec<String> = (0..200)
            .map(|i| format!("Paragraph {i} reports that the council met on Monday to discuss budget item number {i}."))
            .collect();
        let doc = Document::from_paragraphs("Budget", "b.txt", paragraphs);
        assert!(doc.body_text().len() > INPUT_BUDGET_CHARS);
        let input = model_input(&doc);
        assert!(input.len() <= INPUT_BUDGET_CHARS + 400, "{}", input.len());
        assert!(input.contains("Paragraph 0 "));
    }
}
