//! The checks every translation goes through: the code's own repairs after generation, the
//! problems left (a typed [`Problem`] each), the choice between two attempts, and what the reader
//! gets of the chosen one.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::glossary::{enforce_readers_terms, enforce_terms, terms_in, GlossaryEntry, TermOrigin};
use crate::lang::Language;
use crate::llm::chat::clean_output;
use crate::llm::{FinishReason, LogProb};
use crate::names::enforce_people;
use crate::numbers;

/// What is still wrong with a translation after the code's repairs. `Display` is the warning
/// the reader sees; the kind (`{"kind": "amount_changed", "detail": {...}}` in JSON) lets the
/// window shade doubtful paragraphs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Problem {
    /// A name rendered earlier in the article is written differently.
    NameInconsistent { name: String, rendering: String },
    /// A source amount is not in the translation with its value.
    AmountChanged { amount: String },
    /// Numbers the source does not contain.
    InventedNumbers(Vec<String>),
    /// The model returned nothing.
    Empty,
    /// The model wrote its instructions instead of a translation.
    EchoedInstructions,
    /// Far shorter than the source: answered, obeyed or summarised rather than translated.
    TooShort,
    /// Most of a CJK translation is still English.
    PartsUntranslated,
    /// Ordinary English words left in a CJK translation.
    EnglishLeft(Vec<String>),
    /// Generation stopped at the token limit.
    CutOff,
    /// Generation stopped because the model repeated itself.
    Repeating,
    /// The model would not translate the text: it is shown in the original.
    NotTranslated,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NameInconsistent { name, rendering } => {
                write!(
                    f,
                    "\"{name}\" is not written \"{rendering}\" as earlier in the article"
                )
            }
            Problem::AmountChanged { amount } => {
                write!(
                    f,
                    "the amount \"{amount}\" may not have been translated exactly"
                )
            }
            Problem::InventedNumbers(numbers) => write!(
                f,
                "the translation contains numbers that are not in the original ({})",
                numbers.join(", ")
            ),
            Problem::Empty => f.write_str("the model returned no translation"),
            Problem::EchoedInstructions => {
                f.write_str("the model wrote its instructions instead of a translation")
            }
            Problem::TooShort => f.write_str(
                "the translation is much shorter than the original; parts may be missing",
            ),
            Problem::PartsUntranslated => f.write_str("parts of the text were left untranslated"),
            Problem::EnglishLeft(words) => {
                write!(f, "some words were left in English: {}", words.join(", "))
            }
            Problem::CutOff => f.write_str("the translation was cut off at the length limit"),
            Problem::Repeating => {
                f.write_str("the model started repeating itself; the translation may be incomplete")
            }
            Problem::NotTranslated => f.write_str(NOT_TRANSLATED),
        }
    }
}

/// One generated translation after the code's own repairs, with what is still wrong with it.
#[derive(Debug, Clone)]
pub(super) struct Attempt {
    pub(super) text: String,
    pub(super) problems: Vec<Problem>,
    /// How sure the model was of it (nothing for text it did not write).
    pub(super) logprob: LogProb,
}

impl Attempt {
    /// Cleans the model's output, puts in the standard renderings of terms it left in English
    /// (only in a text that is in the target language: substituting names into English prose
    /// would make a half-translation look like a translation), replaces wrong figures where
    /// they can be located unambiguously, and lists the problems that remain.
    pub(super) fn check(
        target: &Language,
        glossary: &[GlossaryEntry],
        source: &str,
        output: &str,
        finish: FinishReason,
    ) -> Attempt {
        let mut text = unquoted(source, &clean_output(output)).to_string();
        if target.is_cjk() && in_target_language(target, &text) {
            text = enforce_terms(glossary, source, &text);
            text = enforce_readers_terms(target, glossary, source, &text);
            text = enforce_people(glossary, source, &text);
        }
        if in_target_language(target, &text) {
            text = numbers::repair(source, &text, target).text;
        }
        let problems = problems(target, glossary, source, &text, finish);
        Attempt {
            text,
            problems,
            logprob: LogProb::default(),
        }
    }

