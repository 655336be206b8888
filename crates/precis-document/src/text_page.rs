//! The article inside a web page saved or copied as plain text (a text browser's dump, "Save as
//! text", select-all + copy): menus, "Trending" lists, related headlines, share prompts, captions
//! and footers surround it. Each unit (a paragraph or a line, see `plain::split_units`) gets a
//! score from its own shape — prose (enough words, sentence punctuation, function words) scores
//! its length, menu-like text (short items, no punctuation, bullets, link-ish text, lines
//! repeated on the page) scores below zero — and the article is the contiguous run of units with
//! the largest total: a ragged edge of short lines costs little, a block of twenty menu items or
//! related headlines costs more than any paragraph is worth. A few title-like lines right before
//! that run are kept as its header; everything else is reported as left out, so the reader can
//! see and restore it.
//!
//! A clean article (the run covers everything but its header and the site's trailing lines) is
//! returned unchanged: the classifier only ever removes what lies outside the article's run.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use super::plain::{ends_with_terminal, is_boilerplate, is_separator, TextUnit};
use super::{is_cjk, LeftOut};

/// Where the article lies among a page's units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Units kept, in order: the header lines, then the article's run.
    pub kept: Vec<String>,
    /// Units left out, in page order.
    pub left_out: Vec<LeftOut>,
}

/// Function words of English prose: their share separates sentences from menus and headline
/// lists, whose words are almost all content words.
const FUNCTION_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he",
    "her", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "more", "most",
    "my", "no", "not", "of", "on", "one", "only", "or", "other", "our", "out", "over", "she", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "to", "up", "was", "we", "were", "what", "when", "where", "which", "while",
    "who", "will", "with", "would", "you", "your",
];

/// Words at which a unit counts as a full paragraph of prose.
const PROSE_WORDS: usize = 10;
/// Lines a page may repeat (its menu at top and bottom, "Share" beside every picture).
const REPEATED: usize = 2;
/// Units before the article's run that may hold its headline, dateline and standfirst.
const HEADER_WINDOW: usize = 6;

/// Shape of one unit, measured once.
struct Shape {
    /// Words; a CJK character counts as half a word (two make about one English word).
    words: usize,
    latin_words: usize,
    /// CJK characters.
    cjk: usize,
    function_share: f64,
    sentence_marks: usize,
    commas: usize,
    link_like: bool,
    bullet: bool,
}

fn shape(unit: &str, bullet: bool) -> Shape {
    let tokens: Vec<&str> = unit.split_whitespace().collect();
    let cjk = unit.chars().filter(|&c| is_cjk(c)).count();
    let latin_words = tokens
        .iter()
        .filter(|t| t.chars().any(char::is_alphanumeric) && !t.chars().any(is_cjk))
        .count();
    let function = tokens
        .iter()
        .filter(|t| {
            let w: String = t
                .chars()
                .filter(|c| c.is_alphabetic())
                .flat_map(char::to_lowercase)
                .collect();
            FUNCTION_WORDS.binary_search(&w.as_str()).is_ok()
        })
        .count();
    let chars: Vec<char> = unit.chars().collect();
    let sentence_marks = chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            matches!(c, '。' | '！' | '？')
                || (matches!(c, '.' | '!' | '?')
                    && i > 0
                    && chars[i - 1].is_alphabetic()
                    && chars
                        .get(i + 1)
                        .is_none_or(|n| n.is_whitespace() || *n == '"'))
        })
        .count();
    let commas = chars
        .iter()
        .filter(|&&c| matches!(c, ',' | '，' | '、' | ';'))
        .count();
    let lower = unit.to_lowercase();
    let link_like = lower.contains("http://")
        || lower.contains("https://")
        || lower.contains("www.")
        || unit.contains(" | ")
        || unit.contains(" › ")
        || unit.contains(" » ")
        || unit.contains("[INS:");
    Shape {
        words: latin_words + cjk / 2,
        latin_words,
        cjk,
        function_share: if latin_words == 0 {
            0.0
        } else {
            function as f64 / latin_words as f64
        },
        sentence_marks,
        commas,
        link_like,
        bullet,
    }
}

