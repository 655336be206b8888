//! Structure recovery for plain text and Markdown articles: dateline, headline,
//! subhead, body paragraphs, and removal of separators and boilerplate lines.
//!
//! The heuristics are generic (no site-specific words):
//! * text is cut into *units*: blank-line separated blocks; inside a block each
//!   line is its own unit unless the block is a hard-wrapped paragraph (lines of
//!   similar length, at most ~100 characters) or a line continues the previous one
//!   (previous line has no terminal punctuation and the next starts lowercase);
//! * lone separator lines (`-`, `—`, `***`, `___`, `===`, `•` …) are dropped;
//! * lines matching a small generic boilerplate list (advertisement, share/follow/
//!   subscribe prompts, copyright lines, "Read more", "Related:" …) are dropped;
//! * the leading run of short lines without sentence punctuation holds the
//!   dateline/headline/subhead: 1 line = headline; 2 = headline + subhead;
//!   3+ = dateline, headline, subhead (further lines are appended to the dateline);
//! * the trailing run of short lines without sentence punctuation is boilerplate.

use std::sync::OnceLock;

use regex::Regex;

use super::raw::RawDocument;

/// Maximum number of words of a "short" header/trailer line.
const SHORT_HEADER_WORDS: usize = 30;
/// Maximum number of words of a trailing boilerplate line.
const SHORT_TRAILER_WORDS: usize = 12;
/// Lines longer than this are never treated as hard-wrapped.
const MAX_WRAP_WIDTH: usize = 100;

/// Collapses all runs of whitespace into single spaces and trims.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The letters and digits of `text`, lowercased: what two renderings of the same line (a
/// title in the metadata and in the body) have in common whatever their punctuation and case.
pub(crate) fn letters_and_digits(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the text ends like a sentence (`.`, `!`, `?`, `…`, CJK stops or a closing quote).
pub(crate) fn ends_with_terminal(text: &str) -> bool {
    text.trim_end().chars().next_back().is_some_and(|c| {
        matches!(
            c,
            '.' | '!' | '?' | '…' | '。' | '！' | '？' | '”' | '"' | '’' | '»' | '」' | '』'
        )
    })
}

/// A line made only of separator characters (`-`, `—`, `*`, `_`, `=`, `•`, `~`, `#` …).
pub(crate) fn is_separator(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.chars().all(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '-' | '—'
                        | '–'
                        | '−'
                        | '_'
                        | '*'
                        | '='
                        | '•'
                        | '·'
                        | '~'
                        | '#'
                        | '+'
                        | '.'
                        | '…'
                        | '∙'
                        | '◆'
                        | '◇'
                        | '■'
                        | '□'
                        | '●'
                        | '○'
                        | '§'
                        | '/'
                        | '\\'
                        | '|'
                )
        })
}

fn boilerplate_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)^(?:
              advert(?:isement|isements)?
            | sponsored(?:\s+content|\s+links?)?
            | promoted(?:\s+content|\s+stories)?
            | (?:share|tweet|email|e-mail|print|save)(?:\s+(?:this|the))?(?:\s+(?:article|story|page|post|link))?(?:\s+(?:on|via|with)\s+.{1,40})?\s*:?
            | share\s+(?:on|via)\s+.{1,40}
            | follow\s+us(?:\s+on\s+.{1,60})?\s*[:.!]?
            | like\s+us\s+on\s+.{1,40}
            | (?:subscribe|sign\s+up|register)(?:\s+(?:now|today|here))?(?:\s+(?:to|for)\s+.{1,60})?\s*[:.!]?
            | (?:click|tap)\s+here\b.{0,80}
            | (?:©|\(c\)|copyright\b).{0,150}
            | .{0,100}\ball\s+rights\s+reserved\.?
            | (?:read|see|view)\s+(?:more|also|full\s+(?:story|article))\b.{0,100}
            | also\s+read\b.{0,100}
            | related(?:\s+(?:articles?|stories|content|coverage|news|topics|links))?\s*:.{0,150}
            | related(?:\s+(?:articles?|stories|content|coverage|news|topics|links))?
            | more\s+(?:from|on|stories\s+from)\s+.{1,60}
            | recommended(?:\s+for\s+you)?|most\s+(?:read|popular|viewed|shared)
            | comments?(?:\s*\(\d+\))?|leave\s+a\s+(?:comment|reply)|\d+\s+comments?
            | (?:skip|jump)\s+to\s+(?:main\s+)?(?:content|navigation)|back\s+to\s+top
            | loading(?:\.{1,3}|…)?|newsletter|cookie\s+(?:policy|settings)|privacy\s+policy|terms\s+of\s+(?:use|service)
            | (?:image|photo|picture)\s*(?:credit)?\s*:.{0,100}
            )$",
        )
        .ok()
    })
    .as_ref()
}

