//! Article extraction from web pages saved as plain text, scored on a development set built from
//! Mozilla Readability's test pages (`scripts/text-pages.sh`): each page rendered to text three
//! ways (`w3m -dump`, `lynx -dump -nolist`, WebKit's `document.body.innerText`, i.e. select-all +
//! copy) and compared with the text of the page's `expected.html` by 4-word shingle F1. The same
//! pages' HTML is scored beside trafilatura's output on them, when the script has made it.
//!
//! Without the development set (it is built outside the repository) the suite is skipped with
//! a message; `tests/fixtures/text-pages/` keeps one noisy page per rendering for CI (see
//! `noisy_page_per_rendering`). Run with `cargo test --release --test text_pages -- --nocapture`.

mod extraction_score;

use std::path::{Path, PathBuf};

use extraction_score::{html_text, mean, shingles, Prf};
use precis_core::document::{encoding, html, parse_bytes, Document, SourceFormat};
use precis_core::summarize::{extractive_summary, Length, Style, SummaryEngine, SummaryOptions};

/// The renderings, as directory names of the development set.
const RENDERINGS: [&str; 3] = ["w3m", "lynx", "innertext"];
/// A rendering that holds less of the article than this is reported, not averaged.
const MIN_RENDERED_RECALL: f64 = 0.5;
/// Mean shingle F1 each rendering must keep on the development set: the level reached when it
/// was measured (QUALITY.md) less 0.01, so a change that loses ground fails. The goal, 0.90, is
/// met (w3m 0.905, lynx 0.904, innerText 0.919).
const MIN_MEAN_F1: [(&str, f64); 3] = [("w3m", 0.895), ("lynx", 0.894), ("innertext", 0.909)];

fn dir_from_env(var: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    std::env::var_os(var).map_or_else(default, PathBuf::from)
}

fn pages_dir() -> PathBuf {
    dir_from_env("READABILITY_PAGES", || {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/readability-test-pages")
    })
}

fn text_pages_dir() -> PathBuf {
    dir_from_env("PRECIS_TEXT_PAGES", || {
        let home = std::env::var_os("HOME").map_or_else(PathBuf::new, PathBuf::from);
        home.join(".cache/precis/dev-sets/readability-text")
    })
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/text-pages")
}

/// The body text a reader shows: standfirst and paragraphs (the headline is scored apart, as
/// Readability's expected output does not repeat it).
fn body(doc: &Document) -> String {
    let mut parts: Vec<&str> = doc.subtitle.iter().map(String::as_str).collect();
    parts.extend(doc.paragraphs.iter().map(|p| p.text.as_str()));
    parts.join("\n\n")
}

/// Everything the reader shows of a text page, headline included: a text dump has no separate
/// title, so the headline is one of its lines, picked by the extractor — a wrong pick ("Home")
/// costs, and a page whose first line is article text (expected holds it) is not cut short.
fn shown(doc: &Document) -> String {
    format!("{}\n\n{}", doc.title, body(doc))
}

/// What `precis` makes of a text file: the same entry point the app and the CLI use.
fn extract_text(text: &str) -> Option<Document> {
    parse_bytes(text.as_bytes(), "page.txt", Some(SourceFormat::Text)).ok()
}

fn expected_text(page: &Path) -> Option<String> {
    std::fs::read_to_string(page.join("expected.html"))
        .ok()
        .map(|h| html_text(&h))
}

fn row(name: &str, scores: &[Prf]) -> String {
    let cells: Vec<String> = scores
        .iter()
        .map(|s| format!("{:.3} / {:.3} / {:.3}", s.precision, s.recall, s.f1))
        .collect();
    format!("| {name} | {} |", cells.join(" | "))
}

