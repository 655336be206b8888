//! Rule-based sentence splitter for news prose.
//!
//! A sentence ends at `.`, `!`, `?`, `…` (or a run of them such as `?!` or `...`)
//! followed by optional closing quotes/brackets and then whitespace or the end of
//! the text, and at the CJK full stops `。！？` (no space needed).
//!
//! A candidate boundary is *not* a split when:
//! * the next word starts with a lowercase letter (ellipsis inside a sentence,
//!   `"… over," he said` style continuations, `U.S. officials`, `e.g. the`);
//! * the period closes a title/never-final abbreviation (`Mr.`, `Dr.`, `Gen.`,
//!   `Jan.`, `No.`, `vs.`, `e.g.` …);
//! * the period is part of a number (`3.5`, `$4.5 billion`) — such a period is
//!   never followed by whitespace, so it is never a candidate.
//!
//! Ambiguous cases — a single-letter initial (`John F. Kennedy`), a dotted acronym
//! (`U.S.`, `U.K.`, `a.m.`) or an abbreviation that often ends a sentence (`Inc.`,
//! `Ltd.`, `Jr.`, `etc.`) followed by a capitalised word — are split **only if the
//! next word is a common sentence starter** (`The`, `A`, `It`, `He`, `But`, `In`, …).
//! So `in the U.S. The next day` splits after `U.S.`, while `the U.S. Senate`,
//! `U.S. President Obama` and `John F. Kennedy` stay together. The price is that
//! `… moved to the U.S. Senators then …` is not split; a missed split is much less
//! harmful to summaries than a sentence cut in half.

/// Closing punctuation that belongs to the sentence before a boundary.
const CLOSERS: &[char] = &[
    '"', '\'', '”', '’', '»', '›', ')', ']', '}', '」', '』', '）', '】', '》', '〉',
];
/// Opening punctuation skipped when looking at the next word.
const OPENERS: &[char] = &[
    '"', '\'', '“', '‘', '«', '‹', '(', '[', '{', '「', '『', '（', '【', '《', '〈', '¿', '¡',
];

/// Abbreviations after which a sentence (practically) never ends.
const NEVER_FINAL: &[&str] = &[
    "mr", "mrs", "ms", "mx", "dr", "prof", "st", "gen", "col", "lt", "sgt", "cpl", "pvt", "capt",
    "cmdr", "maj", "adm", "gov", "sen", "rep", "rev", "hon", "pres", "supt", "insp", "det", "fr",
    "mt", "ft", "messrs", "mme", "mlle", "vs", "v", "e.g", "i.e", "cf", "approx", "ca", "no",
    "nos", "vol", "vols", "p", "pp", "fig", "figs", "art", "sec", "ch", "chap", "ed", "eds", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue",
    "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "est", "dept", "univ", "assn",
    "ave", "blvd", "rd", "hwy",
];

/// Abbreviations that may or may not end a sentence.
const MAYBE_FINAL: &[&str] = &[
    "inc", "ltd", "co", "corp", "plc", "llc", "llp", "bros", "jr", "sr", "etc", "al",
];

/// Capitalised words that commonly start a new sentence. Used to resolve the
/// ambiguous cases described in the module documentation.
const STARTERS: &[&str] = &[
    "a",
    "an",
    "the",
    "it",
    "its",
    "he",
    "she",
    "they",
    "we",
    "i",
    "you",
    "his",
    "her",
    "their",
    "our",
    "my",
    "your",
    "this",
    "that",
    "these",
    "those",
    "there",
    "here",
    "but",
    "and",
    "or",
    "so",
    "yet",
    "in",
    "on",
    "at",
    "as",
    "if",
    "for",
    "of",
    "to",
    "with",
    "by",
    "from",
    "after",
    "before",
    "when",
    "while",
    "since",
    "although",
    "though",
    "however",
    "meanwhile",
    "then",
    "now",
    "still",
    "also",
    "some",
    "many",
    "most",
    "one",
    "two",
    "all",
    "no",
    "not",
    "what",
    "why",
    "how",
    "who",
    "where",
    "which",
    "officials",
    "today",
    "yesterday",
    "last",
    "next",
    "earlier",
    "later",
    "during",
    "under",
    "despite",
    "according",
    "instead",
    "other",
    "both",
    "each",
    "such",
    "such",
    "more",
    "several",
    "few",
];