    /// How bad an attempt is, for choosing between two (lower is better): left in the source
    /// language, then the number of problems, then the Latin letters it holds.
    pub(super) fn badness(&self, target: &Language) -> (bool, usize, usize) {
        let untranslated = self.text.trim().is_empty() || !in_target_language(target, &self.text);
        let latin = self
            .text
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .count();
        (untranslated, self.problems.len(), latin)
    }
}

/// What the reader gets for one piece of text.
#[derive(Debug, Clone, Default)]
pub(super) struct Settled {
    pub(super) text: String,
    /// The source amounts the translation lost, shown after it once it is complete (kept
    /// apart until then, so the English-word fixes leave the source's figures alone).
    pub(super) note: String,
    pub(super) warnings: Vec<Problem>,
    /// The model did not translate it: `text` is the source.
    pub(super) untranslated: bool,
    /// The model's confidence in the text it wrote (none for copied or untranslated text).
    pub(super) logprob: LogProb,
}

impl Settled {
    /// A text with nothing to translate (symbols, markup, numbers) is copied through as it is.
    pub(super) fn copied(source: &str) -> Settled {
        Settled {
            text: source.trim().to_string(),
            ..Settled::default()
        }
    }
}

/// The warning on a text the model would not translate.
pub const NOT_TRANSLATED: &str =
    "the model did not translate this text; it is shown in the original language";

/// Decides what the reader gets of the chosen attempt: a translation still mostly in the
/// source language is replaced by the source itself, marked, never shown as a half-translated
/// mixture; source amounts that are still missing are shown beside the translation.
pub(super) fn settle(target: &Language, source: &str, chosen: Attempt) -> Settled {
    if chosen.text.trim().is_empty() || !in_target_language(target, &chosen.text) {
        return Settled {
            text: source.trim().to_string(),
            warnings: vec![Problem::NotTranslated],
            untranslated: true,
            ..Settled::default()
        };
    }
    let missing = numbers::missing_amounts(source, &chosen.text, target);
    let note = if missing.is_empty() {
        String::new()
    } else {
        numbers::source_amounts_note(&missing, target)
    };
    Settled {
        text: chosen.text,
        note,
        warnings: chosen.problems,
        untranslated: false,
        logprob: chosen.logprob,
    }
}

/// Whether a translation is (mostly) written in the target language rather than left in the
/// source: for CJK targets by script; for others, unless it is reliably detected as English.
pub fn in_target_language(target: &Language, text: &str) -> bool {
    if target.is_cjk() {
        return latin_share(text) <= 0.5;
    }
    if target.code == "en" || text.chars().filter(|c| c.is_alphabetic()).count() < 40 {
        return true;
    }
    !matches!(whatlang::detect(text), Some(info) if info.lang() == whatlang::Lang::Eng && info.is_reliable())
}

/// Whether a text has anything to translate: words, once markup, web addresses, handles and
/// numbers are set aside. A line of symbols or markup (`<|im_end|>`) is copied through, never
/// handed to the model, which would otherwise make something up.
pub fn has_words(text: &str) -> bool {
    static MARKUP: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let markup = MARKUP.get_or_init(|| {
        regex::Regex::new(r"<[^<>]{0,200}>|\b(?:https?://|www\.)\S+|\S+@\S+\.\S+|[@#]\w+")
            .expect("valid regex")
    });
    let rest = markup.replace_all(text, " ");
    rest.split(|c: char| !c.is_alphabetic())
        .any(|w| w.chars().count() >= 2 || !w.is_ascii())
}