/// Share of function words over all of a page's Latin-letter words at which the page is English:
/// news prose runs near 0.4, and the low bar leaves room for the menus counted with it; pages in other
/// languages are far below.
const ENGLISH_PAGE_SHARE: f64 = 0.1;

/// Japanese kana: Japanese prose is punctuated (、。), so the unpunctuated-CJK allowance is
/// for Chinese only (a Japanese or Korean line without punctuation is a headline or a listing).
fn is_kana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}')
}

/// Korean letters (syllables and jamo); Korean prose, too, is punctuated.
fn is_hangul(c: char) -> bool {
    matches!(c, '\u{ac00}'..='\u{d7af}' | '\u{1100}'..='\u{11ff}' | '\u{3130}'..='\u{318f}')
}

/// Whether the page's text as a whole reads as English, so the function-word test applies.
fn english_page(units: &[TextUnit]) -> bool {
    let (mut function, mut words) = (0.0, 0.0);
    for u in units {
        let s = shape(&u.text, u.bullet);
        let latin = s.latin_words as f64;
        function += s.function_share * latin;
        words += latin;
    }
    words > 0.0 && function / words >= ENGLISH_PAGE_SHARE
}

/// A unit's worth to the article: positive for prose, negative for what pages put around it.
fn score(unit: &TextUnit, repeats: usize, english: bool) -> f64 {
    let (s, unit) = (shape(&unit.text, unit.bullet), unit.text.as_str());
    if is_box_header(unit) {
        return BOX_HEADER_SCORE;
    }
    if is_separator(unit) || is_boilerplate(unit) {
        return -3.0;
    }
    if is_service_notice(unit, s.words) {
        return -(s.words as f64);
    }
    let words = s.words as f64;
    // A line repeated more than twice is a menu or a button ("Share" beside every picture);
    // a long paragraph repeated is still prose (a template page may repeat its filler).
    if (repeats > REPEATED && s.words < PROSE_WORDS * 2) || s.link_like {
        return -(words.max(2.0));
    }
    // A headline shown twice (as a link and as an image's caption, or a pull quote) is not the
    // article's running text; a long text
    // shown twice is a photo's caption in a gallery and its slide, and is scored as itself.
    if repeats == REPEATED && (4..PROSE_WORDS * 2).contains(&s.words) {
        return -2.0 * words;
    }
    // The function-word test only speaks for English; elsewhere punctuation carries it alone.
    // (and only in a unit written in Latin letters: a Chinese sentence naming "DeepMind" is prose).
    let latin_unit = s.latin_words > s.cjk;
    let prose_voice = !english || !latin_unit || s.function_share >= 0.15 || s.words < PROSE_WORDS;
    let punctuated = s.sentence_marks > 0 || s.commas > 0 || ends_with_terminal(unit);
    if s.words >= PROSE_WORDS && punctuated && prose_voice {
        return words;
    }
    // Chinese writers may pause with spaces instead of commas: a long line of Chinese is a
    // sentence even unpunctuated (menu items and headlines are shorter).
    if !latin_unit && s.words >= PROSE_WORDS && !unit.chars().any(|c| is_kana(c) || is_hangul(c)) {
        return words / 2.0;
    }
    // A short line cut off with an ellipsis is a teaser's truncated headline or blurb.
    let t = unit.trim_end();
    if s.words < PROSE_WORDS && (t.ends_with('…') || t.ends_with("...")) {
        return -words.max(1.0);
    }
    if s.words < 4 {
        // Short lines: headings and list items inside an article cost little, menus add up.
        return if s.bullet { -2.0 } else { -1.0 };
    }
    // A short sentence may end a paragraph of the article; a headline or menu line costs what
    // it is long.
    // (A sentence that ends with a colon introduces a list, table or code of the article.)
    if (ends_with_terminal(unit) || unit.ends_with(':')) && prose_voice {
        return words / 2.0;
    }
    -words
}

/// Longest cookie-consent banner recognised as the site's (they run long: purposes, partners).
const CONSENT_NOTICE_WORDS: usize = 120;
/// Longest prompt recognised as the site's: a paragraph of the story that merely mentions an
/// account or a subscription is longer.
const PROMPT_WORDS: usize = 40;

