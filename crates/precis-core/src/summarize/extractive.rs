//! Extractive summarization: TextRank over TF-IDF sentence similarity, combined
//! with a news position prior, with MMR-style redundancy removal when picking.
//!
//! * Tokens: lowercased words, English stop words removed, light suffix stemming;
//!   CJK text is tokenised into character bigrams.
//! * Similarity: cosine of TF-IDF vectors (`tf = 1 + ln(count)`,
//!   `idf = ln((N + 1) / (df + 1)) + 1`).
//! * Centrality: TextRank power iteration (damping 0.85) on the similarity graph;
//!   for very long documents (more than [`MAX_TEXTRANK_SENTENCES`] sentences) the
//!   cheaper cosine similarity to the document centroid is used instead.
//! * Score: `centrality / max_centrality × (1 + 1 / (1 + paragraph_index))`, ×1.25
//!   for the article's first sentence, ×0.5 for sentences under 6 words and ×0.1
//!   for sentences without any content word.
//! * Picking: greedy MMR, `score × (1 − 0.7 × max_similarity_to_picked)`;
//!   near-duplicates (similarity ≥ 0.8 to a picked sentence) are only taken when
//!   nothing else is left (never by [`select_within_budget`]).
//!
//! Everything is deterministic: ties are broken by document position.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::document::Document;

/// Documents with more sentences than this use centroid similarity instead of
/// TextRank (whose graph is quadratic in the number of sentences).
pub const MAX_TEXTRANK_SENTENCES: usize = 1000;
const DAMPING: f64 = 0.85;
const MAX_ITERATIONS: usize = 100;
const SHORT_SENTENCE_WORDS: usize = 6;
const REDUNDANCY_WEIGHT: f64 = 0.7;
const NEAR_DUPLICATE: f64 = 0.8;

/// A sentence with its extractive score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedSentence {
    pub paragraph_id: String,
    pub sentence_id: String,
    pub text: String,
    pub score: f32,
    /// Global sentence index in the document (0-based).
    pub position: usize,
}

/// Sparse unit-length TF-IDF vector, sorted by term id.
type SparseVec = Vec<(u32, f64)>;

struct Analysis {
    ranked: Vec<RankedSentence>,
    vectors: Vec<SparseVec>,
}

const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "even",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "like",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "said",
    "same",
    "say",
    "says",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "s",
    "t",
    "don",
    "didn",
    "doesn",
    "won",
    "wasn",
    "weren",
    "isn",
    "aren",
    "there's",
    "it's",
    "he's",
    "she's",
    "that's",
    "per",
    "yet",
    "still",
    "since",
    "though",
    "although",
    "whether",
    "within",
    "without",
    "upon",
    "via",
    "across",
    "around",
    "among",
    "another",
    "around",
    "back",
    "made",
    "make",
    "new",
    "get",
    "got",
    "go",
    "going",
    "told",
    "year",
    "years",
    "mr",
    "mrs",
    "ms",
];

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF
        | 0x20000..=0x2FA1F)
}

/// Light, language-agnostic-enough suffix stripping for English inflections.
fn stem(word: &str) -> String {
    let n = word.chars().count();
    if !word.is_ascii() {
        return word.to_owned();
    }
    if n > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..word.len() - 3]);
    }
    if word.ends_with("sses") {
        return word[..word.len() - 2].to_owned();
    }
    if n > 5 && word.ends_with("ing") {
        return word[..word.len() - 3].to_owned();
    }
    if n > 4 && word.ends_with("ed") && !word.ends_with("eed") {
        return word[..word.len() - 2].to_owned();
    }
    if n > 5 && word.ends_with("ly") {
        return word[..word.len() - 2].to_owned();
    }
    if n > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// Content tokens of a sentence.
fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-')) {
        let original = raw.trim_matches(|c: char| c == '\'' || c == '’' || c == '-');
        if original.is_empty() {
            continue;
        }
        // All-caps acronyms ("US", "IT") are content words even when their
        // lowercase form is a stop word.
        let acronym = original.chars().count() >= 2
            && original
                .chars()
                .all(|c| c.is_uppercase() || c.is_ascii_digit());
        let lowered = original.to_lowercase();
        let word = lowered.as_str();
        if word.chars().any(is_cjk) {
            let chars: Vec<char> = word.chars().collect();
            let mut run: Vec<char> = Vec::new();
            let emit = |run: &mut Vec<char>, out: &mut Vec<String>| {
                match run.len() {
                    0 => {}
                    1 => out.push(run[0].to_string()),
                    _ => out.extend(run.windows(2).map(|w| w.iter().collect::<String>())),
                }
                run.clear();
            };
            for c in chars {
                if is_cjk(c) {
                    run.push(c);
                } else {
                    emit(&mut run, &mut out);
                }
            }
            emit(&mut run, &mut out);
            continue;
        }
        let word = word
            .strip_suffix("'s")
            .or_else(|| word.strip_suffix("’s"))
            .unwrap_or(word);
        let word = word.replace('’', "'");
        if acronym {
            out.push(word);
            continue;
        }
        if word.chars().count() < 2 || STOP_WORDS.contains(&word.as_str()) {
            continue;
        }
        out.push(stem(&word));
    }
    out
}