/// Whether a line is generic boilerplate (advertising, share prompts, copyright …).
/// Only short lines qualify, so a real sentence is never dropped.
pub(crate) fn is_boilerplate(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return false;
    }
    if t.split_whitespace().count() > 25 {
        return false;
    }
    boilerplate_regex().is_some_and(|re| re.is_match(t))
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// A "short line": not sentence-like, at most `max_words` words.
fn is_short_line(text: &str, max_words: usize) -> bool {
    !ends_with_terminal(text) && word_count(text) <= max_words && text.chars().count() <= 250
}

/// Strips a leading bullet marker (`• `, `* `, `- `, `– `) from a plain-text line.
fn strip_bullet(line: &str) -> &str {
    // Text browsers mark nested items with `+`, `o`, `□`, `☆` (lynx, w3m).
    for marker in [
        "• ", "· ", "▪ ", "* ", "- ", "– ", "+ ", "o ", "□ ", "☆ ", "◦ ",
    ] {
        if let Some(rest) = line.strip_prefix(marker) {
            if !rest.trim().is_empty() {
                return rest;
            }
        }
    }
    line
}

fn starts_lowercase(text: &str) -> bool {
    text.chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(char::is_lowercase)
        && text.chars().next().is_some_and(|c| c.is_alphabetic())
}

fn is_bullet(line: &str) -> bool {
    strip_bullet(line).len() != line.len()
}

/// One unit of a text page: a paragraph or a line, and whether it was a list item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextUnit {
    pub text: String,
    pub bullet: bool,
}

impl TextUnit {
    fn of_line(line: &str) -> Self {
        TextUnit {
            text: collapse_whitespace(strip_bullet(line)),
            bullet: is_bullet(line),
        }
    }
}

/// Turns one blank-line separated block into units.
fn block_units(lines: &[&str]) -> Vec<TextUnit> {
    let lines: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
    if lines.len() == 1 {
        return vec![TextUnit::of_line(lines[0])];
    }
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let hard_wrapped = (30..=MAX_WRAP_WIDTH).contains(&width)
        && !lines.iter().any(|l| is_bullet(l) || is_separator(l))
        && lines[..lines.len() - 1]
            .iter()
            .all(|l| l.chars().count() * 10 >= width * 6);
    if hard_wrapped {
        return vec![TextUnit {
            text: collapse_whitespace(&lines.join(" ")),
            bullet: false,
        }];
    }
    let mut units: Vec<TextUnit> = Vec::new();
    for line in lines {
        let continues = !is_bullet(line)
            && !is_separator(line)
            && starts_lowercase(line)
            && units
                .last()
                .is_some_and(|prev| !ends_with_terminal(&prev.text) && !is_separator(&prev.text));
        match units.last_mut() {
            Some(prev) if continues => {
                prev.text.push(' ');
                prev.text.push_str(&collapse_whitespace(line));
            }
            _ => units.push(TextUnit::of_line(line)),
        }
    }
    units
}

/// Cuts plain text into units (see module docs).
pub(crate) fn split_units(text: &str) -> Vec<TextUnit> {
    let mut units = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                units.extend(block_units(&block));
                block.clear();
            }
        } else {
            block.push(line);
        }
    }
    if !block.is_empty() {
        units.extend(block_units(&block));
    }
    units.retain(|u| !u.text.is_empty());
    units
}

/// Plain-text article structure.
pub fn parse_text(text: &str) -> RawDocument {
    let selection = super::text_page::select_article(split_units(text));
    let mut doc = structure(selection.kept, None);
    doc.left_out = selection.left_out;
    doc
}

