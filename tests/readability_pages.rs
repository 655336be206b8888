//! Peer scorer: compares our HTML extraction with Mozilla Readability's output on
//! the pages of `readability-test-pages` (token precision / recall / F1 of the body
//! text, and title match).
//!
//! Pages directory: env `READABILITY_PAGES`, else `DEFAULT_PAGES` (relative to the
//! crate manifest dir unless absolute). Run with
//! `cargo test --release --test readability_pages -- --nocapture`.

mod extraction_score;

use std::path::{Path, PathBuf};

use extraction_score::{bag_of_words, html_text};
use precis_core::document::{encoding, html};

/// Mean F1 below this fails the test (achieved mean minus 0.01).
const MIN_MEAN_F1: f64 = 0.983;
/// The peer suite lives beside the repository (`../shared`), not in it.
const DEFAULT_PAGES: &str = "../../../shared/readability-test-pages";

fn pages_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("READABILITY_PAGES") {
        return PathBuf::from(dir);
    }
    let p = Path::new(DEFAULT_PAGES);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn title_ok(got: &str, want: &str) -> bool {
    let (g, w) = (norm(got), norm(want));
    if w.is_empty() {
        return g.is_empty();
    }
    !g.is_empty() && (g == w || g.contains(&w) || w.contains(&g))
}

#[test]
fn readability_pages() {
    let dir = pages_dir();
    if !dir.is_dir() && std::env::var("PRECIS_REQUIRE_PAGES").as_deref() != Ok("1") {
        // The suite is 16 MB of third-party pages kept outside the repository.
        eprintln!(
            "readability pages not found at {}; scorer skipped (set READABILITY_PAGES)",
            dir.display()
        );
        return;
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read pages dir {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("source.html").is_file() && p.join("expected.html").is_file())
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "no pages in {}", dir.display());

    println!("| page | precision | recall | F1 | title ok |");
    println!("|---|---|---|---|---|");
    let (mut sum_f1, mut titles_ok) = (0.0, 0usize);
    // Informational: bylines compared where Readability found one.
    let (mut bylines, mut bylines_ok) = (0usize, 0usize);
    for page in &pages {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(page.join("source.html")).expect("source.html");
        let (source, _) = encoding::decode(&bytes).expect("decodable");
        let expected = std::fs::read_to_string(page.join("expected.html")).expect("expected.html");
        let meta: serde_json::Value = std::fs::read(page.join("expected-metadata.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        let want_title = meta.get("title").and_then(|t| t.as_str()).unwrap_or("");

        let doc = html::parse_html(&source);
        if let Some(want_by) = meta.get("byline").and_then(|b| b.as_str()) {
            bylines += 1;
            let got_by = html::extract_article(&source).byline.unwrap_or_default();
            bylines_ok += usize::from(title_ok(&got_by, want_by));
        }
        let score = bag_of_words(&doc.paragraphs.join("\n\n"), &html_text(&expected));
        let (p, r, f) = (score.precision, score.recall, score.f1);
        let t_ok = title_ok(&doc.title, want_title);
        if std::env::var_os("SHOW_TITLES").is_some() && !t_ok {
            eprintln!("{name}: got {:?} want {:?}", doc.title, want_title);
        }
        sum_f1 += f;
        titles_ok += usize::from(t_ok);
        println!(
            "| {name} | {p:.3} | {r:.3} | {f:.3} | {} |",
            if t_ok { "yes" } else { "no" }
        );
    }
    let mean = sum_f1 / pages.len() as f64;
    println!();
    println!(
        "mean F1 {mean:.4} over {} pages; titles {}/{} ({:.1}%)",
        pages.len(),
        titles_ok,
        pages.len(),
        100.0 * titles_ok as f64 / pages.len() as f64
    );
    println!("bylines {bylines_ok}/{bylines} (where expected-metadata has one)");
    assert!(mean >= MIN_MEAN_F1, "mean F1 {mean:.4} < {MIN_MEAN_F1}");
}