fn dot(a: &SparseVec, b: &SparseVec) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

fn tfidf_vectors(tokens: &[Vec<String>]) -> Vec<SparseVec> {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut df: Vec<usize> = Vec::new();
    let mut counts: Vec<Vec<(u32, usize)>> = Vec::with_capacity(tokens.len());
    for sentence in tokens {
        let mut local: HashMap<u32, usize> = HashMap::new();
        for token in sentence {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            let id = *ids.entry(token.as_str()).or_insert(next);
            if id as usize == df.len() {
                df.push(0);
            }
            *local.entry(id).or_insert(0) += 1;
        }
        let mut local: Vec<(u32, usize)> = local.into_iter().collect();
        local.sort_unstable();
        for &(id, _) in &local {
            if let Some(d) = df.get_mut(id as usize) {
                *d += 1;
            }
        }
        counts.push(local);
    }
    let n = tokens.len() as f64;
    counts
        .into_iter()
        .map(|local| {
            let mut v: SparseVec = local
                .into_iter()
                .map(|(id, count)| {
                    let d = df.get(id as usize).copied().unwrap_or(1) as f64;
                    let idf = ((n + 1.0) / (d + 1.0)).ln() + 1.0;
                    (id, (1.0 + (count as f64).ln()) * idf)
                })
                .collect();
            let norm = v.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
            if norm > 0.0 {
                for (_, w) in &mut v {
                    *w /= norm;
                }
            }
            v
        })
        .collect()
}

fn textrank(vectors: &[SparseVec]) -> Vec<f64> {
    let n = vectors.len();
    if n == 0 {
        return Vec::new();
    }
    let mut weights = vec![0.0f64; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let s = dot(&vectors[i], &vectors[j]);
            weights[i * n + j] = s;
            weights[j * n + i] = s;
        }
    }
    let out_sum: Vec<f64> = (0..n)
        .map(|j| weights[j * n..(j + 1) * n].iter().sum())
        .collect();
    let nf = n as f64;
    let mut scores = vec![1.0 / nf; n];
    for _ in 0..MAX_ITERATIONS {
        let dangling: f64 = (0..n)
            .filter(|&j| out_sum[j] <= 0.0)
            .map(|j| scores[j])
            .sum();
        let mut next = vec![0.0f64; n];
        for (i, slot) in next.iter_mut().enumerate() {
            let mut incoming = 0.0;
            for j in 0..n {
                if out_sum[j] > 0.0 {
                    incoming += weights[j * n + i] / out_sum[j] * scores[j];
                }
            }
            *slot = (1.0 - DAMPING) / nf + DAMPING * (incoming + dangling / nf);
        }
        let delta: f64 = next.iter().zip(&scores).map(|(a, b)| (a - b).abs()).sum();
        scores = next;
        if delta < 1e-10 {
            break;
        }
    }
    scores
}

fn centroid_similarity(vectors: &[SparseVec]) -> Vec<f64> {
    let mut centroid: HashMap<u32, f64> = HashMap::new();
    for v in vectors {
        for &(id, w) in v {
            *centroid.entry(id).or_insert(0.0) += w;
        }
    }
    let mut centroid: SparseVec = centroid.into_iter().collect();
    centroid.sort_unstable_by_key(|&(id, _)| id);
    let norm = centroid.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut centroid {
            *w /= norm;
        }
    }
    vectors.iter().map(|v| dot(v, &centroid)).collect()
}

fn analyse(doc: &Document) -> Analysis {
    let mut ranked = Vec::new();
    let mut tokens = Vec::new();
    let mut paragraph_index = Vec::new();
    for (pi, paragraph) in doc.paragraphs.iter().enumerate() {
        for sentence in &paragraph.sentences {
            tokens.push(tokenize(&sentence.text));
            paragraph_index.push(pi);
            ranked.push(RankedSentence {
                paragraph_id: paragraph.id.clone(),
                sentence_id: sentence.id.clone(),
                text: sentence.text.clone(),
                score: 0.0,
                position: ranked.len(),
            });
        }
    }
    let vectors = tfidf_vectors(&tokens);
    let centrality = if vectors.len() <= MAX_TEXTRANK_SENTENCES {
        textrank(&vectors)
    } else {
        centroid_similarity(&vectors)
    };
    let max = centrality.iter().copied().fold(0.0f64, f64::max);
    for (i, item) in ranked.iter_mut().enumerate() {
        let base = if max > 0.0 { centrality[i] / max } else { 1.0 };
        let mut score = base * (1.0 + 1.0 / (1.0 + paragraph_index[i] as f64));
        if i == 0 {
            score *= 1.25;
        }
        if item.text.split_whitespace().count() < SHORT_SENTENCE_WORDS {
            score *= 0.5;
        }
        if tokens[i].is_empty() {
            score *= 0.1;
        }
        item.score = score as f32;
    }
    Analysis { ranked, vectors }
}