/// Assigns header lines, drops separators/boilerplate and the trailing run.
/// `title` is a headline already known (Markdown `#` heading); when given, the
/// leading-run heuristic is not used for the headline.
fn structure(units: Vec<String>, known: Option<KnownHeader>) -> RawDocument {
    let cleaned: Vec<String> = units
        .into_iter()
        .filter(|u| !is_separator(u) && !is_boilerplate(u))
        .collect();
    if cleaned.is_empty() {
        return RawDocument::default();
    }
    let mut doc = RawDocument::default();
    let mut body_start = 0;
    let known_title = known.is_some();
    if let Some(known) = known {
        doc.title = known.title;
        doc.subtitle = known.subtitle;
        doc.dateline = known.dateline;
    } else {
        let first_sentence = cleaned
            .iter()
            .position(|u| !is_short_line(u, SHORT_HEADER_WORDS));
        match first_sentence {
            // Nothing sentence-like at all: only the first line is the headline.
            None => {
                doc.title = cleaned[0].clone();
                body_start = 1;
            }
            Some(n) => {
                assign_header(&cleaned[..n], &mut doc);
                body_start = n;
            }
        }
    }
    let mut body: Vec<String> = cleaned[body_start..].to_vec();
    // Trailing run of short, non-sentence lines is service boilerplate.
    let keep = body
        .iter()
        .rposition(|u| !is_short_line(u, SHORT_TRAILER_WORDS))
        .map_or(0, |i| i + 1);
    if keep > 0 {
        body.truncate(keep);
    }
    if body.is_empty() {
        if !doc.title.is_empty() && known_title {
            return doc;
        }
        // Fallback: no recognisable structure — keep all text as body.
        return RawDocument {
            paragraphs: cleaned,
            ..RawDocument::default()
        };
    }
    doc.paragraphs = body;
    doc
}

fn meta_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)^(?:
              (?:by|from|von|par|por|di|door|av)\s+\p{Lu}.*
            | (?:published|updated|posted|last\s+updated|first\s+published)\b.*
            )$",
        )
        .ok()
    })
    .as_ref()
}

fn date_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
              \b\d{4}-\d{1,2}-\d{1,2}\b
            | \b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b
            | \b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b
            | \b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b
            | \b\d{1,2}:\d{2}\b",
        )
        .ok()
    })
    .as_ref()
}

/// A byline ("By Jane Doe") or a short date/publication-time line.
fn is_meta_line(text: &str) -> bool {
    let words = word_count(text);
    (words <= 8 && meta_regex().is_some_and(|re| re.is_match(text)))
        || (words <= 6 && date_regex().is_some_and(|re| re.is_match(text)))
}

/// Distributes the leading run of short lines over dateline, headline and subhead.
/// Bylines and date lines go to the dateline; of the remaining lines, 1 is the
/// headline, 2 are headline + subhead, 3+ are dateline, headline, subhead (and
/// any further lines are appended to the dateline).
fn assign_header(header: &[String], doc: &mut RawDocument) {
    let (meta, main): (Vec<&String>, Vec<&String>) =
        header.iter().partition(|line| is_meta_line(line));
    let (meta, main) = if main.is_empty() {
        (Vec::new(), header.iter().collect())
    } else {
        (meta, main)
    };
    let mut dateline: Vec<&str> = Vec::new();
    match main.as_slice() {
        [] => {}
        [title] => doc.title = (*title).clone(),
        [title, subtitle] => {
            doc.title = (*title).clone();
            doc.subtitle = Some((*subtitle).clone());
        }
        [first, title, subtitle, rest @ ..] => {
            dateline.push(first);
            doc.title = (*title).clone();
            doc.subtitle = Some((*subtitle).clone());
            dateline.extend(rest.iter().map(|s| s.as_str()));
        }
    }
    dateline.extend(meta.iter().map(|s| s.as_str()));
    if !dateline.is_empty() {
        doc.dateline = Some(dateline.join(" · "));
    }
}