/// What is still wrong with a translation (empty when it passes every check).
pub(super) fn problems(
    target: &Language,
    glossary: &[GlossaryEntry],
    source: &str,
    translation: &str,
    finish: FinishReason,
) -> Vec<Problem> {
    // A name rendered once is written the same way afterwards (the prompt lists it).
    let renamed = terms_in(glossary, source)
        .into_iter()
        .filter(|g| g.origin == TermOrigin::Carried && !translation.contains(g.target.as_str()));
    let mut out: Vec<Problem> = renamed
        .map(|g| Problem::NameInconsistent {
            name: g.source.clone(),
            rendering: g.target.clone(),
        })
        .collect();
    out.extend(
        numbers::missing_amounts(source, translation, target)
            .iter()
            .map(|a| Problem::AmountChanged {
                amount: a.text.clone(),
            }),
    );
    let invented = numbers::invented_numbers(source, translation);
    if !invented.is_empty() {
        out.push(Problem::InventedNumbers(
            invented.iter().map(|v| v.to_string()).collect(),
        ));
    }
    if translation.trim().is_empty() {
        out.push(Problem::Empty);
    } else if echoes_instructions(source, translation) {
        out.push(Problem::EchoedInstructions);
    } else if too_short(target, source, translation) {
        out.push(Problem::TooShort);
    } else {
        out.extend(english_left_in(target, source, translation));
    }
    match finish {
        FinishReason::Stop => {}
        FinishReason::Length => out.push(Problem::CutOff),
        FinishReason::Loop => out.push(Problem::Repeating),
    }
    out
}

/// Whether the output repeats the translator's instructions ("请将英文翻译成简化的中文：…")
/// rather than translating: instruction phrases the source itself does not contain.
pub(super) fn echoes_instructions(source: &str, translation: &str) -> bool {
    const PHRASES: &[&str] = &[
        "翻译成",
        "翻譯成",
        "译成",
        "譯成",
        "请将",
        "請將",
        "翻译如下",
        "翻訳",
        "번역",
        "translate the",
        "translated into",
        "translation:",
        "traduire",
        "traduzca",
        "übersetz",
        "news translator",
        "the user's message",
    ];
    let t = translation.to_lowercase();
    let s = source.to_lowercase();
    PHRASES
        .iter()
        // An article about translating may well be translated with these words.
        .any(|p| t.contains(p) && !s.contains(p) && !s.contains("translat"))
}

/// Whether a translation is far shorter than its source: a sign that the model answered,
/// obeyed or summarised the text instead of translating it. Lengths are compared in words,
/// counting CJK characters at 1.7 a word, and only for sources of 8 words or more. On the
/// WMT23 en-zh dev set the professional reference's ratio is 0.90 at the median and never below
/// 0.37; a truncating system (NLLB) falls below 0.35 on 146 of 1,680 segments.
pub(super) fn too_short(target: &Language, source: &str, translation: &str) -> bool {
    let source_words = source
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    if source_words < 8 {
        return false;
    }
    let (mut wide, mut words) = (0usize, 0usize);
    for token in translation.split_whitespace() {
        let cjk = token
            .chars()
            .filter(|c| c.is_alphabetic() && !c.is_ascii() && is_wide(*c))
            .count();
        wide += cjk;
        if token.chars().any(|c| c.is_alphabetic() && !is_wide(c)) {
            words += 1;
        }
    }
    let _ = target;
    let translated_words = words as f64 + wide as f64 / 1.7;
    translated_words < source_words as f64 * 0.35
}

/// Characters of scripts written without spaces between words (Han, kana, Hangul).
pub(super) fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF | 0x20000..=0x2FA1F)
}