/// The site speaking about itself rather than the story: a cookie and consent banner, or a
/// sign-in, subscription or share prompt. Prose in shape, so recognised by what it says.
fn is_service_notice(unit: &str, words: usize) -> bool {
    (words <= CONSENT_NOTICE_WORDS && consent_notice_regex().is_some_and(|re| re.is_match(unit)))
        || (words <= PROMPT_WORDS && site_prompt_regex().is_some_and(|re| re.is_match(unit)))
}

/// A cookie and consent banner: the site says it uses cookies or asks to accept them.
fn consent_notice_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
              \b(?:we|this\s+(?:web)?site|our\s+partners)\s+(?:and\s+our\s+partners\s+)?uses?\s+cookies\b
            | \baccept\s+(?:all\s+)?cookies\b
            | \bby\s+(?:clicking|continuing|using)\b.{0,80}\b(?:cookies|consent|agree)
            ",
        )
        .ok()
    })
    .as_ref()
}

/// Sign-in, subscription and share prompts, and "enable JavaScript".
fn site_prompt_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
              \bcookies?\s+(?:policy|settings|preferences|notice)\b
            | \b(?:log|sign)\s*(?:in|up)\b.{0,80}\b(?:free\s+)?account\b
            | \b(?:enable|turn\s+on)\s+javascript\b
            | \bsubscribe\s+to\s+our\s+newsletter\b
            | \b(?:confirm|manage)\s+your\s+subscription\b|\bcheck\s+your\s+inbox\b
            | \b(?:don'?t|do\s+not)\s+forget\s+to\s+share\b|\bshare\s+(?:it\s+)?with\s+your\s+friends\b
            ",
        )
        .ok()
    })
    .as_ref()
}

/// Lines after which a page holds only the site's: comments, tags, the author's box. What
/// follows is not the article however much it reads like prose.
fn closing_line_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)^(?:
              comments
            | (?:我要|发表|發表|网友|網友)[评評][论論]|コメント
            | reply|antworten|répondre|responder|responda
            | coment[aá]rios|comentarios|commentaires|kommentare|komentáře|commenti
            | (?:leave|post|add|write)\s+a\s+(?:comment|reply|response)
            | (?:posted|filed)\s+(?:in|under)\b.{0,80}
            | tag(?:s|ged)(?:\s+(?:with|in|as))?\s*:?.{0,120}
            | (?:etiquetas|schlagw[öo]rter|[ée]tiquettes|štítky)\s*:?.{0,120}
            | (?:comparte\s+tu\s+opini[óo]n|deja\s+(?:un|tu)\s+comentario|kommentieren|commenter)
            | about\s+the\s+author
            | (?:scroll|back|return)\s+to\s+top
            )\s*[:.…]*$",
        )
        .ok()
    })
    .as_ref()
}

/// A comment count ("11 Comments", "Comments (3)"): the head of the comments after an article,
/// but also a link beside the byline, before it. Only the first is a wall.
fn comment_count_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)^(?:
              \d+\s*(?:comments?|responses?|replies)
            | comments?\s*\(\d+\)
            | (?:我要)?[评評][论論]\s*[(（]\d+[)）]|コメント\s*[(（]?\d+[)）]?件?
            | there\s+(?:are|is)\s+\d+\s+(?:comments?|responses?)
            )\s*[:.…：]*$",
        )
        .ok()
    })
    .as_ref()
}

/// Units before a comment count that tell it follows the article (or the boxes after it): one
/// of them is prose or a box header.
const COUNT_AFTER_PROSE: usize = 3;