#[test]
fn development_set() {
    let (pages, texts) = (pages_dir(), text_pages_dir());
    if !pages.is_dir() || !texts.is_dir() {
        eprintln!(
            "development set not found ({} and {}); run scripts/text-pages.sh — suite skipped",
            pages.display(),
            texts.display()
        );
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(&pages)
        .expect("pages dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.html").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();

    let mut failures = Vec::new();
    for rendering in RENDERINGS {
        let dir = texts.join(rendering);
        let (mut raw_f1, mut ours_f1, mut body_f1) = (Vec::new(), Vec::new(), Vec::new());
        println!("\n### {rendering}: shingle precision / recall / F1\n");
        println!("| page | raw dump | precis |");
        println!("|---|---|---|");
        for name in &names {
            let Ok(text) = std::fs::read_to_string(dir.join(format!("{name}.txt"))) else {
                continue;
            };
            let Some(want) = expected_text(&pages.join(name)) else {
                continue;
            };
            let raw = shingles(&text, &want);
            if raw.recall < MIN_RENDERED_RECALL {
                // Nothing to find: the page shows its article only through scripts or styles
                // that a saved copy lacks.
                println!(
                    "| {name} | {:.3} recall: article not in this rendering | – |",
                    raw.recall
                );
                continue;
            }
            let doc = extract_text(&text);
            let ours = doc
                .as_ref()
                .map_or(Prf::default(), |d| shingles(&shown(d), &want));
            let body_only = doc
                .as_ref()
                .map_or(Prf::default(), |d| shingles(&body(d), &want));
            println!("{}", row(name, &[raw, ours]));
            raw_f1.push(raw.f1);
            ours_f1.push(ours.f1);
            body_f1.push(body_only.f1);
        }
        let (raw_mean, ours_mean) = (mean(&raw_f1), mean(&ours_f1));
        println!(
            "\n{rendering}: {} pages, mean shingle F1 raw dump {raw_mean:.4}, precis {ours_mean:.4} \
             (body without the headline: {:.4})",
            ours_f1.len(),
            mean(&body_f1)
        );
        let floor = MIN_MEAN_F1
            .iter()
            .find(|(r, _)| *r == rendering)
            .map_or(1.0, |(_, f)| *f);
        if ours_f1.is_empty() || ours_mean < floor {
            failures.push(format!("{rendering}: mean F1 {ours_mean:.4} < {floor}"));
        }
    }

    // HTML: ours beside trafilatura's extraction of the same pages (when the script made it).
    let peer = texts.join("trafilatura");
    let (mut ours_f1, mut peer_f1) = (Vec::new(), Vec::new());
    println!("\n### HTML: shingle precision / recall / F1\n");
    println!("| page | precis | trafilatura |");
    println!("|---|---|---|");
    for name in &names {
        let page = pages.join(name);
        let (Ok(bytes), Some(want)) = (
            std::fs::read(page.join("source.html")),
            expected_text(&page),
        ) else {
            continue;
        };
        let Ok(peer_text) = std::fs::read_to_string(peer.join(format!("{name}.txt"))) else {
            continue;
        };
        let (source, _) = encoding::decode(&bytes).expect("decodable");
        let doc = html::parse_html(&source);
        let ours = shingles(&doc.paragraphs.join("\n\n"), &want);
        let theirs = shingles(&peer_text, &want);
        println!("{}", row(name, &[ours, theirs]));
        ours_f1.push(ours.f1);
        peer_f1.push(theirs.f1);
    }
    if !ours_f1.is_empty() {
        let (ours, theirs) = (mean(&ours_f1), mean(&peer_f1));
        println!(
            "\nHTML: {} pages, mean shingle F1 precis {ours:.4}, trafilatura {theirs:.4}",
            ours_f1.len()
        );
        if ours < theirs {
            failures.push(format!("HTML: precis {ours:.4} < trafilatura {theirs:.4}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("; "));
}

/// One noisy page (a news article between a site menu, share buttons, related headlines and a
/// footer; the raw text is under 60% 4-gram precision) in each rendering, kept in the repository
/// so CI checks the extractor without the development set: the article is found, what was left
/// out is reported, and nothing left out reaches the summary.
#[test]
fn noisy_page_per_rendering() {
    let dir = fixtures().join("telegraph");
    let expected = std::fs::read_to_string(dir.join("expected.html")).expect("expected.html");
    let want = html_text(&expected);
    for rendering in RENDERINGS {
        let text =
            std::fs::read_to_string(dir.join(format!("{rendering}.txt"))).expect("rendering");
        let raw = shingles(&text, &want);
        assert!(
            raw.precision < 0.6,
            "{rendering}: the fixture should be noisy ({raw:?})"
        );
        let doc = extract_text(&text).unwrap_or_else(|| panic!("{rendering}: no article"));
        let ours = shingles(&body(&doc), &want);
        assert!(ours.f1 >= 0.85, "{rendering}: F1 {:.3} ({ours:?})", ours.f1);
        assert!(
            ours.precision > raw.precision + 0.3,
            "{rendering}: {ours:?} vs raw {raw:?}"
        );
        // The reader can see what was dropped: the site's menu and footer lines.
        assert!(
            doc.left_out.len() >= 10,
            "{rendering}: {} lines left out",
            doc.left_out.len()
        );
        assert!(doc.left_out.iter().any(|l| l.before_article));
        assert!(doc.left_out.iter().any(|l| !l.before_article));
        // Boilerplate never reaches a summary: every summary sentence is an article sentence,
        // and none holds a left-out line (related headlines, teasers) that the article lacks.
        let body_text = doc.body_text();
        let dropped: Vec<&str> = doc
            .left_out
            .iter()
            .map(|l| l.text.as_str())
            .filter(|t| t.split_whitespace().count() >= 5 && !body_text.contains(t))
            .collect();
        assert!(!dropped.is_empty());
        for length in [Length::Short, Length::Medium, Length::Long] {
            let options = SummaryOptions {
                length,
                style: Style::Bullets,
                engine: SummaryEngine::Extractive,
            };
            let summary = extractive_summary(&doc, &options);
            assert!(!summary.points.is_empty(), "{rendering}: empty summary");
            let sentence_ids: Vec<&str> = doc
                .paragraphs
                .iter()
                .flat_map(|p| p.sentences.iter().map(|s| s.id.as_str()))
                .collect();
            for point in &summary.points {
                assert!(
                    !point.source_sentence_ids.is_empty()
                        && point
                            .source_sentence_ids
                            .iter()
                            .all(|id| sentence_ids.contains(&id.as_str())),
                    "{rendering}: summary point not from the article: {point:?}"
                );
                let leaked = dropped.iter().find(|t| point.text.contains(**t));
                assert!(
                    leaked.is_none(),
                    "{rendering}: the left-out line {leaked:?} reached the summary"
                );
            }
        }
    }
}
