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

/// The renderings, as directory names of the development set.
const RENDERINGS: [&str; 3] = ["w3m", "lynx", "innertext"];
/// A rendering that holds less of the article than this is reported, not averaged.
const MIN_RENDERED_RECALL: f64 = 0.5;
/// Mean shingle F1 each rendering must reach on the development set.
const MIN_MEAN_F1: f64 = 0.90;

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
        let (mut raw_f1, mut ours_f1) = (Vec::new(), Vec::new());
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
            let ours = extract_text(&text).map_or(Prf::default(), |d| shingles(&body(&d), &want));
            println!("{}", row(name, &[raw, ours]));
            raw_f1.push(raw.f1);
            ours_f1.push(ours.f1);
        }
        let (raw_mean, ours_mean) = (mean(&raw_f1), mean(&ours_f1));
        println!(
            "\n{rendering}: {} pages, mean shingle F1 raw dump {raw_mean:.4}, precis {ours_mean:.4}",
            ours_f1.len()
        );
        if ours_f1.is_empty() || ours_mean < MIN_MEAN_F1 {
            failures.push(format!(
                "{rendering}: mean F1 {ours_mean:.4} < {MIN_MEAN_F1}"
            ));
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