/// Headers of the boxes sites put after an article, and sometimes inside it ("Recommended",
/// "Related", "Share this"): costly to cross, so that the teasers below them are not taken in
/// with the article, but not a wall, so an article a box interrupts is still found whole.
fn box_header_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)^(?:
              share(?:\s+(?:this|the))?(?:\s+(?:article|story|post|page))?
            | share\s+(?:on|via)\s+.{1,40}
            | related(?:\s+(?:articles?|stories|posts|content|coverage|news|links|topics|reading))?
            | like\s+this
            | (?:more|recommended)\s+(?:from|on|for\s+you|stories|articles)\b.{0,60}
            | recommended(?:\s+\w+){0,3}
            | latest(?:\s+(?:news|stories|articles|headlines|posts))?
            | (?:art[ií]culos|artigos|noticias|not[ií]cias|mat[ée]rias)\s+relacionad[ao]s
            | verwandte\s+(?:artikel|themen)|articles?\s+(?:connexes|similaires)|articoli\s+correlati
            | (?:next|previous)\s+(?:article|story|post)(?:\s*:.{0,100})?
            | (?:siguiente|pr[óo]xim[ao])\s+(?:art[ií]culo|artigo|not[ií]cia|mat[ée]ria)(?:\s*:.{0,100})?
            | relacionad[ao]s|veja\s+tamb[ée]m|ver\s+tambi[ée]n|lesen\s+sie\s+auch|à\s+lire\s+aussi
            | související(?:\s+\w+)?|leggi\s+anche
            | sdílet(?:\s+článek)?|(?:artikel\s+)?teilen|partager(?:\s+cet\s+article)?|compartir
            | compartilh(?:e|ar)|condividi
            | read\s+next|up\s+next|what\s+to\s+read\s+next
            | you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy|be\s+interested\s+in)
            | most\s+(?:read|popular|viewed|shared|emailed)(?:\s+\w+)?
            | trending(?:\s+now|\s+stories)?
            | [【\[]?(?:相[关關](?:阅读|閱讀|新[闻聞]|文章|报道|報導)|推荐阅读|推薦閱讀|延伸[阅閱][读讀]
              |猜你喜[欢歡]|[热熱]门(?:推荐|文章|新闻|评论)|精彩推荐|更多[评評][论論]|関連記事
              |(?:\S{0,6})アクセスランキング(?:\s*\S{0,12})?|あわせて読みたい)[】\]]?
            )\s*[:.…：]*$",
        )
        .ok()
    })
    .as_ref()
}

/// A box header ("Related", "Most read"): see `box_header_regex`.
fn is_box_header(unit: &str) -> bool {
    is_short_match(box_header_regex(), unit)
}

/// Cost of crossing a box header.
const BOX_HEADER_SCORE: f64 = -25.0;

fn is_short_match(re: Option<&'static Regex>, unit: &str) -> bool {
    unit.split_whitespace().count() <= 12 && re.is_some_and(|re| re.is_match(unit))
}

/// The site's footer: a copyright line starts it.
fn footer_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^(?:©|\(c\)\s|copyright\b)|\ball\s+rights\s+reserved\b|版[权權]所有|無断転載",
        )
        .ok()
    })
    .as_ref()
}

/// A line after which the article does not continue.
fn closes_article(unit: &str) -> bool {
    is_short_match(closing_line_regex(), unit)
        || (footer_regex().is_some_and(|re| re.is_match(unit)) && shape(unit, false).words <= 60)
}

/// Which units close the article (see `closes_article`; a comment count only after prose or a
/// box header).
fn walls(units: &[TextUnit], scores: &[f64]) -> Vec<bool> {
    units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let near = i.saturating_sub(COUNT_AFTER_PROSE)..i;
            let after_article = scores[near.clone()].iter().any(|&s| s > 0.0)
                || units[near].iter().any(|u| is_box_header(&u.text));
            closes_article(&u.text)
                || (after_article && is_short_match(comment_count_regex(), &u.text))
        })
        .collect()
}

/// A later section must outscore the first strong one by this factor to be the article instead:
/// articles come before their comments and the site's teasers, which can be longer.
const LATER_SECTION_FACTOR: f64 = 2.0;

