//! Exports a finished article (an [`Outcome`]) as Markdown, plain text, HTML, JSON, DOCX or PDF.
//!
//! Every format is rendered from the same list of [`Block`]s, so all of them carry the same
//! content: title, source file, dates, model, the summary (target language and English), and
//! optionally the full bilingual translation (each source paragraph followed by its rendering).
//!
//! Owns the renderings and the atomic write of any result file. Depends on the core's result
//! types only; the core must never depend on it.

mod docx;
mod pdf;

pub use precis_core::atomic::write_atomic;

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use precis_core::lang::Language;
use precis_core::pipeline::Outcome;
use precis_core::summarize::{Style, Summary};
use precis_core::translate::TermOrigin;
use precis_core::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Md,
    Txt,
    Html,
    Json,
    Docx,
    Pdf,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 6] = [
        ExportFormat::Md,
        ExportFormat::Txt,
        ExportFormat::Html,
        ExportFormat::Json,
        ExportFormat::Docx,
        ExportFormat::Pdf,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Md => "md",
            ExportFormat::Txt => "txt",
            ExportFormat::Html => "html",
            ExportFormat::Json => "json",
            ExportFormat::Docx => "docx",
            ExportFormat::Pdf => "pdf",
        }
    }

    pub fn parse(s: &str) -> Option<ExportFormat> {
        let s = s.trim().trim_start_matches('.').to_ascii_lowercase();
        Some(match s.as_str() {
            "md" | "markdown" => ExportFormat::Md,
            "txt" | "text" => ExportFormat::Txt,
            "html" | "htm" => ExportFormat::Html,
            "json" => ExportFormat::Json,
            "docx" => ExportFormat::Docx,
            "pdf" => ExportFormat::Pdf,
            _ => return None,
        })
    }
}

/// What goes into an export besides the summary.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExportOptions {
    /// Add the full bilingual translation after the summary.
    pub include_translation: bool,
    /// When the article was processed (RFC 3339); the export time is used when absent.
    pub processed_at: Option<String>,
}

/// One unit of exported content; `lang` is a BCP 47 tag for fonts and screen readers.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Title {
        text: String,
        lang: String,
    },
    Subtitle {
        text: String,
        lang: String,
    },
    /// "Label: value" lines under the title.
    Meta {
        rows: Vec<(String, String)>,
    },
    Heading {
        text: String,
        lang: String,
    },
    /// A sub-heading (the translated title inside the translation section).
    Subheading {
        text: String,
        lang: String,
    },
    Paragraph {
        text: String,
        lang: String,
    },
    /// A source paragraph shown next to its translation, set apart (grey, smaller).
    Source {
        text: String,
        lang: String,
    },
    /// A pipeline warning about the paragraph before it (in English).
    Warning {
        text: String,
    },
    /// A note about the paragraph before it that is not a warning (the reader edited it).
    Remark {
        text: String,
    },
    /// A summary sentence (a bullet or a sentence of prose) with the numbers of the source
    /// sentences it rests on ([`Block::Note`]); none: no sentence of the article supports it.
    Point {
        text: String,
        lang: String,
        bullet: bool,
        notes: Vec<usize>,
    },
    /// A source sentence a summary cites, numbered in order of first citation, with its id.
    Note {
        number: usize,
        id: String,
        text: String,
        lang: String,
    },
}

/// What an export says after a paragraph the reader rewrote.
pub const EDITED: &str = "edited by the reader";

/// What an export says after a summary sentence that no sentence of the article supports.
pub const UNSUPPORTED: &str = "(not supported by any sentence of the article)";

/// A point's note numbers as text, "[1][3]", or the unsupported mark.
pub(crate) fn note_marks(notes: &[usize]) -> String {
    if notes.is_empty() {
        return format!(" {UNSUPPORTED}");
    }
    notes.iter().map(|n| format!("[{n}]")).collect()
}

/// The source sentences the summaries cite, numbered in order of first citation.
struct Citations<'d> {
    document: &'d precis_core::document::Document,
    numbers: Vec<String>,
}

impl<'d> Citations<'d> {
    fn new(document: &'d precis_core::document::Document) -> Self {
        Citations {
            document,
            numbers: Vec::new(),
        }
    }