/// Every sentence of the document with its score, in document order.
pub fn rank_sentences(doc: &Document) -> Vec<RankedSentence> {
    analyse(doc).ranked
}

/// Greedy MMR picking. `accept(i, picked_len)` filters candidates; candidates it
/// rejects are dropped for good. Returns picked indices in pick order.
fn pick(
    analysis: &Analysis,
    max_picks: usize,
    allow_duplicates: bool,
    mut accept: impl FnMut(&RankedSentence) -> bool,
    mut on_pick: impl FnMut(&RankedSentence),
) -> Vec<usize> {
    let n = analysis.ranked.len();
    let mut remaining: Vec<usize> = (0..n).collect();
    let mut max_sim = vec![0.0f64; n];
    let mut picked = Vec::new();
    while picked.len() < max_picks && !remaining.is_empty() {
        remaining.retain(|&i| accept(&analysis.ranked[i]));
        let mut best: Option<(bool, f64, usize)> = None;
        for &i in &remaining {
            let duplicate = max_sim[i] >= NEAR_DUPLICATE;
            if duplicate && !allow_duplicates {
                continue;
            }
            let value =
                f64::from(analysis.ranked[i].score) * (1.0 - REDUNDANCY_WEIGHT * max_sim[i]);
            // Prefer non-duplicates, then higher value, then earlier position.
            let better = match best {
                None => true,
                Some((best_dup, best_value, _)) => {
                    (!duplicate && best_dup) || (duplicate == best_dup && value > best_value)
                }
            };
            if better {
                best = Some((duplicate, value, i));
            }
        }
        let Some((_, _, chosen)) = best else {
            break;
        };
        remaining.retain(|&i| i != chosen);
        on_pick(&analysis.ranked[chosen]);
        let chosen_vec = &analysis.vectors[chosen];
        for &i in &remaining {
            let s = dot(&analysis.vectors[i], chosen_vec);
            if s > max_sim[i] {
                max_sim[i] = s;
            }
        }
        picked.push(chosen);
    }
    picked
}

fn in_document_order(analysis: &Analysis, mut picked: Vec<usize>) -> Vec<RankedSentence> {
    picked.sort_unstable();
    picked
        .into_iter()
        .filter_map(|i| analysis.ranked.get(i).cloned())
        .collect()
}

/// The `max_sentences` best sentences (MMR, see module docs), in document order.
pub fn summarize(doc: &Document, max_sentences: usize) -> Vec<RankedSentence> {
    if max_sentences == 0 {
        return Vec::new();
    }
    let analysis = analyse(doc);
    let picked = pick(&analysis, max_sentences, true, |_| true, |_| {});
    in_document_order(&analysis, picked)
}