/// The run with the largest total score (Kadane) inside each section between closing lines;
/// the article is the first section's best run unless a later one is far stronger. `None` if no
/// unit scores above zero.
fn best_run(scores: &[f64], barrier: &[bool]) -> Option<(usize, usize)> {
    let mut runs: Vec<(f64, usize, usize)> = Vec::new();
    let mut best: Option<(f64, usize, usize)> = None;
    let (mut sum, mut start) = (0.0, 0);
    for (i, &s) in scores.iter().enumerate() {
        if barrier[i] {
            runs.extend(best.take());
            sum = 0.0;
            continue;
        }
        if sum <= 0.0 {
            sum = 0.0;
            start = i;
        }
        sum += s;
        if sum > 0.0 && best.is_none_or(|(b, _, _)| sum > b) {
            best = Some((sum, start, i));
        }
    }
    runs.extend(best);
    let strongest = runs.iter().map(|r| r.0).fold(0.0, f64::max);
    runs.iter()
        .find(|r| r.0 * LATER_SECTION_FACTOR >= strongest)
        .map(|&(_, a, b)| (a, b))
}

/// A picture's caption: sentences of prose closed by a credit instead of a full stop.
fn is_caption(text: &str) -> bool {
    let s = shape(text, false);
    s.words >= PROSE_WORDS * 2 && s.sentence_marks > 0 && !ends_with_terminal(text)
}

/// Share of the prose after a box header whose content words the article before it already
/// used, below which what follows is another story (a live feed, the next article), not the
/// article resuming after an inline box.
const SAME_STORY_SHARE: f64 = 0.1;

/// Letters of a word compared when telling stories apart.
const STEM_LETTERS: usize = 5;

/// Prose units after a box header compared with the article before it.
const STORY_SAMPLE_UNITS: usize = 3;
/// Units after a box header searched for that sample (bounds the work on long pages).
const STORY_SAMPLE_WINDOW: usize = 30;
/// Word stems each side needs before the comparison says anything: the sample after the header
/// and the article before it.
const MIN_STEMS_AFTER: usize = 10;
const MIN_STEMS_BEFORE: usize = 20;

/// Word stems of a unit, for telling one story from another: the first letters of each
/// lowercased word of four or more letters that is not a function word. CJK text has none
/// (it is not split into words), so the comparison never cuts a Chinese or Japanese page.
fn stems(unit: &TextUnit) -> impl Iterator<Item = String> + '_ {
    unit.text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4 && !w.chars().any(is_cjk))
        .map(str::to_lowercase)
        .filter(|w| FUNCTION_WORDS.binary_search(&w.as_str()).is_err())
        // A crude stem, so inflected forms of a name or word still match (Czech "Součkovi" and
        // "Souček" do not, but "Součka" and "Součkovi" do; English "bridges" and "bridge").
        .map(|w| w.chars().take(STEM_LETTERS).collect())
}

/// The run's end, moved back to the first box header after which the prose is about something
/// else: the article went on across its inline boxes but not into the site's next story.
fn end_at_unrelated_box(units: &[TextUnit], scores: &[f64], start: usize, end: usize) -> usize {
    // The article's stems so far, grown as the header moves on (each unit is read once).
    let mut before: HashSet<String> = HashSet::new();
    for b in start + 1..=end {
        if scores[b - 1] > 0.0 {
            before.extend(stems(&units[b - 1]));
        }
        if before.len() < MIN_STEMS_BEFORE || !is_box_header(&units[b].text) {
            continue;
        }
        let after: HashSet<String> = (b + 1..=end.min(b + STORY_SAMPLE_WINDOW))
            .filter(|&i| scores[i] > 0.0)
            .take(STORY_SAMPLE_UNITS)
            .flat_map(|i| stems(&units[i]))
            .collect();
        if after.len() < MIN_STEMS_AFTER {
            continue;
        }
        let shared = after.iter().filter(|w| before.contains(*w)).count();
        if (shared as f64) < SAME_STORY_SHARE * after.len() as f64 {
            return b - 1;
        }
    }
    end
}

/// A line that can be a headline, dateline or standfirst: not a menu item, link, or prompt.
fn header_like(unit: &TextUnit) -> bool {
    let (s, unit) = (shape(&unit.text, unit.bullet), unit.text.as_str());
    !s.bullet && !s.link_like && !is_boilerplate(unit) && !is_separator(unit) && s.words <= 60
}

/// Every unit's score.
fn unit_scores(units: &[TextUnit], counts: &HashMap<&str, usize>) -> Vec<f64> {
    let english = english_page(units);
    units
        .iter()
        .map(|u| score(u, counts[u.text.as_str()], english))
        .collect()
}