    /// The numbers of `ids`, numbering the ones not cited before; ids the article does not
    /// have are left out.
    fn cite(&mut self, ids: &[String]) -> Vec<usize> {
        let mut notes = Vec::new();
        for id in ids {
            if self.sentence(id).is_none() {
                continue;
            }
            let number = match self.numbers.iter().position(|n| n == id) {
                Some(i) => i + 1,
                None => {
                    self.numbers.push(id.clone());
                    self.numbers.len()
                }
            };
            if !notes.contains(&number) {
                notes.push(number);
            }
        }
        notes
    }

    fn sentence(&self, id: &str) -> Option<&'d str> {
        self.document
            .paragraphs
            .iter()
            .flat_map(|p| &p.sentences)
            .find(|s| s.id == id)
            .map(|s| s.text.as_str())
    }

    fn notes(&self) -> Vec<Block> {
        self.numbers
            .iter()
            .enumerate()
            .filter_map(|(i, id)| {
                Some(Block::Note {
                    number: i + 1,
                    id: id.clone(),
                    text: self.sentence(id)?.to_string(),
                    lang: self.document.language.clone(),
                })
            })
            .collect()
    }
}

fn language_label(code: &str) -> String {
    match Language::parse(code) {
        Ok(l) if l.name == l.native => l.name.to_string(),
        Ok(l) => format!("{} · {}", l.native, l.name),
        Err(_) => code.to_string(),
    }
}

fn summary_blocks(out: &mut Vec<Block>, s: &Summary, citations: &mut Citations<'_>) {
    out.push(Block::Heading {
        text: format!("Summary ({})", language_label(&s.language)),
        lang: "en".into(),
    });
    for p in &s.points {
        out.push(Block::Point {
            text: p.text.clone(),
            lang: s.language.clone(),
            bullet: s.style == Style::Bullets,
            notes: citations.cite(&p.source_sentence_ids),
        });
    }
}

/// The content of an export, format-independent.
pub fn blocks(o: &Outcome, opts: &ExportOptions) -> Vec<Block> {
    let d = &o.document;
    let src_lang = d.language.clone();
    let mut out = vec![Block::Title {
        text: if d.title.is_empty() {
            d.source_name.clone()
        } else {
            d.title.clone()
        },
        lang: src_lang.clone(),
    }];
    if let Some(sub) = &d.subtitle {
        out.push(Block::Subtitle {
            text: sub.clone(),
            lang: src_lang.clone(),
        });
    }
    let mut meta = vec![("Source".to_string(), d.source_name.clone())];
    if d.from_ocr {
        meta.push((
            "Text".into(),
            "from OCR (Tesseract) of page images; names and numbers may be misread".into(),
        ));
    }
    if let Some(line) = &d.dateline {
        meta.push(("Published".into(), line.clone()));
    }
    meta.push((
        "Processed".into(),
        opts.processed_at
            .clone()
            .unwrap_or_else(precis_core::clock::now_rfc3339),
    ));
    let translator = o
        .translation
        .as_ref()
        .map(|t| t.model.clone())
        .or_else(|| o.summary.as_ref().and_then(|s| s.translated_by.clone()));
    let llm = o.model.as_ref().map(|m| m.name.clone());
    meta.push((
        "Model".into(),
        match (&llm, &translator) {
            (Some(name), _) => name.clone(),
            (None, Some(_)) => "extractive summary".into(),
            (None, None) => "extractive summary (no model)".into(),
        },
    ));
    // A dedicated translation model is named apart from the model that summarised.
    if let Some(t) = translator.filter(|t| llm.as_ref() != Some(t)) {
        meta.push(("Translated by".into(), t));
    }
    if let Some(t) = &o.translation {
        meta.push(("Translation".into(), language_label(&t.language)));
        let yours: Vec<String> = t
            .glossary
            .iter()
            .filter(|g| g.origin == TermOrigin::User)
            .map(|g| format!("{} → {}", g.source, g.target))
            .collect();
        if !yours.is_empty() {
            meta.push(("Your glossary".into(), yours.join("; ")));
        }
    }
    out.push(Block::Meta { rows: meta });
    let mut citations = Citations::new(d);
    for s in [&o.summary, &o.summary_original].into_iter().flatten() {
        summary_blocks(&mut out, s, &mut citations);
    }
    let notes = citations.notes();
    if !notes.is_empty() {
        out.push(Block::Heading {
            text: "Where the summary comes from".into(),
            lang: "en".into(),
        });
        out.extend(notes);
    }
    if let (true, Some(t)) = (opts.include_translation, &o.translation) {
        out.push(Block::Heading {
            text: format!("Full translation ({})", language_label(&t.language)),
            lang: "en".into(),
        });
        if !t.title.is_empty() {
            out.push(Block::Subheading {
                text: t.title.clone(),
                lang: t.language.clone(),
            });
        }
        if let Some(sub) = &t.subtitle {
            out.push(Block::Subtitle {
                text: sub.clone(),
                lang: t.language.clone(),
            });
        }
        for p in &t.paragraphs {
            out.push(Block::Source {
                text: p.source.clone(),
                lang: src_lang.clone(),
            });
            // An untranslated paragraph is the source again: its warning says so instead.
            if !p.untranslated {
                out.push(Block::Paragraph {
                    text: p.text.clone(),
                    lang: t.language.clone(),
                });
            }
            for w in &p.warnings {
                out.push(Block::Warning { text: w.clone() });
            }
            if p.edited {
                out.push(Block::Remark {
                    text: EDITED.into(),
                });
            }
        }
    }
    out
}