/// Ordinary English words a CJK translation still holds, as written there: lowercase words of
/// four letters or more (whether or not the source has them — a model also writes English of
/// its own, "acquittal" for "acquitted"), and capitalised ones the source writes in lowercase
/// (the model capitalised "apprenticeship levy"). Names — words the source capitalises — and
/// web addresses, handles and e-mail addresses are not counted.
pub fn untranslated_words(source: &str, translation: &str) -> Vec<String> {
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 4)
            .map(str::to_string)
            .collect()
    };
    let source_words = words(source);
    let named: std::collections::HashSet<String> = source_words
        .iter()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let ordinary: std::collections::HashSet<&str> = source_words
        .iter()
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        .map(String::as_str)
        .collect();
    let prose = web_address_re().replace_all(translation, " ");
    let mut out: Vec<String> = Vec::new();
    for w in words(&prose) {
        let lower = w.to_ascii_lowercase();
        let is_lowercase = w == lower;
        let capitalised = !is_lowercase
            && w.starts_with(|c: char| c.is_ascii_uppercase())
            && w[1..].chars().all(|c| c.is_ascii_lowercase());
        let left = if is_lowercase {
            !named.contains(&lower)
        } else {
            capitalised && ordinary.contains(lower.as_str()) && !named.contains(&lower)
        };
        if left && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Web addresses, e-mail addresses and handles, which stay in Latin letters.
pub(super) fn web_address_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)(?:https?://|www\.)[^\s\p{Han}，。）]+|[\w.+-]+@[\w.-]+|@\w+|[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|co|uk|io|kz|de|fr|cn)\b(?:/[^\s\p{Han}，。）]*)?",
        )
        .expect("valid regex")
    })
}

/// The share of letters that are Latin script: high in a CJK translation means English was
/// copied through instead of translated.
pub fn latin_share(text: &str) -> f64 {
    let letters = text.chars().filter(|c| c.is_alphabetic());
    let (latin, total) = letters.fold((0usize, 0usize), |(l, t), c| {
        (l + usize::from(c.is_ascii_alphabetic()), t + 1)
    });
    // Latin letters count per word, CJK per character: compare like with like.
    let latin_words = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .count();
    let cjk = total - latin;
    if total == 0 {
        return 0.0;
    }
    latin_words as f64 / (latin_words + cjk).max(1) as f64
}

/// A CJK translation with a larger share of Latin letters is largely untranslated.
pub(super) const MOSTLY_LATIN: f64 = 0.25;

/// Whether an attempt's only problem is English words left in an otherwise translated text,
/// which the word look-ups mend.
pub(super) fn only_english_left(target: &Language, attempt: &Attempt) -> bool {
    target.is_cjk()
        && !attempt.problems.is_empty()
        && attempt
            .problems
            .iter()
            .all(|p| matches!(p, Problem::EnglishLeft(_)))
        && latin_share(&attempt.text) <= MOSTLY_LATIN
}

/// The output without quotation marks around the whole of it that the source does not have
/// (the retry quotes the text, and the model may copy the quotes).
pub(super) fn unquoted<'t>(source: &str, output: &'t str) -> &'t str {
    const PAIRS: &[(char, char)] = &[('"', '"'), ('“', '”'), ('「', '」'), ('『', '』')];
    let source_quoted = source.trim_start().starts_with(['"', '“', '\'', '‘']);
    let out = output.trim();
    for (open, close) in PAIRS {
        if let Some(inner) = out.strip_prefix(*open).and_then(|o| o.strip_suffix(*close)) {
            if !source_quoted && !inner.contains([*open, *close]) {
                return inner.trim();
            }
        }
    }
    out
}

/// The English left in a CJK translation: most of it ([`Problem::PartsUntranslated`]) or some
/// words ([`Problem::EnglishLeft`]).
pub(super) fn english_left_in(target: &Language, source: &str, translation: &str) -> Vec<Problem> {
    if !target.is_cjk() || translation.trim().is_empty() {
        return Vec::new();
    }
    if latin_share(translation) > MOSTLY_LATIN {
        return vec![Problem::PartsUntranslated];
    }
    let words = untranslated_words(source, translation);
    if words.is_empty() {
        Vec::new()
    } else {
        vec![Problem::EnglishLeft(words)]
    }
}