struct KnownHeader {
    title: String,
    subtitle: Option<String>,
    dateline: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MdKind {
    Text,
    Heading(u8),
    Emphasised,
}

fn md_regexes() -> Option<&'static [(Regex, &'static str)]> {
    static RE: OnceLock<Option<Vec<(Regex, &'static str)>>> = OnceLock::new();
    RE.get_or_init(|| {
        let rules: [(&str, &'static str); 11] = [
            (r"!\[([^\]]*)\]\([^)]*\)", ""),
            (r"!\[([^\]]*)\]\[[^\]]*\]", ""),
            (r"\[([^\]]+)\]\([^)]*\)", "$1"),
            (r"\[([^\]]+)\]\[[^\]]*\]", "$1"),
            (r"<(https?://[^>\s]+)>", "$1"),
            (r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", ""),
            (r"\*\*([^*]+?)\*\*", "$1"),
            (r"__([^_]+?)__", "$1"),
            (r"\*([^*\s](?:[^*]*?[^*\s])?)\*", "$1"),
            (r"(^|[^\w])_([^_\s](?:[^_]*?[^_\s])?)_([^\w]|$)", "$1$2$3"),
            (r"`([^`]*)`", "$1"),
        ];
        let mut out = Vec::new();
        for (pattern, replacement) in rules {
            out.push((Regex::new(pattern).ok()?, replacement));
        }
        Some(out)
    })
    .as_deref()
}

/// Removes inline Markdown syntax (emphasis, links, images, code, inline HTML).
pub(crate) fn strip_inline_markdown(text: &str) -> String {
    let mut out = text.to_owned();
    if let Some(rules) = md_regexes() {
        for (re, replacement) in rules {
            out = re.replace_all(&out, *replacement).into_owned();
        }
    }
    let out = out
        .replace("\\*", "*")
        .replace("\\_", "_")
        .replace("\\#", "#");
    collapse_whitespace(&out)
}

fn fully_emphasised(text: &str) -> bool {
    let t = text.trim();
    t.len() > 2
        && ((t.starts_with('*') && t.ends_with('*')) || (t.starts_with('_') && t.ends_with('_')))
}

/// Returns `(level, text)` for an ATX heading line.
fn atx_heading(line: &str) -> Option<(u8, &str)> {
    let t = line.trim_start();
    let hashes = t.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &t[hashes..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim_end();
    u8::try_from(hashes).ok().map(|level| (level, text))
}

fn list_item(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some(rest);
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 10 {
        let rest = &t[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(rest);
        }
    }
    None
}

fn is_setext_underline(line: &str, ch: char) -> bool {
    let t = line.trim();
    t.len() >= 2 && t.chars().all(|c| c == ch)
}

/// Cuts Markdown into units with their kind.
fn markdown_units(text: &str) -> Vec<(String, MdKind)> {
    let mut lines: Vec<&str> = text.lines().collect();
    // YAML front matter.
    let mut front_title = None;
    if lines.first().is_some_and(|l| l.trim() == "---") {
        if let Some(end) = lines.iter().skip(1).position(|l| l.trim() == "---") {
            for l in &lines[1..=end] {
                if let Some(v) = l.trim().strip_prefix("title:") {
                    front_title = Some(v.trim().trim_matches(['"', '\'']).to_owned());
                }
            }
            lines.drain(..=end + 1);
        }
    }
    let mut units: Vec<(String, MdKind)> = Vec::new();
    if let Some(t) = front_title.filter(|t| !t.is_empty()) {
        units.push((t, MdKind::Heading(1)));
    }
    let mut para: Vec<&str> = Vec::new();
    let mut in_fence = false;
    let flush = |para: &mut Vec<&str>, units: &mut Vec<(String, MdKind)>| {
        if para.is_empty() {
            return;
        }
        let joined = para.join(" ");
        let kind = if fully_emphasised(&joined) {
            MdKind::Emphasised
        } else {
            MdKind::Text
        };
        let text = strip_inline_markdown(&joined);
        if !text.is_empty() {
            units.push((text, kind));
        }
        para.clear();
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        i += 1;
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut para, &mut units);
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if trimmed.is_empty() {
            flush(&mut para, &mut units);
            continue;
        }
        // Link reference definitions.
        if trimmed.starts_with('[') && trimmed.contains("]:") && !trimmed.contains(' ') {
            continue;
        }
        if let Some((level, heading)) = atx_heading(trimmed) {
            flush(&mut para, &mut units);
            let text = strip_inline_markdown(heading);
            if !text.is_empty() {
                units.push((text, MdKind::Heading(level)));
            }
            continue;
        }
        // Setext heading: a paragraph line followed by === or ---.
        if para.is_empty() {
            if let Some(next) = lines.get(i) {
                let level = if is_setext_underline(next, '=') {
                    Some(1)
                } else if is_setext_underline(next, '-') {
                    Some(2)
                } else {
                    None
                };
                if let Some(level) = level {
                    let text = strip_inline_markdown(trimmed);
                    if !text.is_empty() && !is_separator(&text) {
                        units.push((text, MdKind::Heading(level)));
                        i += 1;
                        continue;
                    }
                }
            }
        }
        if is_separator(trimmed) {
            flush(&mut para, &mut units);
            continue;
        }
        let content = trimmed.trim_start_matches('>').trim_start();
        if content.is_empty() {
            flush(&mut para, &mut units);
            continue;
        }
        if let Some(item) = list_item(content) {
            flush(&mut para, &mut units);
            para.push(item);
            flush(&mut para, &mut units);
            continue;
        }
        para.push(content);
    }
    flush(&mut para, &mut units);
    units
}

/// Markdown article structure: the first level-1 heading is the headline, short
/// lines before it form the dateline, a heading or fully emphasised line right
/// after it is the subhead; other headings become their own paragraphs. Without
/// a level-1 heading the plain-text heuristics apply.
pub fn parse_markdown(text: &str) -> RawDocument {
    let units = markdown_units(text);
    let Some(h1) = units
        .iter()
        .position(|(t, k)| *k == MdKind::Heading(1) && !is_separator(t))
    else {
        return structure(units.into_iter().map(|(t, _)| t).collect(), None);
    };
    let before: Vec<&str> = units[..h1]
        .iter()
        .map(|(t, _)| t.as_str())
        .filter(|t| !is_separator(t) && !is_boilerplate(t))
        .collect();
    let dateline = (!before.is_empty()
        && before.iter().all(|t| is_short_line(t, SHORT_HEADER_WORDS)))
    .then(|| before.join(" · "));
    let mut rest = h1 + 1;
    let subtitle = match units.get(rest) {
        Some((t, MdKind::Heading(level))) if *level >= 2 => Some(t.clone()),
        Some((t, MdKind::Emphasised)) => Some(t.clone()),
        _ => None,
    };
    if subtitle.is_some() {
        rest += 1;
    }
    let mut body_units: Vec<String> = Vec::new();
    if dateline.is_none() {
        body_units.extend(before.iter().map(|t| (*t).to_owned()));
    }
    body_units.extend(units[rest..].iter().map(|(t, _)| t.clone()));
    let known = KnownHeader {
        title: units[h1].0.clone(),
        subtitle,
        dateline,
    };
    structure(body_units, Some(known))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../tests/fixtures/global-times-syria-ceasefire.txt");

    #[test]
    fn sample_structure() {
        let doc = parse_text(SAMPLE);
        assert_eq!(doc.dateline.as_deref(), Some("Global Times - Weekend"));
        assert_eq!(doc.title, "US, Russia tussle over Syria cease-fire deal");
        assert!(doc
            .subtitle
            .as_deref()
            .is_some_and(|s| s.contains("Aleppo")));
        assert_eq!(doc.paragraphs.len(), 11);
        assert!(doc.paragraphs[0].starts_with("The US and Russia on Friday"));
        assert!(doc.paragraphs[10].starts_with("Pro-government forces"));
        for p in &doc.paragraphs {
            assert_ne!(p, "-");
            assert!(!p.contains("Newspapers in English"));
            assert!(!p.contains("Newspapers from China"));
        }
    }

    #[test]
    fn sample_without_blank_lines() {
        let squeezed: String = SAMPLE
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let doc = parse_text(&squeezed);
        assert_eq!(doc.dateline.as_deref(), Some("Global Times - Weekend"));
        assert_eq!(doc.title, "US, Russia tussle over Syria cease-fire deal");
        assert_eq!(doc.paragraphs.len(), 11);
    }

    const TECH: &str = "\
Quantum chip maker unveils faster processor

Startup claims its new device beats rivals on error rates

By Jane Doe

A small laboratory in Delft said on Tuesday that its latest quantum processor
made fewer errors than any machine built so far, a result that could speed up
the arrival of practical quantum computers.

Advertisement

The company, founded five years ago by physicists from a local university,
has raised about $40 million from investors. Its chief executive said the chip
would be offered to research groups next year.

Independent experts were cautious. \"The numbers look good, but they need to be
reproduced,\" said one professor who was not involved in the work.

***

Share this:

Twitter
Facebook
";

    #[test]
    fn synthetic_tech_story() {
        let doc = parse_text(TECH);
        assert_eq!(doc.title, "Quantum chip maker unveils faster processor");
        assert_eq!(
            doc.subtitle.as_deref(),
            Some("Startup claims its new device beats rivals on error rates")
        );
        assert_eq!(doc.dateline.as_deref(), Some("By Jane Doe"));
        assert_eq!(doc.paragraphs.len(), 3);
        assert!(doc.paragraphs[0].starts_with("A small laboratory in Delft"));
        assert!(doc.paragraphs[0].ends_with("practical quantum computers."));
        assert!(doc.paragraphs[2].ends_with("not involved in the work."));
        for p in &doc.paragraphs {
            assert!(!p.contains("Advertisement"));
            assert!(!p.contains("Share this"));
            assert!(!p.contains("Twitter"));
        }
    }

    #[test]
    fn headline_and_subhead_only() {
        let text = "Council approves new bridge\n\nConstruction to begin in spring\n\n\
                    The city council voted on Monday to approve a new bridge over the river.\n\n\
                    Follow us on Twitter\n\n\
                    Work will begin in March and take two years.\n\n\
                    © 2024 Example Media. All rights reserved.\n";
        let doc = parse_text(text);
        assert_eq!(doc.dateline, None);
        assert_eq!(doc.title, "Council approves new bridge");
        assert_eq!(
            doc.subtitle.as_deref(),
            Some("Construction to begin in spring")
        );
        assert_eq!(
            doc.paragraphs,
            vec![
                "The city council voted on Monday to approve a new bridge over the river.",
                "Work will begin in March and take two years."
            ]
        );
    }

    #[test]
    fn no_header_at_all() {
        let doc = parse_text("Just one sentence here. And another one.");
        assert_eq!(doc.title, "");
        assert_eq!(
            doc.paragraphs,
            vec!["Just one sentence here. And another one."]
        );
    }

    #[test]
    fn only_short_lines_fallback() {
        let doc = parse_text("hello world");
        assert_eq!(doc.paragraphs, vec!["hello world"]);
        let doc = parse_text("Headline here\nbody without punctuation");
        assert_eq!(doc.title, "");
        assert_eq!(
            doc.paragraphs,
            vec!["Headline here body without punctuation"]
        );
    }

    #[test]
    fn boilerplate_never_drops_sentences() {
        assert!(is_boilerplate("Advertisement"));
        assert!(is_boilerplate("Share this article"));
        assert!(is_boilerplate("Share this:"));
        assert!(is_boilerplate("Follow us on Twitter"));
        assert!(is_boilerplate("© 2016 Global Media"));
        assert!(is_boilerplate("Read more: Why prices rise"));
        assert!(is_boilerplate("Related: Election results"));
        assert!(!is_boilerplate(
            "Subscribers to the service complained that prices rose sharply this year."
        ));
        assert!(!is_boilerplate(
            "Share prices fell 3% on Monday after the announcement."
        ));
    }

    #[test]
    fn separators() {
        for s in ["-", "—", "*", "***", "* * *", "___", "===", "•"] {
            assert!(is_separator(s), "{s}");
        }
        assert!(!is_separator("- item"));
    }

    #[test]
    fn markdown_structure() {
        let md = "\
# Rivers run **dry** across the region

*Farmers warn of a second failed harvest*

Water levels in the [main river](https://example.com) fell to a record low this
week, officials said.

## What comes next

- Rationing starts on Monday.
- Wells will be inspected.

> \"We have never seen anything like it,\" said a farmer.

---

Share this article
";
        let doc = parse_markdown(md);
        assert_eq!(doc.title, "Rivers run dry across the region");
        assert_eq!(
            doc.subtitle.as_deref(),
            Some("Farmers warn of a second failed harvest")
        );
        assert_eq!(
            doc.paragraphs,
            vec![
                "Water levels in the main river fell to a record low this week, officials said.",
                "What comes next",
                "Rationing starts on Monday.",
                "Wells will be inspected.",
                "\"We have never seen anything like it,\" said a farmer.",
            ]
        );
    }

    #[test]
    fn markdown_without_h1_uses_plain_rules() {
        let doc = parse_markdown("Some headline\n\nA body sentence that is long enough.\n");
        assert_eq!(doc.title, "Some headline");
        assert_eq!(doc.paragraphs, vec!["A body sentence that is long enough."]);
    }
}