fn markdown(blocks: &[Block]) -> String {
    let mut s = String::new();
    for b in blocks {
        match b {
            Block::Title { text: t, .. } => s += &format!("# {t}\n\n"),
            Block::Subtitle { text: t, .. } => s += &format!("*{t}*\n\n"),
            Block::Meta { rows } => {
                for (k, v) in rows {
                    s += &format!("- **{k}:** {v}\n");
                }
                s += "\n";
            }
            Block::Heading { text: t, .. } => s += &format!("## {t}\n\n"),
            Block::Subheading { text: t, .. } => s += &format!("### {t}\n\n"),
            Block::Paragraph { text: t, .. } => s += &format!("{t}\n\n"),
            Block::Source { text: t, .. } => s += &format!("> {t}\n\n"),
            Block::Warning { text: w } => s += &format!("> ⚠ {w}\n\n"),
            Block::Remark { text } => s += &format!("> ✎ *{text}*\n\n"),
            Block::Point {
                text,
                bullet,
                notes,
                ..
            } => {
                let marks = match notes.as_slice() {
                    [] => format!(" *{UNSUPPORTED}*"),
                    _ => notes.iter().map(|n| format!("[^{n}]")).collect(),
                };
                let bullet = if *bullet { "- " } else { "" };
                s += &format!("{bullet}{text}{marks}\n\n");
            }
            Block::Note {
                number, id, text, ..
            } => s += &format!("[^{number}]: {text} ({id})\n\n"),
        }
    }
    finish_text(s)
}

fn plain_text(blocks: &[Block]) -> String {
    let underline = |t: &str, c: char| c.to_string().repeat(t.chars().count().clamp(3, 72));
    let mut s = String::new();
    for b in blocks {
        match b {
            Block::Title { text: t, .. } => s += &format!("{t}\n{}\n\n", underline(t, '=')),
            Block::Heading { text: t, .. } => s += &format!("{t}\n{}\n\n", underline(t, '-')),
            Block::Subtitle { text: t, .. }
            | Block::Subheading { text: t, .. }
            | Block::Paragraph { text: t, .. } => s += &format!("{t}\n\n"),
            Block::Meta { rows } => {
                for (k, v) in rows {
                    s += &format!("{k}: {v}\n");
                }
                s += "\n";
            }
            Block::Source { text: t, .. } => s += &format!("    {t}\n\n"),
            Block::Warning { text: w } => s += &format!("[warning: {w}]\n\n"),
            Block::Remark { text } => s += &format!("[{text}]\n\n"),
            Block::Point {
                text,
                bullet,
                notes,
                ..
            } => {
                let bullet = if *bullet { "• " } else { "" };
                s += &format!("{bullet}{text}{}\n\n", note_marks(notes));
            }
            Block::Note {
                number, id, text, ..
            } => s += &format!("[{number}] {text} ({id})\n\n"),
        }
    }
    finish_text(s)
}