fn is_latin_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '‽')
}

fn is_cjk_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡')
}

/// Splits `text` into sentences. Whitespace around each sentence is trimmed and
/// empty pieces are dropped; a non-blank input always yields at least one sentence.
pub fn split_sentences(text: &str) -> Vec<String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let c = chars[i].1;
        if is_cjk_terminator(c) {
            let mut j = i + 1;
            while j < chars.len()
                && (is_cjk_terminator(chars[j].1) || is_latin_terminator(chars[j].1))
            {
                j += 1;
            }
            while j < chars.len() && CLOSERS.contains(&chars[j].1) {
                j += 1;
            }
            let end = byte_at(j);
            push_trimmed(&mut out, &text[start..end]);
            start = end;
            i = j;
            continue;
        }
        if !is_latin_terminator(c) {
            i += 1;
            continue;
        }
        let mut run_end = i + 1;
        while run_end < chars.len() && is_latin_terminator(chars[run_end].1) {
            run_end += 1;
        }
        let mut j = run_end;
        while j < chars.len() && CLOSERS.contains(&chars[j].1) {
            j += 1;
        }
        if j >= chars.len() {
            break;
        }
        if !chars[j].1.is_whitespace() {
            i = j.max(i + 1);
            continue;
        }
        let run: String = chars[i..run_end].iter().map(|&(_, c)| c).collect();
        let before = word_before(text, start, byte_at(i));
        let after = word_after(&chars, j);
        if should_split(&run, before, &after) {
            let end = byte_at(j);
            push_trimmed(&mut out, &text[start..end]);
            start = end;
        }
        i = j;
    }
    if start < text.len() {
        push_trimmed(&mut out, &text[start..]);
    }
    out
}

fn push_trimmed(out: &mut Vec<String>, piece: &str) {
    let piece = piece.trim();
    if !piece.is_empty() {
        out.push(piece.to_owned());
    }
}

/// The token directly before the terminator at byte `end`, without opening punctuation.
fn word_before(text: &str, start: usize, end: usize) -> &str {
    let segment = &text[start..end];
    let token = segment
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or_default();
    token.trim_start_matches(|c: char| OPENERS.contains(&c) || c == '-' || c == '—')
}

/// The next word after whitespace at char index `j`, without opening punctuation.
fn word_after(chars: &[(usize, char)], mut j: usize) -> String {
    while j < chars.len() && chars[j].1.is_whitespace() {
        j += 1;
    }
    while j < chars.len() && OPENERS.contains(&chars[j].1) {
        j += 1;
    }
    chars[j.min(chars.len())..]
        .iter()
        .map(|&(_, c)| c)
        .take_while(|c| !c.is_whitespace())
        .collect()
}

fn should_split(run: &str, before: &str, after: &str) -> bool {
    let Some(first) = after.chars().next() else {
        return true;
    };
    if first.is_lowercase() {
        return false;
    }
    // `!`, `?`, ellipses and mixed runs end the sentence when a non-lowercase word follows.
    if run != "." {
        return true;
    }
    let token = before.trim_end_matches(|c: char| CLOSERS.contains(&c));
    if token.is_empty() {
        return true;
    }
    let lower = token.to_lowercase();
    if NEVER_FINAL.contains(&lower.as_str()) {
        return false;
    }
    let single_letter = {
        let mut cs = token.chars();
        matches!((cs.next(), cs.next()), (Some(c), None) if c.is_alphabetic())
    };
    let dotted_acronym = token.contains('.')
        && token.chars().all(|c| c.is_alphabetic() || c == '.')
        && token.split('.').all(|part| part.chars().count() <= 3);
    if single_letter || dotted_acronym || MAYBE_FINAL.contains(&lower.as_str()) {
        return is_starter(after);
    }
    true
}