/// The best sentences whose total length fits `max_chars`, in document order.
///
/// Length is counted in characters as if the sentences were joined with single
/// spaces: `sum(chars) + (count − 1) <= max_chars`. Near-duplicate sentences are
/// skipped. If the whole body fits, every sentence is returned.
pub fn select_within_budget(doc: &Document, max_chars: usize) -> Vec<RankedSentence> {
    let analysis = analyse(doc);
    let total: usize = analysis
        .ranked
        .iter()
        .map(|s| s.text.chars().count() + 1)
        .sum::<usize>()
        .saturating_sub(1);
    if total <= max_chars {
        return analysis.ranked;
    }
    // Characters used so far, including one separator per sentence after the first.
    let used = std::cell::Cell::new(0usize);
    let cost = |s: &RankedSentence| s.text.chars().count() + usize::from(used.get() > 0);
    let fits = |s: &RankedSentence| used.get() + cost(s) <= max_chars;
    let record = |s: &RankedSentence| used.set(used.get() + cost(s));
    let picked = pick(&analysis, usize::MAX, false, fits, record);
    in_document_order(&analysis, picked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{parse_bytes, Document, SourceFormat};

    const SAMPLE: &str =
        include_str!("../../../../tests/fixtures/global-times-syria-ceasefire.txt");

    fn sample() -> Document {
        parse_bytes(SAMPLE.as_bytes(), "global-times-syria-ceasefire.txt", None).expect("parses")
    }

    #[test]
    fn rank_covers_every_sentence_in_order() {
        let doc = sample();
        let ranked = rank_sentences(&doc);
        assert_eq!(ranked.len(), doc.sentence_count());
        for (i, r) in ranked.iter().enumerate() {
            assert_eq!(r.position, i);
            assert!(r.score.is_finite() && r.score >= 0.0);
        }
        assert_eq!(ranked[0].sentence_id, "p1.s1");
    }

    #[test]
    fn summary_of_sample() {
        let doc = sample();
        let summary = summarize(&doc, 3);
        assert_eq!(summary.len(), 3);
        assert!(summary.windows(2).all(|w| w[0].position < w[1].position));
        assert_eq!(summary[0].position, 0, "lead sentence must be included");
        assert!(summary[0].text.starts_with("The US and Russia on Friday"));
        let content = [
            "syria",
            "russia",
            "us",
            "cease-fire",
            "aleppo",
            "kerry",
            "lavrov",
            "talks",
            "washington",
            "moscow",
        ];
        for s in &summary {
            let lower = s.text.to_lowercase();
            assert!(content.iter().any(|w| lower.contains(w)), "{}", s.text);
            assert!(s.text.split_whitespace().count() >= 6);
        }
        // Deterministic.
        assert_eq!(summarize(&doc, 3), summary);
        assert_eq!(rank_sentences(&doc), rank_sentences(&doc));
    }

    #[test]
    fn summary_limits() {
        let doc = sample();
        assert!(summarize(&doc, 0).is_empty());
        assert_eq!(summarize(&doc, 1000).len(), doc.sentence_count());
    }

    #[test]
    fn budget_is_respected() {
        let doc = sample();
        for budget in [0, 50, 200, 500, 1000, 5000, 100_000] {
            let picked = select_within_budget(&doc, budget);
            let joined = picked
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            assert!(joined.chars().count() <= budget, "budget {budget}");
            assert!(picked.windows(2).all(|w| w[0].position < w[1].position));
        }
        let all = select_within_budget(&doc, 100_000);
        assert_eq!(all.len(), doc.sentence_count());
        let some = select_within_budget(&doc, 500);
        assert!(!some.is_empty());
        assert!(some.iter().any(|s| s.position == 0));
    }

    #[test]
    fn tiny_documents() {
        let doc = Document::from_paragraphs("T", "t", vec!["Only one sentence here.".to_owned()]);
        let s = summarize(&doc, 3);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].text, "Only one sentence here.");
        assert_eq!(select_within_budget(&doc, 5).len(), 0);
        assert_eq!(select_within_budget(&doc, 100).len(), 1);
        let empty = Document::from_paragraphs("T", "t", Vec::new());
        assert!(summarize(&empty, 3).is_empty());
        assert!(rank_sentences(&empty).is_empty());
        assert!(select_within_budget(&empty, 10).is_empty());
    }

    #[test]
    fn near_duplicates_are_avoided() {
        let paragraphs = vec![
            "The central bank raised interest rates by half a point on Tuesday.".to_owned(),
            "The central bank raised interest rates by half a point on Tuesday, officials confirmed.".to_owned(),
            "Markets in Asia fell sharply after the unexpected decision by policymakers.".to_owned(),
            "Analysts expect further increases before the end of the summer season.".to_owned(),
        ];
        let doc = Document::from_paragraphs("Rates", "rates", paragraphs);
        let s = summarize(&doc, 2);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].position, 0);
        assert_ne!(s[1].position, 1, "near-duplicate picked: {:?}", s);
    }

    #[test]
    fn cjk_text() {
        let doc = Document::from_paragraphs(
            "",
            "zh",
            vec!["美国和俄罗斯周五就叙利亚停火计划展开角力。政府军包围了阿勒颇市。联合国特使表示谈判很重要。".to_owned()],
        );
        assert_eq!(doc.sentence_count(), 3);
        assert_eq!(summarize(&doc, 2).len(), 2);
    }

    /// Whatever the readers make of random bytes, the summarizer takes it without panicking
    /// (the inputs of the readers' own `random_bytes_never_panic`, in precis-document).
    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"abc XYZ.!?\n\n<>/p\"'-*#_[]()\xE2\x80\x9C\xC3\xA9\xFF\t\r";
        for round in 0..400 {
            let len = (next() % 600) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if round % 2 == 0 {
                        (r >> 24) as u8
                    } else {
                        alphabet[(r % alphabet.len() as u64) as usize]
                    }
                })
                .collect();
            for hint in [
                None,
                Some(SourceFormat::Text),
                Some(SourceFormat::Markdown),
                Some(SourceFormat::Html),
            ] {
                if let Ok(doc) = parse_bytes(&bytes, "fuzz.txt", hint) {
                    let _ = summarize(&doc, 3);
                    let _ = select_within_budget(&doc, 200);
                }
            }
        }
    }
}