fn finish_text(mut s: String) -> String {
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

pub(crate) fn escape_xml(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0; drop them.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn html(blocks: &[Block]) -> String {
    let title = blocks
        .iter()
        .find_map(|b| match b {
            Block::Title { text: t, .. } => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or("Précis");
    let mut body = String::new();
    let mut in_list = false;
    for b in blocks {
        let is_bullet = matches!(b, Block::Point { bullet: true, .. });
        if in_list && !is_bullet {
            body += "</ul>\n";
        } else if !in_list && is_bullet {
            body += "<ul>\n";
        }
        in_list = is_bullet;
        let e = escape_xml;
        match b {
            Block::Title { text: t, lang: l } => {
                body += &format!("<h1 lang=\"{}\">{}</h1>\n", e(l), e(t))
            }
            Block::Subtitle { text: t, lang: l } => {
                body += &format!("<p class=\"subtitle\" lang=\"{}\">{}</p>\n", e(l), e(t))
            }
            Block::Meta { rows } => {
                body += "<dl class=\"meta\">\n";
                for (k, v) in rows {
                    body += &format!("<dt>{}</dt><dd>{}</dd>\n", e(k), e(v));
                }
                body += "</dl>\n";
            }
            Block::Heading { text: t, lang: l } => {
                body += &format!("<h2 lang=\"{}\">{}</h2>\n", e(l), e(t))
            }
            Block::Subheading { text: t, lang: l } => {
                body += &format!("<h3 lang=\"{}\">{}</h3>\n", e(l), e(t))
            }
            Block::Paragraph { text: t, lang: l } => {
                body += &format!("<p lang=\"{}\">{}</p>\n", e(l), e(t))
            }
            Block::Source { text: t, lang: l } => {
                body += &format!("<p class=\"source\" lang=\"{}\">{}</p>\n", e(l), e(t))
            }
            Block::Warning { text: w } => body += &format!("<p class=\"warning\">⚠ {}</p>\n", e(w)),
            Block::Remark { text } => body += &format!("<p class=\"remark\">✎ {}</p>\n", e(text)),
            Block::Point {
                text,
                lang,
                bullet,
                notes,
            } => {
                let marks: String = match notes.as_slice() {
                    [] => format!(" <span class=\"unsupported\">{}</span>", e(UNSUPPORTED)),
                    _ => notes
                        .iter()
                        .map(|n| format!("<sup><a href=\"#note-{n}\">{n}</a></sup>"))
                        .collect(),
                };
                let tag = if *bullet { "li" } else { "p" };
                body += &format!("<{tag} lang=\"{}\">{}{marks}</{tag}>\n", e(lang), e(text));
            }
            Block::Note {
                number,
                id,
                text,
                lang,
            } => {
                body += &format!(
                    "<p class=\"note\" id=\"note-{number}\"><span class=\"number\">{number}.</span> <span lang=\"{}\">{}</span> <span class=\"sentence-id\">({})</span></p>\n",
                    e(lang),
                    e(text),
                    e(id)
                )
            }
        }
    }
    if in_list {
        body += "</ul>\n";
    }
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        escape_xml(title),
        HTML_STYLE,
        body
    )
}

const HTML_STYLE: &str = "body{max-width:46em;margin:2em auto;padding:0 1em;font:16px/1.6 system-ui,sans-serif}
:lang(zh),:lang(ja),:lang(ko){font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;line-height:1.8}
.subtitle{font-style:italic}.meta dt{font-weight:600;float:left;clear:left;margin-right:.5em}.meta dd{margin:0}
.source{color:#666;font-size:.9em;margin-bottom:.2em}.warning{color:#a60}
.remark{color:#666;font-style:italic;font-size:.9em}.note{font-size:.9em;margin:.2em 0}.sentence-id{color:#888}.unsupported{color:#a60;font-style:italic}
";

/// Renders `o` in `format`.
pub fn render(o: &Outcome, format: ExportFormat, opts: &ExportOptions) -> Result<Vec<u8>> {
    let blocks = blocks(o, opts);
    Ok(match format {
        ExportFormat::Md => markdown(&blocks).into_bytes(),
        ExportFormat::Txt => plain_text(&blocks).into_bytes(),
        ExportFormat::Html => html(&blocks).into_bytes(),
        ExportFormat::Json => {
            let mut v = serde_json::to_value(o).map_err(|e| Error::Export(e.to_string()))?;
            if !opts.include_translation {
                if let Some(t) = v.get_mut("translation") {
                    *t = serde_json::Value::Null;
                }
            }
            let mut s =
                serde_json::to_string_pretty(&v).map_err(|e| Error::Export(e.to_string()))?;
            s.push('\n');
            s.into_bytes()
        }
        ExportFormat::Docx => docx::render(&blocks, &target_language(o))?,
        ExportFormat::Pdf => pdf::render(&blocks, &target_language(o))?,
    })
}

/// The language CJK fonts are chosen for: the translation's, else the summary's.
fn target_language(o: &Outcome) -> String {
    o.translation
        .as_ref()
        .map(|t| t.language.clone())
        .or_else(|| o.summary.as_ref().map(|s| s.language.clone()))
        .unwrap_or_else(|| o.document.language.clone())
}

/// Renders `o` and writes it to `path` atomically (a failed export leaves no partial file).
pub fn export_to_file(
    o: &Outcome,
    format: ExportFormat,
    opts: &ExportOptions,
    path: &Path,
) -> Result<()> {
    let bytes = render(o, format, opts)?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use precis_core::document::Document;
    use precis_core::summarize::{SummaryEngine, SummaryPoint};
    use precis_core::translate::{TranslatedParagraph, Translation};

    pub(crate) fn sample() -> Outcome {
        let document = Document::from_paragraphs(
            "US, Russia tussle over Syria cease-fire deal",
            "syria.txt",
            vec![
                "The US and Russia on Friday grappled over plans to halt the fighting in Syria."
                    .into(),
                "Aid worth $45 million is waiting in Geneva <for> approval & more.".into(),
            ],
        );
        let point = |t: &str, id: &str| SummaryPoint {
            text: t.into(),
            source_sentence_ids: vec![id.into()],
        };
        Outcome {
            summary: Some(Summary {
                engine: SummaryEngine::Llm,
                model: Some("Qwen".into()),
                language: "zh-Hans".into(),
                style: Style::Bullets,
                points: vec![point("美俄就叙利亚停火进行角力。", "p1.s1")],
                seconds: 1.0,
                translated_by: None,
            }),
            summary_original: Some(Summary {
                engine: SummaryEngine::Llm,
                model: Some("Qwen".into()),
                language: "en".into(),
                style: Style::Bullets,
                points: vec![point(
                    "The US and Russia grappled over a Syria ceasefire.",
                    "p1.s1",
                )],
                seconds: 1.0,
                translated_by: None,
            }),
            translation: Some(Translation {
                language: "zh-Hans".into(),
                model: "Qwen".into(),
                title: "美俄就叙利亚停火协议角力".into(),
                subtitle: None,
                paragraphs: vec![
                    TranslatedParagraph {
                        id: "p1".into(),
                        source: document.paragraphs[0].text.clone(),
                        text: "美国和俄罗斯周五就停止叙利亚战斗的计划展开角力。".into(),
                        warnings: vec![],
                        problems: Vec::new(),
                        untranslated: false,
                        edited: false,
                        confidence: None,
                    },
                    TranslatedParagraph {
                        id: "p2".into(),
                        source: document.paragraphs[1].text.clone(),
                        text: "价值4500万美元的援助正在日内瓦等待批准。".into(),
                        warnings: vec!["check the amount".into()],
                        problems: Vec::new(),
                        untranslated: false,
                        edited: false,
                        confidence: None,
                    },
                ],
                glossary: vec![],
                glossary_unapplied: Vec::new(),
                seconds: 3.0,
            }),
            document,
            model: None,
            stats: None,
        }
    }

    fn opts(include_translation: bool) -> ExportOptions {
        ExportOptions {
            include_translation,
            processed_at: Some("2026-11-25T10:00:00.000Z".into()),
        }
    }

    #[test]
    fn markdown_has_every_part_and_translation_is_optional() {
        let o = sample();
        let md = String::from_utf8(render(&o, ExportFormat::Md, &opts(true)).unwrap()).unwrap();
        for needle in [
            "# US, Russia tussle over Syria cease-fire deal",
            "- **Source:** syria.txt",
            "- **Processed:** 2026-11-25T10:00:00.000Z",
            // The sample's translation names a model but the job loaded no LLM: a dedicated
            // translation model did it.
            "- **Model:** extractive summary",
            "- **Translated by:** Qwen",
            "## Summary (简体中文 · Simplified Chinese)",
            "- 美俄就叙利亚停火进行角力。",
            "## Summary (English)",
            "### 美俄就叙利亚停火协议角力",
            "> The US and Russia on Friday grappled",
            "价值4500万美元的援助正在日内瓦等待批准。",
            "> ⚠ check the amount",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        // Source paragraph, then its translation.
        assert!(
            md.find("> The US and Russia on Friday").unwrap()
                < md.find("美国和俄罗斯周五").unwrap()
        );
        let short = String::from_utf8(render(&o, ExportFormat::Md, &opts(false)).unwrap()).unwrap();
        assert!(short.contains("美俄就叙利亚停火进行角力"));
        assert!(!short.contains("美国和俄罗斯周五"));
        let txt = String::from_utf8(render(&o, ExportFormat::Txt, &opts(true)).unwrap()).unwrap();
        assert!(txt.contains("Source: syria.txt") && txt.contains("• 美俄就叙利亚停火进行角力。"));
        assert!(txt.contains("[warning: check the amount]"));
        assert!(!md.contains("OCR"));
    }

    #[test]
    fn text_from_ocr_says_so_in_every_format() {
        let mut o = sample();
        o.document.from_ocr = true;
        let md = String::from_utf8(render(&o, ExportFormat::Md, &opts(true)).unwrap()).unwrap();
        assert!(md.contains("- **Text:** from OCR (Tesseract)"), "{md}");
        let html = String::from_utf8(render(&o, ExportFormat::Html, &opts(true)).unwrap()).unwrap();
        assert!(html.contains("from OCR (Tesseract)"));
        let json = String::from_utf8(render(&o, ExportFormat::Json, &opts(true)).unwrap()).unwrap();
        assert!(json.contains("\"from_ocr\": true"));
    }

    /// Every summary sentence points at the source sentences it rests on: footnote numbers in
    /// order of first citation (shared by the two summaries), the cited sentences listed with
    /// their ids, and a sentence nothing supports marked as such.
    #[test]
    fn summary_sentences_carry_their_evidence_in_every_format() {
        let mut o = sample();
        let summary = o.summary.as_mut().unwrap();
        summary.points = vec![
            SummaryPoint {
                text: "美俄角力。援助在日内瓦等待。".into(),
                source_sentence_ids: vec!["p1.s1".into(), "p2.s1".into(), "p9.s9".into()],
            },
            SummaryPoint {
                text: "双方已达成协议。".into(),
                source_sentence_ids: vec![],
            },
        ];
        let render_text =
            |format| String::from_utf8(render(&o, format, &opts(false)).unwrap()).unwrap();
        let md = render_text(ExportFormat::Md);
        for needle in [
            "- 美俄角力。援助在日内瓦等待。[^1][^2]\n",
            &format!("- 双方已达成协议。 *{UNSUPPORTED}*\n"),
            // The English summary cites p1.s1 again: the same number.
            "- The US and Russia grappled over a Syria ceasefire.[^1]\n",
            "## Where the summary comes from",
            "[^1]: The US and Russia on Friday grappled over plans to halt the fighting in Syria. (p1.s1)",
            "[^2]: Aid worth $45 million is waiting in Geneva <for> approval & more. (p2.s1)",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        assert!(
            !md.contains("[^3]") && !md.contains("p9.s9"),
            "an id the article lacks is dropped"
        );
        let txt = render_text(ExportFormat::Txt);
        assert!(
            txt.contains("• 美俄角力。援助在日内瓦等待。[1][2]"),
            "{txt}"
        );
        assert!(txt.contains("[2] Aid worth $45 million"), "{txt}");
        let html = render_text(ExportFormat::Html);
        assert!(html.contains("<p class=\"note\" id=\"note-2\">"), "{html}");
        assert!(html.contains("<span class=\"unsupported\">"), "{html}");
        let docx_bytes = render(&o, ExportFormat::Docx, &opts(false)).unwrap();
        let docx = precis_core::document::parse_bytes(&docx_bytes, "e.docx", None)
            .unwrap()
            .body_text();
        assert!(
            docx.contains("• 美俄角力。援助在日内瓦等待。[1][2]"),
            "{docx}"
        );
        assert!(docx.contains("[1] The US and Russia on Friday"), "{docx}");
        assert!(docx.contains(UNSUPPORTED), "{docx}");
        let blocks = blocks(&o, &opts(false));
        let notes: Vec<(usize, &str)> = blocks
            .iter()
            .filter_map(|b| match b {
                Block::Note { number, id, .. } => Some((*number, id.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(notes, [(1, "p1.s1"), (2, "p2.s1")]);
        // The PDF is drawn from the same lines.
        let lines: Vec<String> = blocks.iter().flat_map(pdf::block_lines).collect();
        assert!(lines.iter().any(|l| l
            == "[2] Aid worth $45 million is waiting in Geneva <for> approval & more. (p2.s1)"));
    }

    /// A paragraph the reader rewrote is exported as they wrote it, marked as theirs.
    #[test]
    fn an_edited_paragraph_is_exported_as_written_and_marked() {
        let mut o = sample();
        let p = &mut o.translation.as_mut().unwrap().paragraphs[1];
        p.text = "价值4500万美元的援助仍在日内瓦等待批准。".into();
        p.edited = true;
        p.warnings.clear();
        let md = String::from_utf8(render(&o, ExportFormat::Md, &opts(true)).unwrap()).unwrap();
        assert!(
            md.contains("价值4500万美元的援助仍在日内瓦等待批准。\n\n> ✎ *edited by the reader*"),
            "{md}"
        );
        assert_eq!(
            md.matches(EDITED).count(),
            1,
            "only the edited paragraph: {md}"
        );
        let html = String::from_utf8(render(&o, ExportFormat::Html, &opts(true)).unwrap()).unwrap();
        assert!(html.contains("<p class=\"remark\">✎ edited by the reader</p>"));
    }

    #[test]
    fn html_is_escaped_and_marks_languages() {
        let html =
            String::from_utf8(render(&sample(), ExportFormat::Html, &opts(true)).unwrap()).unwrap();
        assert!(html.contains("&lt;for&gt; approval &amp; more"));
        assert!(!html.contains("<for>"));
        assert!(html.contains("<p lang=\"zh-Hans\">美国和俄罗斯周五"));
        assert!(html.contains(
            "<li lang=\"zh-Hans\">美俄就叙利亚停火进行角力。<sup><a href=\"#note-1\">1</a></sup></li>"
        ));
        assert!(html.contains("<meta charset=\"utf-8\">"));
    }

    #[test]
    fn json_round_trips_and_drops_translation_on_request() {
        let o = sample();
        let full: Outcome =
            serde_json::from_slice(&render(&o, ExportFormat::Json, &opts(true)).unwrap()).unwrap();
        assert_eq!(full.translation.unwrap().paragraphs.len(), 2);
        let v: serde_json::Value =
            serde_json::from_slice(&render(&o, ExportFormat::Json, &opts(false)).unwrap()).unwrap();
        assert!(v["translation"].is_null());
        assert_eq!(
            v["summary"]["points"][0]["text"],
            "美俄就叙利亚停火进行角力。"
        );
    }

    #[test]
    fn formats_parse_from_names_and_extensions() {
        for f in ExportFormat::ALL {
            assert_eq!(ExportFormat::parse(f.extension()), Some(f));
        }
        assert_eq!(ExportFormat::parse(".Markdown"), Some(ExportFormat::Md));
        assert_eq!(ExportFormat::parse("rtf"), None);
    }

    #[test]
    fn export_to_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let e = export_to_file(
            &sample(),
            ExportFormat::Md,
            &opts(false),
            &dir.path().join("no/such/dir/a.md"),
        )
        .unwrap_err();
        assert_eq!(e.code(), "write_failed");
    }
}