fn is_starter(word: &str) -> bool {
    let head: String = word.chars().take_while(|c| c.is_alphabetic()).collect();
    !head.is_empty() && STARTERS.contains(&head.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::split_sentences;

    #[test]
    fn abbreviations_and_dates() {
        let s =
            split_sentences("Mr. Smith met Dr. Jones in the U.S. capital on Jan. 5. They talked.");
        assert_eq!(
            s,
            vec![
                "Mr. Smith met Dr. Jones in the U.S. capital on Jan. 5.",
                "They talked."
            ]
        );
    }

    #[test]
    fn decimals() {
        assert_eq!(
            split_sentences("Growth was 3.5 percent. Prices rose."),
            vec!["Growth was 3.5 percent.", "Prices rose."]
        );
        assert_eq!(
            split_sentences("The deal is worth $4.5 billion. Shares rose 2.3%."),
            vec!["The deal is worth $4.5 billion.", "Shares rose 2.3%."]
        );
    }

    #[test]
    fn quote_kept_with_sentence() {
        assert_eq!(
            split_sentences("He said \"It is over.\" Then he left."),
            vec!["He said \"It is over.\"", "Then he left."]
        );
        assert_eq!(
            split_sentences("“It is over,” he said. “We won.” The crowd cheered."),
            vec!["“It is over,” he said.", "“We won.”", "The crowd cheered."]
        );
    }

    #[test]
    fn quote_with_lowercase_continuation() {
        assert_eq!(
            split_sentences("“We are done.” she said, and left."),
            vec!["“We are done.” she said, and left."]
        );
    }

    #[test]
    fn initials() {
        assert_eq!(
            split_sentences("John F. Kennedy was president."),
            vec!["John F. Kennedy was president."]
        );
    }

    #[test]
    fn us_followed_by_sentence_starter_splits() {
        // Documented rule: after a dotted acronym, split only before a common starter.
        assert_eq!(
            split_sentences("He moved to the U.S. The next day he started work."),
            vec!["He moved to the U.S.", "The next day he started work."]
        );
        assert_eq!(
            split_sentences("A bill passed the U.S. Senate on Monday."),
            vec!["A bill passed the U.S. Senate on Monday."]
        );
        assert_eq!(
            split_sentences("The U.S. officials declined."),
            vec!["The U.S. officials declined."]
        );
    }

    #[test]
    fn company_suffix() {
        assert_eq!(
            split_sentences("He works at Acme Inc. The firm grew. Acme Inc. Chairman Li spoke."),
            vec![
                "He works at Acme Inc.",
                "The firm grew.",
                "Acme Inc. Chairman Li spoke."
            ]
        );
    }

    #[test]
    fn cjk() {
        assert_eq!(split_sentences("你好。再见！"), vec!["你好。", "再见！"]);
        assert_eq!(
            split_sentences("他说：“结束了。”然后离开了。"),
            vec!["他说：“结束了。”", "然后离开了。"]
        );
    }

    #[test]
    fn ellipsis() {
        assert_eq!(split_sentences("Wait... what?"), vec!["Wait... what?"]);
        assert_eq!(
            split_sentences("We waited… Nothing happened."),
            vec!["We waited…", "Nothing happened."]
        );
    }

    #[test]
    fn question_and_exclamation() {
        assert_eq!(
            split_sentences("Is it over?! Nobody knows. Really!"),
            vec!["Is it over?!", "Nobody knows.", "Really!"]
        );
    }

    #[test]
    fn no_terminator_and_blank() {
        assert_eq!(
            split_sentences("  no punctuation here  "),
            vec!["no punctuation here"]
        );
        assert!(split_sentences("   ").is_empty());
        assert_eq!(split_sentences("..."), vec!["..."]);
    }
}
