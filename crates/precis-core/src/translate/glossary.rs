//! Terminology: the built-in term base, the names Précis renders itself, and their enforcement
//! in a translation.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::document::Document;
use crate::lang::Language;
use crate::names::pinned_people;

use super::user_glossary::{merged, user_entries, KnownTerms};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct GlossaryEntry {
    pub source: String,
    pub target: String,
    pub origin: TermOrigin,
}

/// Where a glossary entry came from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum TermOrigin {
    /// The built-in term base.
    TermBase,
    /// The rendering the model chose in an earlier paragraph, carried forward.
    Carried,
    /// A person's name Précis put together from its name tables and Xinhua's transliteration
    /// table ([`crate::names`]); its first mention carries the original in brackets.
    Rendered,
    /// The reader's own glossary (stored, or `--glossary FILE`); it wins over the others.
    User,
    /// The rendering chosen for this name in an earlier article (the history's name memory).
    Remembered,
}

pub(super) const GAZETTEER_ZH_HANS: &str = include_str!("../../data/gazetteer.en-zh-Hans.tsv");

/// The built-in terminology for `target`: standard renderings of countries, cities and
/// organisations. Small models do not know that Aleppo is 阿勒颇 or Geneva 日内瓦; a translation
/// desk's term base does. (Only Simplified Chinese has one so far.)
pub fn gazetteer(target: &Language) -> Vec<GlossaryEntry> {
    gazetteer_rows(target)
        .map(|(s, t)| GlossaryEntry {
            source: s.to_string(),
            target: t.to_string(),
            origin: TermOrigin::TermBase,
        })
        .collect()
}

/// The term base's (term, rendering) rows for `target` (none for a language without one).
fn gazetteer_rows(target: &Language) -> impl Iterator<Item = (&'static str, &'static str)> {
    let table = match target.code {
        "zh-Hans" => GAZETTEER_ZH_HANS,
        _ => "",
    };
    table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(s, t)| (s.trim(), t.trim()))
}

/// Whether `term` occurs in `text` as a whole word (or phrase).
pub fn contains_term(text: &str, term: &str) -> bool {
    term_spans(text, term).next().is_some()
}

/// Where `term` occurs in `text` as a whole word (or phrase): byte ranges.
pub(crate) fn term_spans<'t>(
    text: &'t str,
    term: &'t str,
) -> impl Iterator<Item = (usize, usize)> + 't {
    text.match_indices(term).filter_map(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        let whole = !before.is_some_and(|c| c.is_alphanumeric())
            && !after.is_some_and(|c| c.is_alphanumeric());
        whole.then_some((i, i + m.len()))
    })
}

/// Replaces glossary terms that a CJK translation left in English ("在 Syria的谈判") with their
/// standard rendering ("在叙利亚的谈判"). Only terms that occur in the source are touched, only
/// as whole Latin-script words, and the spaces the model put around the English word go too.
pub fn enforce_terms(glossary: &[GlossaryEntry], source: &str, translation: &str) -> String {
    let mut out = translation.to_string();
    for g in terms_in(glossary, source) {
        out = replace_latin_word(&out, &g.source, &g.target);
    }
    out
}

/// Puts the reader's rendering where the model wrote the term base's instead ("叙利亚" for a
/// glossary saying Syria is "叙利亚国"): small models follow a prompt's glossary line less
/// than their own habit, and the term base's rendering is the habit. Only the reader's terms
/// that occur in the source and override a term-base rendering are touched.
pub fn enforce_readers_terms(
    target: &Language,
    glossary: &[GlossaryEntry],
    source: &str,
    translation: &str,
) -> String {
    // Stands in for the reader's rendering while the term base's is replaced, as the one may
    // contain the other (叙利亚国 ⊃ 叙利亚). A private-use character: never in a translation.
    const HELD: &str = "\u{E000}";
    let mut out = translation.to_string();
    for g in terms_in(glossary, source) {
        if g.origin != TermOrigin::User {
            continue;
        }
        let Some(standard) = standard_rendering(target, &g.source) else {
            continue;
        };
        if standard == g.target || !out.contains(standard) {
            continue;
        }
        out = out
            .replace(&g.target, HELD)
            .replace(standard, &g.target)
            .replace(HELD, &g.target);
    }
    out
}

/// The term base's rendering of `term` into `target`, if it has one.
fn standard_rendering(target: &Language, term: &str) -> Option<&'static str> {
    gazetteer_rows(target)
        .find(|(s, _)| *s == term)
        .map(|(_, t)| t)
        .filter(|t| !t.is_empty())
}

/// Replaces `word` where it stands as a whole Latin-script word in a CJK `text`, with the
/// spaces the model put around it ("在 Syria的" → "在叙利亚的").
pub(super) fn replace_latin_word(text: &str, word: &str, rendering: &str) -> String {
    let latin = |c: char| c.is_ascii_alphanumeric() || ('\u{C0}'..='\u{24F}').contains(&c);
    let wide = |c: char| !c.is_ascii() && !latin(c);
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        let whole = !before.is_some_and(latin) && !after.is_some_and(latin);
        let (head, tail) = (&rest[..i], &rest[i + word.len()..]);
        if !whole {
            result.push_str(&rest[..i + word.len()]);
            rest = tail;
            continue;
        }
        // Drop one space between a wide character and the word.
        let head = match head.strip_suffix(' ') {
            Some(h) if h.chars().next_back().is_none_or(wide) => h,
            _ => head,
        };
        result.push_str(head);
        result.push_str(rendering);
        rest = match tail.strip_prefix(' ') {
            Some(t) if t.chars().next().is_none_or(wide) => t,
            _ => tail,
        };
    }
    result.push_str(rest);
    result
}

/// The entries a prompt lists for `text`: those occurring in it, longest first, less a shorter
/// one whose every occurrence is part of a longer listed one ("Lavrov" only in "Sergei
/// Lavrov", "Geneva" only in "Lake Geneva"): the longer line already says it, and every line
/// is read at every paragraph.
pub(super) fn terms_to_list<'g>(
    glossary: &'g [GlossaryEntry],
    text: &str,
) -> Vec<&'g GlossaryEntry> {
    let mut listed: Vec<&GlossaryEntry> = Vec::new();
    for g in terms_in(glossary, text) {
        let covered = term_spans(text, &g.source).all(|(start, end)| {
            listed.iter().any(|l| {
                l.source.len() > g.source.len()
                    && term_spans(text, &l.source).any(|(s, e)| s <= start && end <= e)
            })
        });
        if !covered {
            listed.push(g);
        }
    }
    listed
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

/// The terminology entries `doc` uses for `target` (the model's language): the reader's own
/// (`known.user`), then the term base's, then names remembered from earlier articles, each for
/// terms no earlier source has, and for Simplified Chinese the people's names Précis renders
/// itself.
pub(crate) fn document_glossary(
    target: &Language,
    doc: &Document,
    known: &KnownTerms,
) -> Vec<GlossaryEntry> {
    let mut text = format!("{}\n{}\n", doc.title, doc.subtitle.as_deref().unwrap_or(""));
    text.push_str(&doc.body_text());
    let table = merged([
        user_entries(&known.user, &text),
        gazetteer(target),
        known.remembered.clone(),
    ]);
    let mut glossary: Vec<GlossaryEntry> = terms_in(&table, &text).into_iter().cloned().collect();
    if target.code == "zh-Hans" {
        let people = pinned_people(&text, &glossary);
        glossary.extend(people);
    }
    glossary
}
