//! Scoring an extracted article against a human (or peer) reference body: word tokens compared
//! as bags (precision / recall / F1) and as multisets of 4-word shingles, the measure of the
//! article-extraction-benchmark paper — a shingle only matches when four words in a row were kept
//! in order, so menus, captions and related headlines mixed into the body cost precision even
//! when their words also occur in the article. Shared by the HTML and the plain-text page suites.
#![allow(dead_code)] // each suite uses part of it

use std::collections::HashMap;
use std::hash::Hash;

use scraper::{Html, Node};

/// Precision, recall and F1 of one comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF
        | 0x20000..=0x2FA1F)
}

/// Lowercase word tokens: runs of alphanumerics; each CJK character is a token.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn multiset<T: Eq + Hash>(items: impl IntoIterator<Item = T>) -> HashMap<T, usize> {
    let mut m = HashMap::new();
    for t in items {
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

fn prf_of<T: Eq + Hash>(got: HashMap<T, usize>, want: HashMap<T, usize>) -> Prf {
    let (n_got, n_want): (usize, usize) = (got.values().sum(), want.values().sum());
    if n_got == 0 && n_want == 0 {
        return Prf {
            precision: 1.0,
            recall: 1.0,
            f1: 1.0,
        };
    }
    let common: usize = got
        .iter()
        .map(|(k, n)| (*n).min(want.get(k).copied().unwrap_or(0)))
        .sum();
    let precision = if n_got == 0 {
        0.0
    } else {
        common as f64 / n_got as f64
    };
    let recall = if n_want == 0 {
        0.0
    } else {
        common as f64 / n_want as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Prf {
        precision,
        recall,
        f1,
    }
}

/// Bag-of-words overlap of two texts' tokens.
pub fn bag_of_words(got: &str, want: &str) -> Prf {
    prf_of(multiset(tokens(got)), multiset(tokens(want)))
}

/// Shingle length of the benchmark's measure.
pub const SHINGLE: usize = 4;

/// Overlap of the multisets of `SHINGLE`-token windows (a text shorter than that is one shingle).
pub fn shingles(got: &str, want: &str) -> Prf {
    fn windows(text: &str) -> HashMap<Vec<String>, usize> {
        let t = tokens(text);
        if t.is_empty() {
            return HashMap::new();
        }
        if t.len() < SHINGLE {
            return multiset([t]);
        }
        multiset(t.windows(SHINGLE).map(<[String]>::to_vec))
    }
    prf_of(windows(got), windows(want))
}

/// Text content of an HTML fragment (script/style skipped), iteratively; block boundaries
/// become spaces so words of adjacent elements never merge.
pub fn html_text(source: &str) -> String {
    let doc = Html::parse_document(source);
    let mut out = String::new();
    let mut stack = vec![doc.tree.root()];
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Text(t) => {
                out.push_str(t);
                continue;
            }
            Node::Element(e) => {
                if matches!(e.name(), "script" | "style" | "noscript" | "template") {
                    continue;
                }
                out.push(' ');
            }
            _ => {}
        }
        let children: Vec<_> = node.children().collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// Mean of a list (0 for none).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}