/// How often each unit's text occurs on the page.
fn line_counts(units: &[TextUnit]) -> HashMap<&str, usize> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for u in units {
        *counts.entry(u.text.as_str()).or_insert(0) += 1;
    }
    counts
}

/// Splits a page's units into the article (header + run) and what was left out.
pub(crate) fn select_article(units: Vec<TextUnit>) -> Selection {
    let counts = line_counts(&units);
    let scores = unit_scores(&units, &counts);
    let barrier = walls(&units, &scores);
    let Some((start, end)) = best_run(&scores, &barrier) else {
        return Selection {
            kept: units.into_iter().map(|u| u.text).collect(),
            left_out: Vec::new(),
        };
    };
    let end = end_at_unrelated_box(&units, &scores, start, end);
    // The header: title-like lines right before the run, nearest first, stopping at a menu
    // (a separator line between header and body is passed over).
    let mut header_start = start;
    while header_start > 0 && start - header_start < HEADER_WINDOW {
        let unit = &units[header_start - 1];
        let fits = is_separator(&unit.text)
            || (header_like(unit) && counts[unit.text.as_str()] <= REPEATED);
        if !fits {
            break;
        }
        header_start -= 1;
    }
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, text) in units.into_iter().map(|u| u.text).enumerate() {
        // A caption shown twice (under a gallery's picture and on its slide) is read once; it
        // ends with its credit, not a full stop (filler paragraphs a page repeats are kept).
        let inside = (header_start..=end).contains(&line);
        let shown_before = inside && is_caption(&text) && !seen.insert(text.clone());
        if inside && !shown_before {
            kept.push(text);
        } else {
            left_out.push(LeftOut {
                line,
                text,
                before_article: line < header_start,
                restored: false,
            });
        }
    }
    Selection { kept, left_out }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Development aid: `PRECIS_SHOW_UNITS=page.txt cargo test --release --workspace --lib
    /// show_units -- --ignored --nocapture` prints each unit's score and whether it was kept.
    #[test]
    #[ignore = "development aid"]
    fn show_units() {
        let Some(path) = std::env::var_os("PRECIS_SHOW_UNITS") else {
            return;
        };
        let text = std::fs::read_to_string(path).expect("readable page");
        let units = crate::plain::split_units(&text);
        let counts = line_counts(&units);
        let scores = unit_scores(&units, &counts);
        let barrier = walls(&units, &scores);
        let run = best_run(&scores, &barrier);
        for (i, (u, s)) in units.iter().zip(&scores).enumerate() {
            let inside = run.is_some_and(|(a, b)| (a..=b).contains(&i));
            let text: String = u.text.chars().take(90).collect();
            println!("{} {s:6.1} {text}", if inside { '+' } else { ' ' });
        }
    }

    /// Units of a page; a line starting with `• ` is a list item, as a text browser shows one.
    fn units(lines: &[&str]) -> Vec<TextUnit> {
        lines
            .iter()
            .map(|l| TextUnit {
                text: l.trim_start_matches("• ").to_owned(),
                bullet: l.starts_with("• "),
            })
            .collect()
    }

    const PARAGRAPH: &str =
        "The council voted on Monday to approve the new bridge over the river, \
        which will cost about $40 million and take two years to build.";

    #[test]
    fn menu_related_headlines_and_comments_are_left_out() {
        let page = units(&[
            "• Home", "• News", "• Sport", "• Weather", "• Business",
            "Council approves new bridge",
            PARAGRAPH,
            "Work will begin in March, officials said, and the old crossing will stay open until then.",
            "Related",
            "Mayor opens new library in the city centre",
            "Five things to do this weekend in town",
            "3 comments",
            "I think this is a great idea and the council should have done it years ago, frankly.",
        ]);
        let sel = select_article(page);
        assert_eq!(sel.kept[0], "Council approves new bridge");
        assert_eq!(sel.kept.len(), 3);
        let before: Vec<&str> = sel
            .left_out
            .iter()
            .filter(|l| l.before_article)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(before, ["Home", "News", "Sport", "Weather", "Business"]);
        assert!(sel
            .left_out
            .iter()
            .any(|l| l.text.starts_with("I think this is")));
        assert!(sel.left_out.windows(2).all(|w| w[0].line < w[1].line));
    }

    #[test]
    fn a_box_inside_the_article_does_not_cut_it() {
        let page = units(&[
            PARAGRAPH, PARAGRAPH, "Recommended", "Mayor opens new library", "Five things to do",
            "Engineers expect the bridge to carry about 20,000 cars a day once it opens to traffic.",
            "The old crossing, built in 1932, will be kept for pedestrians and cyclists, the council said.",
            "Residents who asked for the bridge for a decade said they were relieved that the vote had passed.",
        ]);
        let sel = select_article(page);
        assert!(sel.kept.last().unwrap().starts_with("Residents who asked"));
        assert_eq!(
            sel.kept.len(),
            8,
            "the box stays, to be dropped only by its own lines"
        );
    }

    #[test]
    fn the_next_story_after_a_box_is_left_out() {
        let page = units(&[
            PARAGRAPH,
            "Engineers expect the bridge to carry about 20,000 cars a day once it opens to traffic.",
            "The old crossing, built in 1932, will be kept for pedestrians and cyclists, the council said.",
            "Related",
            "Mayor opens new library",
            "A storm flooded three villages in the north overnight, and rescue teams evacuated hundreds of families from their homes.",
            "Forecasters warned that heavy rainfall would continue through Friday, with rivers expected to peak this weekend.",
            "Emergency shelters opened in schools and sports halls, where volunteers handed out blankets and hot meals.",
        ]);
        let sel = select_article(page);
        assert_eq!(sel.kept.len(), 3, "{:?}", sel.kept);
        assert!(sel
            .left_out
            .iter()
            .any(|l| l.text.starts_with("A storm flooded")));
    }

    #[test]
    fn the_same_story_goes_on_after_a_box() {
        let page = units(&[
            PARAGRAPH,
            "Engineers expect the bridge to carry about 20,000 cars a day once it opens to traffic next spring.",
            "The old crossing, built in 1932, will be kept for pedestrians and cyclists, the council said on Monday.",
            "Related",
            "Mayor opens new library",
            "Council engineers said the bridge would open to cars in spring, and the old crossing would close for repairs.",
            "Cyclists and pedestrians will use the old crossing again once the repairs are finished, the council said.",
            "The council expects traffic on the new bridge to reach 20,000 cars a day within a year of its opening.",
        ]);
        let sel = select_article(page);
        assert_eq!(sel.kept.len(), 8, "{:?}", sel.left_out);
    }

    #[test]
    fn a_page_without_prose_is_kept_whole() {
        let sel = select_article(units(&["Test Case 1", "Test Case 2"]));
        assert_eq!(sel.kept.len(), 2);
        assert!(sel.left_out.is_empty());
    }

    #[test]
    fn every_pattern_compiles() {
        assert!(closing_line_regex().is_some());
        assert!(comment_count_regex().is_some());
        assert!(box_header_regex().is_some());
        assert!(footer_regex().is_some());
        assert!(consent_notice_regex().is_some());
        assert!(site_prompt_regex().is_some());
        let matches =
            |re: Option<&'static Regex>, text: &str| re.is_some_and(|re| re.is_match(text));
        assert!(matches(comment_count_regex(), "11 Comments"));
        assert!(matches(box_header_regex(), "【相关阅读】"));
        assert!(matches(box_header_regex(), "Related articles"));
        assert!(matches(closing_line_regex(), "Posted in World News"));
        assert!(matches(
            footer_regex(),
            "© 2024 The Daily Paper. All rights reserved."
        ));
        assert!(matches(
            consent_notice_regex(),
            "We use cookies to improve your experience."
        ));
        assert!(matches(
            site_prompt_regex(),
            "Sign up for a free account to save articles."
        ));
        assert!(!matches(
            box_header_regex(),
            "Related parties agreed to the deal"
        ));
        assert!(!matches(
            comment_count_regex(),
            "11 people commented on the plan"
        ));
    }

    #[test]
    fn function_words_are_sorted_for_binary_search() {
        assert!(FUNCTION_WORDS.windows(2).all(|w| w[0] < w[1]));
    }
}
