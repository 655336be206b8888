//! Amounts in an English source text, their exact renderings in each target language, a check
//! that a translation kept them, and an in-place repair when it did not.
//!
//! Small models turn "€100m" into 100万欧元 (a hundred times too small) or "$45 million" into
//! 45亿. So amounts are found by a grammar (currencies, scale words and suffixes, decimals,
//! ranges, percentages and points, negatives, spelled numbers, fractions, dates, years), given
//! to the model already rendered by code, checked by value afterwards, and replaced in place
//! when the wrong figure can be located unambiguously.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use crate::lang::Language;

/// What an amount counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain number: a count or a measure (the measure's unit stays in the text).
    Count,
    /// Money, by ISO 4217 code.
    Currency(&'static str),
    Percent,
    /// Percentage points.
    Points,
    /// A fraction written in words ("two-thirds"); the value is its decimal.
    Fraction,
    Year,
    /// A day of a month ("July 6", "6 July 2016"); the value is the day.
    Date {
        month: u8,
        year: Option<u16>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    /// The amount as written in the source, e.g. "€100m" or "$3m-$5m".
    pub text: String,
    /// Where `text` is in the source (bytes).
    pub span: Range<usize>,
    /// The value, scale applied: "€100m" is 100000000; a range's low end.
    pub value: f64,
    /// A range's high end.
    pub high: Option<f64>,
    pub unit: Unit,
    /// Another reading of an ambiguous form: "60m" without a currency is 60 million or 60
    /// metres. A translation may keep either; the model gets no rendering of it.
    pub alternative: Option<f64>,
}

impl Amount {
    /// A plain count below 10,000 without currency, scale or percent ("23 books", "six
    /// months", "1,500"): checked in a translation, but the model needs no rendering of it.
    pub fn is_plain_count(&self) -> bool {
        self.unit == Unit::Count
            && (self.alternative.is_some()
                || self.value.abs() < 1e4 && self.high.is_none_or(|h| h.abs() < 1e4))
    }

    /// The currency's ISO code, if the amount is money.
    pub fn currency(&self) -> Option<&'static str> {
        match self.unit {
            Unit::Currency(c) => Some(c),
            _ => None,
        }
    }
}

/// Currency written before the number, longest first.
const CURRENCY_PREFIXES: &[(&str, &str)] = &[
    ("US Dollars", "USD"),
    ("US Dollar", "USD"),
    ("US$", "USD"),
    ("$US", "USD"),
    ("HK$", "HKD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("NZ$", "NZD"),
    ("S$", "SGD"),
    ("R$", "BRL"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("₩", "KRW"),
    ("₽", "RUB"),
    ("Rs", "INR"),
    ("Tk", "BDT"),
    ("RMB", "CNY"),
];

const CURRENCY_CODES: &[&str] = &[
    "USD", "EUR", "GBP", "JPY", "CNY", "HKD", "AUD", "CAD", "CHF", "INR", "KRW", "RUB", "NZD",
    "SGD", "BRL", "BDT",
];

/// Currency words after the number ("5 million euros"), longest first. "pounds" is money only
/// after a scale word: "400 pounds" is usually a weight.
const CURRENCY_WORDS: &[(&str, &str)] = &[
    ("u.s. dollars", "USD"),
    ("us dollars", "USD"),
    ("american dollars", "USD"),
    ("australian dollars", "AUD"),
    ("canadian dollars", "CAD"),
    ("hong kong dollars", "HKD"),
    ("swiss francs", "CHF"),
    ("chinese yuan", "CNY"),
    ("dollars", "USD"),
    ("dollar", "USD"),
    ("euros", "EUR"),
    ("euro", "EUR"),
    ("pounds", "GBP"),
    ("yuan", "CNY"),
    ("renminbi", "CNY"),
    ("yen", "JPY"),
    ("rupees", "INR"),
    ("won", "KRW"),
    ("roubles", "RUB"),
    ("rouble", "RUB"),
    ("rubles", "RUB"),
    ("ruble", "RUB"),
    ("francs", "CHF"),
];

const SMALL_NUMBERS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: &[&str] = &[
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// "twenty-five" → 25; any English number word up to ninety-nine.
fn spelled_value(word: &str) -> Option<f64> {
    let w = word.to_ascii_lowercase();
    let mut parts = w.split(['-', ' ']).filter(|p| !p.is_empty());
    let first = parts.next()?;
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    if let Some(i) = SMALL_NUMBERS.iter().position(|s| *s == first) {
        return second.is_none().then_some(i as f64);
    }
    let tens = TENS.iter().position(|t| *t == first)? as f64 * 10.0 + 20.0;
    match second {
        None => Some(tens),
        Some(unit) => {
            let u = SMALL_NUMBERS[1..10].iter().position(|s| *s == unit)? + 1;
            Some(tens + u as f64)
        }
    }
}

fn amount_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let small = SMALL_NUMBERS.join("|");
        let tens = TENS.join("|");
        let codes = CURRENCY_CODES.join("|");
        let currency_words: Vec<String> = CURRENCY_WORDS
            .iter()
            .map(|(w, _)| regex::escape(w).replace(' ', r"\s"))
            .collect();
        let pattern = format!(
            r"(?x)
            (?P<neg>[-−]\s?|\bminus\s)?
            (?P<cur>(?:US\s[Dd]ollars?\s|US\$|\$US|HK\$|AU\$|A\$|CA\$|C\$|NZ\$|S\$|R\$|\$|€|£|¥|₹|₩|₽)\s?
               |\b(?:Rs\.?|Tk\.?|RMB)\s?|\b(?i:{codes})\s?)?
            (?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d{{1,3}}(?:[\x20\u{{A0}}\u{{202F}}]\d{{3}})+\b|\d+(?:\.\d+)?|\.\d+
               |(?i:\b(?:(?:{tens})(?:[-\s](?:one|two|three|four|five|six|seven|eight|nine))?|{small})\b))
            (?:(?P<sp>[\s-]?)(?P<scale>(?i:lakh\s+crore|thousand|million|billion|trillion|crore|lakh|mn|mln|bn|bln|tn|trn|cr|mil)|k|K|m|M|b|B)\b)?
            (?P<tail>[\s-]?(?:%|(?i:percentage[\s-]+points?|per[\s-]?cent|percent|pct|pc)\b
               |(?i:{currency_words})\b)|\$|€|£)?"
        ,
            currency_words = currency_words.join("|")
        );
        Regex::new(&pattern).expect("valid regex")
    })
}

fn connector_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^(?:-to-|\s?[-–—]\s?|\s(?:to|and)\s)").expect("valid regex"))
}

/// English month names, January first.
pub(crate) const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_number(name: &str) -> Option<u8> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| {
            let m = m.to_ascii_lowercase();
            m == n || (n.len() == 3 && m.starts_with(&n))
        })
        .map(|i| i as u8 + 1)
}

fn date_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Month names as news writes them; lowercase only where the word cannot be a verb.
        let month = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|january|february|april|june|july|august|september|october|november|december|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)";
        Regex::new(&format!(
            r"\b(?:(?P<m1>{month})\s(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s(?P<y1>\d{{4}})\b)?|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<m2>{month})(?:,?\s(?P<y2>\d{{4}})\b)?)"
        ))
        .expect("valid regex")
    })
}

/// Words after "a third", "a fifth"… that make it a fraction: prepositions ("cut by a third
/// since 2020") and the verbs a fraction of people takes ("only a third have"); before any
/// other word it is an ordinal ("a third way", "a fifth term").
const FRACTION_FOLLOWERS: &[&str] = &[
    "of", "in", "since", "from", "over", "between", "compared", "last", "this", "by", "to", "and",
    "or", "than", "on", "at", "after", "before", "during", "have", "has", "had", "are", "is",
    "were", "was", "say", "said", "think", "believe", "want", "do", "did", "will", "would",
    "could", "can", "may", "might", "should", "now", "still", "also", "already", "more", "less",
    "fewer", "again",
];

fn fraction_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)\b(one|two|three|four|five|six|seven|eight|nine|a)(?:-|\s)(thirds?|quarters?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)\b|\b(\d)/(\d{1,2})\b",
        )
        .expect("valid regex")
    })
}

fn points_after_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^(?:\sof\sa)?\spercentage[\s-]points?\b").expect("valid regex"))
}

fn denominator(word: &str) -> Option<f64> {
    let w = word.to_ascii_lowercase();
    let stem = w.trim_end_matches('s');
    Some(match stem {
        "third" => 3.0,
        "quarter" => 4.0,
        "fifth" => 5.0,
        "sixth" => 6.0,
        "seventh" => 7.0,
        "eighth" => 8.0,
        "ninth" => 9.0,
        "tenth" => 10.0,
        _ => return None,
    })
}

/// One number of the amount grammar before ranges are joined.
#[derive(Debug, Clone)]
struct Single {
    span: Range<usize>,
    /// Where the number (or its currency) starts, after any minus sign.
    core_start: usize,
    value: f64,
    decimal: bool,
    grouped: bool,
    currency: Option<&'static str>,
    percent: Option<Unit>,
    scale: f64,
    /// "60m" without a currency: read as millions, but it may be metres.
    metres_or_million: bool,
}

fn currency_of(prefix: &str) -> Option<&'static str> {
    let p = prefix.trim().trim_end_matches('.');
    CURRENCY_PREFIXES
        .iter()
        .find(|(s, _)| *s == p)
        .map(|(_, c)| *c)
        .or_else(|| {
            CURRENCY_CODES
                .iter()
                .find(|c| c.eq_ignore_ascii_case(p))
                .copied()
        })
}

fn scale_value(word: &str, currency: bool, grouped: bool, spaced: bool) -> Option<f64> {
    let lower = word.to_ascii_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match lower.as_str() {
        "thousand" => 1e3,
        "million" | "mn" | "mln" => 1e6,
        "billion" | "bn" | "bln" => 1e9,
        "trillion" | "tn" | "trn" => 1e12,
        "lakh" => 1e5,
        "crore" | "cr" => 1e7,
        "lakh crore" => 1e12,
        // "AU$600 mil": a million only after a currency.
        "mil" if currency => 1e6,
        // Single letters are suffixes attached to the digits ("$10M", "2.5m", "5k"), or spaced
        // after a currency ("$5 m"). Without a currency, "3,000m" is a distance and "5 m" metres.
        "k" if !spaced || currency => 1e3,
        "m" if currency || (!spaced && !grouped) => 1e6,
        "b" if currency => 1e9,
        _ => return None,
    })
}

fn single_at(text: &str, c: &regex::Captures) -> Option<Single> {
    let whole = c.get(0)?;
    // Inside a word or a longer number ("A4", "1.2.3"): not an amount. After a dash that joins
    // it to a word or number ("COVID-19", "$3m-$5m") it is one, without a minus sign.
    if c.name("neg").is_none() && glued_after(text, whole.start()) {
        return None;
    }
    let num_match = c.name("num")?;
    let num = num_match.as_str();
    let spelled = num.chars().next().is_some_and(|ch| ch.is_alphabetic());
    let mut value = number_value(num, spelled)?;
    let grouped = !spelled && num.contains([',', ' ', '\u{A0}', '\u{202F}']);
    let currency = c.name("cur").and_then(|m| currency_of(m.as_str()));
    let scale = scale_after(c, &num_match, spelled, currency.is_some(), grouped);
    value *= scale.factor;
    let tail = unit_after(c, num_match.end(), &scale, currency);
    let end = tail.end;
    if !spelled && glued_to_no_unit(text, end) {
        return None;
    }
    // Spelled numbers: "five million", "nine percent", "twenty-five"; "one" and "zero" only
    // with a scale or percent (alone they are words, not amounts).
    if spelled && value.abs() <= 1.0 && scale.factor == 1.0 && tail.percent.is_none() {
        return None;
    }
    let core_start = c
        .name("cur")
        .map_or(num_match.start(), |m| m.start())
        .min(num_match.start());
    let mut start = core_start;
    if let Some(neg) = c.name("neg") {
        if is_minus_sign(text, &neg) {
            value = -value;
            start = neg.start();
        }
        if dash_joins_a_name(text, neg.start()) {
            return None;
        }
    }
    Some(Single {
        span: start..end,
        core_start,
        value,
        decimal: num.contains('.'),
        grouped,
        currency: tail.currency,
        percent: tail.percent,
        scale: scale.factor,
        metres_or_million: scale.metres_or_million,
    })
}

/// Whether `start` follows a letter, digit or number punctuation, so that a number there
/// continues a word or a longer number.
fn glued_after(text: &str, start: usize) -> bool {
    let before = text[..start].chars().next_back();
    before.is_some_and(|b| b.is_alphanumeric() || b == '.' || b == ',' || b == '_')
}

/// The value of the `num` group: digits (group separators dropped) or a spelled number.
fn number_value(num: &str, spelled: bool) -> Option<f64> {
    if spelled {
        spelled_value(num)
    } else {
        num.chars()
            .filter(|ch| ch.is_ascii_digit() || *ch == '.')
            .collect::<String>()
            .parse::<f64>()
            .ok()
    }
}

/// The scale word or suffix after a number, if it is read as one.
struct Scale {
    /// 1 without a scale.
    factor: f64,
    /// Where the number and its scale end (bytes).
    end: usize,
    /// "60m" without a currency: read as millions, but it may be metres.
    metres_or_million: bool,
}

/// The `scale` group of an amount match, when it scales the number.
fn scale_after(
    c: &regex::Captures,
    num: &regex::Match,
    spelled: bool,
    currency: bool,
    grouped: bool,
) -> Scale {
    let mut scale = Scale {
        factor: 1.0,
        end: num.end(),
        metres_or_million: false,
    };
    let spaced = c.name("sp").is_some_and(|m| !m.as_str().is_empty());
    if let Some(word) = c.name("scale") {
        let suffix = word.as_str().len() <= 3;
        match scale_value(word.as_str(), currency, grouped, spaced) {
            // "one m" is no amount: letter suffixes belong to digits.
            Some(s) if !(spelled && suffix) => {
                scale.factor = s;
                scale.end = word.end();
                // "2.5m people" is millions; "60m" may be a sprint.
                scale.metres_or_million =
                    word.as_str() == "m" && !currency && !num.as_str().contains('.');
            }
            _ => {}
        }
    }
    scale
}

/// What the `tail` group after a number and its scale makes of the amount.
struct Tail {
    percent: Option<Unit>,
    /// The currency before the number, else one written after it.
    currency: Option<&'static str>,
    /// Where the amount ends (bytes).
    end: usize,
}

/// Reads the `tail` group (a percent sign or word, percentage points, a currency symbol or
/// word) when it directly follows the number (ending at `num_end`) and the scale it was read
/// with; a scale word that was not read as one leaves the tail unread.
fn unit_after(
    c: &regex::Captures,
    num_end: usize,
    scale: &Scale,
    currency: Option<&'static str>,
) -> Tail {
    let mut out = Tail {
        percent: None,
        currency,
        end: scale.end,
    };
    let Some(tail) = c
        .name("tail")
        .filter(|_| scale.end == c.name("scale").map_or(num_end, |m| m.end()))
    else {
        return out;
    };
    let t = tail
        .as_str()
        .trim_start_matches([' ', '-'])
        .to_ascii_lowercase();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.starts_with("percentage") {
        out.percent = Some(Unit::Points);
        out.end = tail.end();
    } else if t == "%" || t.starts_with("per") || t == "pct" || t == "pc" {
        out.percent = Some(Unit::Percent);
        out.end = tail.end();
    } else if let Some(code) = currency_of(&t).filter(|_| t.len() == 1 || t.starts_with('$')) {
        // "3$": a symbol after the number.
        out.currency = currency.or(Some(code));
        out.end = tail.end();
    } else if let Some((word, code)) = CURRENCY_WORDS.iter().find(|(w, _)| t == *w) {
        if *word != "pounds" || scale.factor != 1.0 || currency.is_some() {
            out.currency = currency.or(Some(code));
            out.end = tail.end();
        }
    }
    out
}

/// Digits glued to letters that are no unit ("18th", "T20I", "4G") are a name or an ordinal,
/// not an amount; units of measure ("3,000m", "-14C", "60mph") are fine.
fn glued_to_no_unit(text: &str, end: usize) -> bool {
    let letters: String = text[end..]
        .chars()
        .take_while(|ch| ch.is_alphabetic())
        .collect();
    const UNITS: &[&str] = &[
        "m", "km", "cm", "mm", "kg", "g", "mg", "lb", "lbs", "ft", "mph", "kph", "kmh", "mw", "gw",
        "kw", "kwh", "mwh", "mb", "gb", "tb", "c", "f", "s", "ml", "l", "mi", "nm", "am", "pm",
        "hz", "ghz", "mhz", "x",
    ];
    !letters.is_empty() && !UNITS.contains(&letters.to_lowercase().as_str())
}

/// Whether the `neg` group is a minus sign. A dash after a letter or digit joins words
/// ("COVID-19"), it is no minus sign.
fn is_minus_sign(text: &str, neg: &regex::Match) -> bool {
    let before = text[..neg.start()].chars().next_back();
    let joins = before.is_some_and(|b| b.is_alphanumeric());
    let sign_position = before.is_none_or(|b| b.is_whitespace() || "([{:;,".contains(b));
    !joins && (sign_position || neg.as_str().starts_with("minus"))
}

/// "COVID-19", "S-300": a number joined to a word by a dash (at `dash`) is part of a name. (A
/// range's second number follows a digit or a unit: "$3m-$5m", "10-12".)
fn dash_joins_a_name(text: &str, dash: usize) -> bool {
    let joins = text[..dash]
        .chars()
        .next_back()
        .is_some_and(|b| b.is_alphanumeric());
    let word_before = text[..dash]
        .rsplit(|ch: char| !ch.is_alphanumeric())
        .next()
        .unwrap_or("");
    if !joins || !word_before.starts_with(char::is_uppercase) {
        return false;
    }
    let is_number_end = word_before
        .chars()
        .next()
        .is_some_and(|ch| ch.is_ascii_digit())
        || scale_value(
            word_before.trim_start_matches(|ch: char| ch.is_ascii_digit() || ch == '.'),
            true,
            false,
            false,
        )
        .is_some();
    !is_number_end && word_before != "to"
}

/// Whether a number is a year: four digits 1900–2100, or 1000–2100 after a word that
/// introduces years ("in 1876"); not when a lowercase word follows ("2100 megawatts").
fn is_year(s: &Single, text: &str) -> bool {
    let digits = &text[s.span.clone()];
    if s.currency.is_some()
        || s.percent.is_some()
        || s.scale != 1.0
        || s.decimal
        || s.grouped
        || digits.len() != 4
        || !(1000.0..=2100.0).contains(&s.value)
    {
        return false;
    }
    let before = text[..s.span.start].trim_end();
    let previous = before
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    const YEAR_WORDS: &[&str] = &[
        "in", "since", "from", "until", "till", "by", "before", "after", "during", "of", "early",
        "late", "mid", "year", "spring", "summer", "autumn", "fall", "winter", "between",
        "through",
    ];
    if YEAR_WORDS.contains(&previous.as_str()) {
        return true;
    }
    // "the 2015 mortgage": a determiner before a number of this range introduces a year.
    const DETERMINERS: &[&str] = &["the", "a", "its", "this", "that", "his", "her", "their"];
    if (1900.0..=2100.0).contains(&s.value) && DETERMINERS.contains(&previous.as_str()) {
        return true;
    }
    let next_word = text[s.span.end..].trim_start();
    let lowercase_follows = text[s.span.end..].starts_with(' ')
        && next_word.chars().next().is_some_and(|c| c.is_lowercase());
    const FUNCTION_WORDS: &[&str] = &[
        "and", "to", "when", "as", "with", "was", "were", "is", "the", "for", "that", "where",
        "had", "has", "saw", "but", "or", "which", "who", "will", "would", "could",
    ];
    let next = next_word
        .split(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    (1900.0..=2100.0).contains(&s.value) && (!lowercase_follows || FUNCTION_WORDS.contains(&next))
}

/// The unit class of a single, for deciding whether two numbers form a range: a percentage
/// and an amount of money ("rose 4.9 percent to 50.9 trillion won") do not.
fn compatible(a: &Single, b: &Single) -> bool {
    let kind = |s: &Single| match (s.percent, s.currency) {
        (Some(p), _) => Some(p),
        _ => None,
    };
    let percent_ok = kind(a) == kind(b) || kind(a).is_none() && kind(b).is_some();
    let currency_ok = a.currency.is_none() || b.currency.is_none() || a.currency == b.currency;
    let mixed =
        a.currency.is_some() && b.percent.is_some() || a.percent.is_some() && b.currency.is_some();
    percent_ok && currency_ok && !mixed
}

/// The amounts and numbers in `text`, in order: see the module documentation.
pub fn find_amounts(text: &str) -> Vec<Amount> {
    let mut out: Vec<Amount> = Vec::new();
    // Dates first, then fractions, then numbers: a later kind never takes an earlier one's text.
    push_dates(text, &mut out);
    push_fractions(text, &mut out);
    push_numbers(text, &mut out);
    // Clock times and durations ("02:33", "10:30:15") are not amounts.
    let times: Vec<Range<usize>> = clock_re().find_iter(text).map(|m| m.range()).collect();
    out.retain(|a| {
        !times
            .iter()
            .any(|t| a.span.start < t.end && t.start < a.span.end)
    });
    out.sort_by_key(|a| a.span.start);
    out
}

/// Whether `span` overlaps an amount already found.
fn overlaps_any(out: &[Amount], span: &Range<usize>) -> bool {
    out.iter()
        .any(|a| a.span.start < span.end && span.start < a.span.end)
}

/// Dates with a month name: "March 5", "5 March 2024".
fn push_dates(text: &str, out: &mut Vec<Amount>) {
    for c in date_re().captures_iter(text) {
        let (m, d, y) = match (c.name("m1"), c.name("m2")) {
            (Some(m), _) => (m, c.name("d1"), c.name("y1")),
            (None, Some(m)) => (m, c.name("d2"), c.name("y2")),
            _ => continue,
        };
        let (Some(month), Some(day)) = (
            month_number(m.as_str()),
            d.and_then(|d| d.as_str().parse::<u8>().ok()),
        ) else {
            continue;
        };
        if !(1..=31).contains(&day) {
            continue;
        }
        let whole = c.get(0).expect("match");
        out.push(Amount {
            text: whole.as_str().to_string(),
            span: whole.range(),
            value: f64::from(day),
            high: None,
            alternative: None,
            unit: Unit::Date {
                month,
                year: y.and_then(|y| y.as_str().parse().ok()),
            },
        });
    }
}

/// Fractions, spelled ("two thirds", "a quarter of") or written ("3/4"), and points after one.
fn push_fractions(text: &str, out: &mut Vec<Amount>) {
    for c in fraction_re().captures_iter(text) {
        let whole = c.get(0).expect("match");
        let value = match (c.get(1), c.get(3)) {
            (Some(n), _) => {
                let numerator = if n.as_str().eq_ignore_ascii_case("a") {
                    // "a third of", "fell by a third." yes; "a third way", "a fifth term" are
                    // ordinals; "a quarter" only as "a quarter of".
                    let den = c.get(2).map_or("", |d| d.as_str());
                    let rest = &text[whole.end()..];
                    let next_word: String = rest
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphabetic())
                        .collect::<String>()
                        .to_lowercase();
                    let fraction = if den.to_ascii_lowercase().starts_with("quarter") {
                        next_word == "of"
                    } else {
                        next_word.is_empty() || FRACTION_FOLLOWERS.contains(&next_word.as_str())
                    };
                    if !fraction {
                        continue;
                    }
                    Some(1.0)
                } else {
                    spelled_value(n.as_str())
                };
                match (numerator, c.get(2).and_then(|d| denominator(d.as_str()))) {
                    (Some(n), Some(d)) => n / d,
                    _ => continue,
                }
            }
            (None, Some(n)) => {
                let (Ok(n), Some(Ok(d))) = (
                    n.as_str().parse::<f64>(),
                    c.get(4).map(|d| d.as_str().parse::<f64>()),
                ) else {
                    continue;
                };
                // "24/7", "9/11" and dates are not fractions.
                if d == 0.0 || n >= d || text[whole.end()..].starts_with('/') {
                    continue;
                }
                n / d
            }
            _ => continue,
        };
        let mut span = whole.range();
        let mut unit = Unit::Fraction;
        if let Some(points) = points_after_re().find(&text[span.end..]) {
            span.end += points.end();
            unit = Unit::Points;
        }
        if overlaps_any(out, &span) {
            continue;
        }
        out.push(Amount {
            text: text[span.clone()].to_string(),
            span,
            value,
            high: None,
            unit,
            alternative: None,
        });
    }
}

/// Numbers with their currency, scale and percent, and ranges of two of them.
fn push_numbers(text: &str, out: &mut Vec<Amount>) {
    let singles: Vec<Single> = amount_re()
        .captures_iter(text)
        .filter_map(|c| single_at(text, &c))
        .collect();
    let mut i = 0;
    while i < singles.len() {
        let mut a = singles[i].clone();
        let high = singles
            .get(i + 1)
            .and_then(|next| range_end(text, &a, next));
        if let Some(b) = &high {
            if a.scale == 1.0 && b.scale != 1.0 && !a.grouped {
                a.value *= b.scale;
                a.scale = b.scale;
            }
            a.currency = a.currency.or(b.currency);
            a.percent = a.percent.or(b.percent);
        }
        let mut span = a.span.clone();
        if let Some(b) = &high {
            span.end = b.span.end;
            let lead = text[..span.start].to_ascii_lowercase();
            for word in ["between ", "from "] {
                if lead.ends_with(word) {
                    span.start -= word.len();
                    break;
                }
            }
        }
        if !overlaps_any(out, &span) {
            let year = match &high {
                None => is_year(&a, text),
                // "2011-2013": one end reads as a year, the other is a later four-digit year.
                Some(b) => {
                    let four = |s: &Single| {
                        s.scale == 1.0
                            && s.currency.is_none()
                            && s.percent.is_none()
                            && text[s.span.clone()].len() == 4
                    };
                    (is_year(&a, text) || is_year(b, text))
                        && four(&a)
                        && four(b)
                        && (1000.0..=2100.0).contains(&b.value)
                        && b.value > a.value
                }
            };
            let unit = if year {
                Unit::Year
            } else if let Some(p) = a.percent {
                p
            } else if let Some(c) = a.currency {
                Unit::Currency(c)
            } else {
                Unit::Count
            };
            out.push(Amount {
                text: text[span.clone()].to_string(),
                span,
                value: a.value,
                high: high.as_ref().map(|b| b.value),
                unit,
                alternative: (high.is_none() && a.metres_or_million).then(|| a.value / 1e6),
            });
        }
        i += if high.is_some() { 2 } else { 1 };
    }
}

/// The upper end of a range that `a` starts and `next` ends: "$3m-$5m", "10 to 12 percent",
/// "$3-5m", "between 10 and 12", "two-to-three".
fn range_end(text: &str, a: &Single, next: &Single) -> Option<Single> {
    // The dash of "$3m-$5m" is the range's, though the next number took it as a minus.
    let gap = &text[a.span.end..next.core_start.max(a.span.end)];
    let lead = text[..a.span.start].to_ascii_lowercase();
    let between = lead.ends_with("between ");
    let m = connector_re().find(gap)?;
    let is_and = m.as_str().trim() == "and";
    let joins = m.end() == gap.len() && (!is_and || between);
    if !(joins && a.value >= 0.0 && compatible(a, next)) {
        return None;
    }
    let mut b = next.clone();
    if b.span.start < b.core_start && !text[b.span.clone()].starts_with("minus") {
        b.value = b.value.abs();
        b.span.start = b.core_start;
    }
    Some(b)
}

fn clock_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b\d{1,2}:\d{2}(?::\d{2})?\b").expect("valid regex"))
}

/// `v` with at most `decimals` decimals, if that is exact.
fn exact_short(v: f64, decimals: i32) -> Option<String> {
    let scaled = v * 10f64.powi(decimals);
    if (scaled - scaled.round()).abs() > 1e-6 * scaled.abs().max(1.0) {
        return None;
    }
    let s = format!("{v:.*}", decimals as usize);
    Some(if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    })
}

/// Digits with a thousands separator and a decimal separator; `group_four` groups 4-digit
/// numbers too (1,500 rather than 1500).
fn group_digits(v: f64, thousands: &str, decimal: &str, group_four: bool) -> String {
    let abs = v.abs();
    let digits = format!("{:.0}", abs.trunc());
    let mut out = String::new();
    if v < 0.0 {
        out.push('-');
    }
    let grouped = digits.len() > 4 || (group_four && digits.len() == 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 && grouped {
            out.push_str(thousands);
        }
        out.push(c);
    }
    let frac = exact_short(abs.fract(), 4).unwrap_or_else(|| format!("{:.4}", abs.fract()));
    match frac.strip_prefix("0.") {
        Some(f) => format!("{out}{decimal}{f}"),
        None => out,
    }
}

/// Number formatting and words of a target language.
struct Locale {
    thousands: &'static str,
    decimal: &'static str,
    /// East Asian scales: 万 (10^4), 亿 (10^8), 万亿/兆 (10^12).
    east_asian: Option<[&'static str; 3]>,
    /// Western scales: (10^6 singular, plural), (10^9 …), (10^12 …).
    western: [(&'static str, &'static str); 3],
    range: &'static str,
    points: &'static str,
}

fn locale(lang: &Language) -> Locale {
    let w = |a, b, c| [a, b, c];
    let base = Locale {
        thousands: ",",
        decimal: ".",
        east_asian: None,
        western: w(
            ("million", "million"),
            ("billion", "billion"),
            ("trillion", "trillion"),
        ),
        range: "-",
        points: " percentage points",
    };
    match lang.code {
        "zh-Hans" => Locale {
            east_asian: Some(["万", "亿", "万亿"]),
            range: "至",
            points: "个百分点",
            ..base
        },
        "zh-Hant" => Locale {
            east_asian: Some(["萬", "億", "兆"]),
            range: "至",
            points: "個百分點",
            ..base
        },
        "ja" => Locale {
            east_asian: Some(["万", "億", "兆"]),
            range: "～",
            points: "ポイント",
            ..base
        },
        "ko" => Locale {
            east_asian: Some(["만", "억", "조"]),
            range: "~",
            points: "%포인트",
            ..base
        },
        "fr" => Locale {
            thousands: "\u{202F}",
            decimal: ",",
            western: w(
                ("million", "millions"),
                ("milliard", "milliards"),
                ("billion", "billions"),
            ),
            range: " à ",
            points: " points de pourcentage",
            ..base
        },
        "de" => Locale {
            thousands: ".",
            decimal: ",",
            western: w(("Mio.", "Mio."), ("Mrd.", "Mrd."), ("Bio.", "Bio.")),
            range: " bis ",
            points: " Prozentpunkte",
            ..base
        },
        "es" => Locale {
            thousands: ".",
            decimal: ",",
            western: w(
                ("millón", "millones"),
                ("mil millones", "mil millones"),
                ("billón", "billones"),
            ),
            range: " a ",
            points: " puntos porcentuales",
            ..base
        },
        "ru" => Locale {
            thousands: "\u{00A0}",
            decimal: ",",
            western: w(("млн", "млн"), ("млрд", "млрд"), ("трлн", "трлн")),
            range: "–",
            points: " процентного пункта",
            ..base
        },
        "pt" => Locale {
            thousands: ".",
            decimal: ",",
            western: w(
                ("milhão", "milhões"),
                ("bilhão", "bilhões"),
                ("trilhão", "trilhões"),
            ),
            range: " a ",
            points: " pontos percentuais",
            ..base
        },
        "it" => Locale {
            thousands: ".",
            decimal: ",",
            western: w(
                ("milione", "milioni"),
                ("miliardo", "miliardi"),
                ("bilione", "bilioni"),
            ),
            range: "-",
            points: " punti percentuali",
            ..base
        },
        "vi" => Locale {
            thousands: ".",
            decimal: ",",
            western: w(("triệu", "triệu"), ("tỷ", "tỷ"), ("nghìn tỷ", "nghìn tỷ")),
            range: "-",
            points: " điểm phần trăm",
            ..base
        },
        "ar" => Locale {
            western: w(
                ("مليون", "مليون"),
                ("مليار", "مليار"),
                ("تريليون", "تريليون"),
            ),
            range: " إلى ",
            points: " نقطة مئوية",
            ..base
        },
        _ => base,
    }
}

fn currency_name(code: &str, lang: &Language) -> String {
    let table: &[(&str, &str)] = match lang.code {
        "zh-Hans" => &[
            ("USD", "美元"),
            ("EUR", "欧元"),
            ("GBP", "英镑"),
            ("JPY", "日元"),
            ("CNY", "元人民币"),
            ("HKD", "港元"),
            ("AUD", "澳元"),
            ("CAD", "加元"),
            ("NZD", "新西兰元"),
            ("SGD", "新加坡元"),
            ("CHF", "瑞士法郎"),
            ("INR", "卢比"),
            ("KRW", "韩元"),
            ("RUB", "卢布"),
            ("BRL", "雷亚尔"),
        ],
        "zh-Hant" => &[
            ("USD", "美元"),
            ("EUR", "歐元"),
            ("GBP", "英鎊"),
            ("JPY", "日圓"),
            ("CNY", "元人民幣"),
            ("HKD", "港元"),
            ("AUD", "澳元"),
            ("CAD", "加元"),
            ("NZD", "紐西蘭元"),
            ("SGD", "新加坡元"),
            ("CHF", "瑞士法郎"),
            ("INR", "盧比"),
            ("KRW", "韓元"),
            ("RUB", "盧布"),
            ("BRL", "雷亞爾"),
        ],
        "ja" => &[
            ("USD", "ドル"),
            ("EUR", "ユーロ"),
            ("GBP", "ポンド"),
            ("JPY", "円"),
            ("CNY", "人民元"),
            ("HKD", "香港ドル"),
            ("AUD", "豪ドル"),
            ("CAD", "カナダドル"),
            ("INR", "ルピー"),
            ("KRW", "ウォン"),
            ("RUB", "ルーブル"),
        ],
        "ko" => &[
            ("USD", "달러"),
            ("EUR", "유로"),
            ("GBP", "파운드"),
            ("JPY", "엔"),
            ("CNY", "위안"),
            ("HKD", "홍콩달러"),
            ("INR", "루피"),
            ("KRW", "원"),
            ("RUB", "루블"),
        ],
        _ => &[
            ("USD", "$"),
            ("EUR", "€"),
            ("GBP", "£"),
            ("JPY", "¥"),
            ("INR", "₹"),
            ("KRW", "₩"),
            ("RUB", "₽"),
        ],
    };
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| code.to_string())
}

/// A bare value in the target language's way: 4500万 / 1,5 Mrd. / 290.000.
fn render_value(v: f64, loc: &Locale) -> String {
    let abs = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if let Some([wan, yi, zhao]) = loc.east_asian {
        // The largest unit that renders the value exactly with a short mantissa.
        let scaled = [(1e12, zhao), (1e8, yi), (1e4, wan)]
            .iter()
            .filter(|(unit, _)| abs >= *unit)
            .find_map(|(unit, name)| exact_short(abs / unit, 3).map(|n| format!("{n}{name}")));
        return match scaled {
            Some(s) => format!("{sign}{s}"),
            None => group_digits(v, loc.thousands, loc.decimal, false),
        };
    }
    for (i, unit) in [1e12, 1e9, 1e6].iter().enumerate() {
        if abs >= *unit {
            if let Some(n) = exact_short(abs / unit, 3) {
                let (one, many) = loc.western[2 - i];
                let word = if abs / unit < 2.0 { one } else { many };
                let n = n.replace('.', loc.decimal);
                return format!("{sign}{n} {word}");
            }
        }
    }
    group_digits(v, loc.thousands, loc.decimal, false)
}

fn fraction_words(v: f64, lang: &Language) -> Option<String> {
    let (n, d) = (1..=9)
        .flat_map(|n| (3..=10).map(move |d| (n, d)))
        .find(|&(n, d)| ((n as f64 / d as f64) - v).abs() < 1e-3 && n < d)?;
    Some(match lang.code {
        "zh-Hans" | "zh-Hant" => {
            const ZH: [&str; 11] = [
                "零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
            ];
            format!("{}分之{}", ZH[d], ZH[n])
        }
        "ja" => format!("{d}分の{n}"),
        "ko" => format!("{d}분의 {n}"),
        _ => format!("{n}/{d}"),
    })
}

/// The amount as a native speaker of `lang` writes it: "€100m" → 1亿欧元 (zh), 1億ユーロ (ja),
/// 100 millions € (fr); "45%" → 45%; "3.5 percentage points" → 3.5个百分点.
pub fn render(amount: &Amount, lang: &Language) -> String {
    let loc = locale(lang);
    let cjk = loc.east_asian.is_some();
    let value = |v: f64| render_value(v, &loc);
    let number = match amount.high {
        Some(h) => format!("{}{}{}", value(amount.value), loc.range, value(h)),
        None => value(amount.value),
    };
    match amount.unit {
        Unit::Count => number,
        Unit::Currency(code) => {
            let name = currency_name(code, lang);
            match lang.code {
                "ko" => format!("{number} {name}"),
                _ if cjk => format!("{number}{name}"),
                "en" => format!("{name}{number}"),
                _ => format!("{number} {name}"),
            }
        }
        Unit::Percent => {
            let pct = |v: f64| group_digits(v, loc.thousands, loc.decimal, false);
            let n = match amount.high {
                Some(h) => format!("{}%{}{}", pct(amount.value), loc.range, pct(h)),
                None => pct(amount.value),
            };
            match lang.code {
                "fr" | "de" | "ru" => format!("{n}\u{00A0}%"),
                _ => format!("{n}%"),
            }
        }
        Unit::Points => format!("{number}{}", loc.points),
        Unit::Fraction => fraction_words(amount.value, lang).unwrap_or(number),
        Unit::Year => {
            let y = |v: f64| format!("{v:.0}");
            let years = match amount.high {
                Some(h) => format!("{}{}{}", y(amount.value), loc.range, y(h)),
                None => y(amount.value),
            };
            match lang.code {
                "zh-Hans" | "zh-Hant" | "ja" => format!("{years}年"),
                "ko" => format!("{years}년"),
                _ => years,
            }
        }
        Unit::Date { month, year } => {
            let day = amount.value as u8;
            let y = year.map(|y| y.to_string());
            match lang.code {
                "zh-Hans" | "zh-Hant" | "ja" => {
                    format!(
                        "{}{month}月{day}日",
                        y.map(|y| y + "年").unwrap_or_default()
                    )
                }
                "ko" => format!(
                    "{}{month}월 {day}일",
                    y.map(|y| y + "년 ").unwrap_or_default()
                ),
                "en" => amount.text.clone(),
                code => european_date(code, day, month, year),
            }
        }
    }
}

/// "1 janvier 2021", "1. Januar 2021", "1 de enero de 2021"…
fn european_date(code: &str, day: u8, month: u8, year: Option<u16>) -> String {
    let i = usize::from(month.clamp(1, 12)) - 1;
    let name = month_names(code).map_or(MONTHS[i], |names| names[i]);
    let y = year.map(|y| y.to_string());
    match (code, y) {
        ("vi", Some(y)) => format!("ngày {day} tháng {month} năm {y}"),
        ("vi", None) => format!("ngày {day} tháng {month}"),
        ("de", Some(y)) => format!("{day}. {name} {y}"),
        ("de", None) => format!("{day}. {name}"),
        ("es" | "pt", Some(y)) => format!("{day} de {name} de {y}"),
        ("es" | "pt", None) => format!("{day} de {name}"),
        ("ru", Some(y)) => format!("{day} {name} {y} г."),
        (_, Some(y)) => format!("{day} {name} {y}"),
        (_, None) => format!("{day} {name}"),
    }
}

/// The month names, January first, in the form a date uses ("1 января"), for the languages
/// that have them here; a date in any other language takes the English name (vi writes the
/// month's number instead).
fn month_names(code: &str) -> Option<[&'static str; 12]> {
    Some(match code {
        "fr" => [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        "de" => [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        "es" => [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        "ru" => [
            "января",
            "февраля",
            "марта",
            "апреля",
            "мая",
            "июня",
            "июля",
            "августа",
            "сентября",
            "октября",
            "ноября",
            "декабря",
        ],
        "pt" => [
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ],
        "it" => [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ],
        "ar" => [
            "يناير",
            "فبراير",
            "مارس",
            "أبريل",
            "مايو",
            "يونيو",
            "يوليو",
            "أغسطس",
            "سبتمبر",
            "أكتوبر",
            "نوفمبر",
            "ديسمبر",
        ],
        _ => return None,
    })
}

fn target_number_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(\d{1,3}(?:[,.\u{00A0}\u{202F} ']\d{3})+|\d+)([.,]\d+)?\s?(万亿|萬億|兆|百万|千万|万|萬|亿|億|千|만|억|조|천|thousand|million|billion|trillion|mil millones|mio\.?|mrd\.?|bio\.?|millions?|milliards?|billions?|mill[oó]n(?:es)?|bill[oó]n(?:es)?|milh(?:ão|ões)|bilh(?:ão|ões)|trilh(?:ão|ões)|milion[ei]|miliard[oi]|bilion[ei]|млн|млрд|трлн|миллион\w*|миллиард\w*|triệu|nghìn tỷ|tỷ|مليون|مليار|تريليون|mil\b)?",
        )
        .expect("valid regex")
    })
}

fn scale_of(word: &str) -> f64 {
    let w = word.to_lowercase();
    let w = w.trim_end_matches('.');
    match w {
        "万亿" | "萬億" | "兆" | "조" | "trillion" | "трлн" | "nghìn tỷ" | "تريليون" => {
            1e12
        }
        "百万" => 1e6,
        "千万" => 1e7,
        "万" | "萬" | "만" => 1e4,
        "亿" | "億" | "억" => 1e8,
        "千" | "천" | "thousand" | "mil" => 1e3,
        "million" | "millions" | "mio" | "млн" | "triệu" | "مليون" => 1e6,
        "billion" | "billions" | "mil millones" | "mrd" | "milliard" | "milliards" | "млрд"
        | "tỷ" | "مليار" => 1e9,
        "bio" => 1e12,
        _ if w.starts_with("миллиард") || w.starts_with("miliard") || w.starts_with("bilh") => {
            1e9
        }
        _ if w.starts_with("миллион")
            || w.starts_with("millón")
            || w.starts_with("millon")
            || w.starts_with("milh")
            || w.starts_with("milion") =>
        {
            1e6
        }
        _ if w.starts_with("billón")
            || w.starts_with("billon")
            || w.starts_with("bilion")
            || w.starts_with("trilh") =>
        {
            1e12
        }
        _ => 1.0,
    }
}

/// The readings of a written number: "1.500" is 1500 in German and 1.5 in English, so both.
fn number_readings(int: &str, frac: Option<&str>) -> Vec<f64> {
    let mut out = Vec::new();
    let digits: String = int.chars().filter(char::is_ascii_digit).collect();
    let grouped = digits.len() != int.len();
    if let Ok(n) = digits.parse::<f64>() {
        let f = frac
            .and_then(|f| {
                f[1..]
                    .parse::<f64>()
                    .ok()
                    .map(|x| x / 10f64.powi(f.len() as i32 - 1))
            })
            .unwrap_or(0.0);
        out.push(n + f);
    }
    // "1.5" read with a grouping pattern would be one group: also its decimal reading.
    if grouped && frac.is_none() {
        if let Some((head, tail)) = int.rsplit_once(['.', ',']) {
            if !head.contains(['.', ',', ' ', '\u{00A0}', '\u{202F}', '\'']) {
                if let Ok(v) = format!("{head}.{tail}").parse::<f64>() {
                    out.push(v);
                }
            }
        }
    }
    out
}

const ZH_DIGITS: &str = "零〇一二两三四五六七八九";

fn zh_digit(c: char) -> Option<f64> {
    match c {
        '零' | '〇' => Some(0.0),
        '一' => Some(1.0),
        '二' | '两' | '兩' => Some(2.0),
        '三' => Some(3.0),
        '四' => Some(4.0),
        '五' => Some(5.0),
        '六' => Some(6.0),
        '七' => Some(7.0),
        '八' => Some(8.0),
        '九' => Some(9.0),
        _ => None,
    }
}

/// The value of a Chinese numeral such as 三百五十万 or 二十五.
fn zh_numeral(s: &str) -> Option<f64> {
    let (mut total, mut section, mut digit): (f64, f64, Option<f64>) = (0.0, 0.0, None);
    let mut any = false;
    for c in s.chars() {
        if let Some(d) = zh_digit(c) {
            digit = Some(d);
            any = true;
            continue;
        }
        let unit = match c {
            '十' => 10.0,
            '百' => 100.0,
            '千' => 1000.0,
            '万' | '萬' => 1e4,
            '亿' | '億' => 1e8,
            _ => return None,
        };
        any = true;
        if unit < 1e4 {
            section += digit.unwrap_or(1.0) * unit;
        } else {
            section += digit.unwrap_or(0.0);
            total = if unit > 1e4 && total > 0.0 && total < unit {
                (total + section) * unit
            } else {
                total + section * unit
            };
            section = 0.0;
        }
        digit = None;
    }
    any.then_some(total + section + digit.unwrap_or(0.0))
}

fn zh_numeral_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            "(百分之)?([{ZH_DIGITS}兩十百千万萬亿億]+)(?:分之([{ZH_DIGITS}兩十]+))?"
        ))
        .expect("valid regex")
    })
}

fn east_asian_fraction_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(\d+)\s?(?:分の|분의\s?)(\d+)|(\d+)\s?/\s?(\d+)").expect("valid regex")
    })
}

/// A number written in a translation: where, and its values (scale applied first).
struct Written {
    span: Range<usize>,
    /// The number's readings with its scale word applied ("100万" is 1000000).
    primary: Vec<f64>,
    /// Those and the bare figures ("100万" also counts as 100).
    values: Vec<f64>,
    digits: bool,
}

fn written_numbers(text: &str) -> Vec<Written> {
    let mut out = Vec::new();
    for c in target_number_re().captures_iter(text) {
        let whole = c.get(0).expect("match");
        let scale = c.get(3).map_or(1.0, |m| scale_of(m.as_str()));
        let readings = number_readings(&c[1], c.get(2).map(|m| m.as_str()));
        let mut primary: Vec<f64> = readings.iter().map(|n| n * scale).collect();
        // A French "billion" is 10^12, an English one 10^9: both readings.
        if c.get(3)
            .is_some_and(|m| m.as_str().to_lowercase().starts_with("billion"))
        {
            primary.extend(readings.iter().map(|n| n * 1e12));
        }
        let mut values = primary.clone();
        if scale != 1.0 {
            values.extend(&readings);
        }
        out.push(Written {
            span: whole.start()..whole.end(),
            primary,
            values,
            digits: true,
        });
    }
    for c in zh_numeral_re().captures_iter(text) {
        let whole = c.get(0).expect("match");
        let Some(first) = zh_numeral(&c[2]) else {
            continue;
        };
        let value = match c.get(3).and_then(|m| zh_numeral(m.as_str())) {
            Some(numerator) if first != 0.0 => numerator / first,
            _ => first,
        };
        out.push(Written {
            span: whole.range(),
            primary: vec![value],
            values: vec![value],
            digits: false,
        });
    }
    for c in east_asian_fraction_re().captures_iter(text) {
        let nums: Vec<f64> = (1..=4)
            .filter_map(|i| c.get(i).and_then(|m| m.as_str().parse().ok()))
            .collect();
        if let [a, b] = nums[..] {
            // 3分の2 is two-thirds; 2/3 is too.
            let v = if c.get(1).is_some() { b / a } else { a / b };
            if v.is_finite() {
                out.push(Written {
                    span: c.get(0).expect("match").range(),
                    primary: vec![v],
                    values: vec![v],
                    digits: false,
                });
            }
        }
    }
    out
}

/// Every numeric value written in a text: digits (in any locale's grouping), scale words of
/// the target languages, Chinese numerals, fractions. A scaled number also counts as its bare
/// figure ("29万" contains 290000 and 29).
pub fn values_in(text: &str) -> Vec<f64> {
    written_numbers(text)
        .into_iter()
        .flat_map(|w| w.values)
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= a.abs().max(b.abs()) * 1e-9 + 1e-9
}

/// Whether `translation` kept `amount` (by value, in whatever correct form).
pub fn kept(amount: &Amount, translation: &str, values: &[f64]) -> bool {
    let has = |v: f64| {
        let tolerance = if amount.unit == Unit::Fraction {
            1e-3
        } else {
            0.0
        };
        values
            .iter()
            .any(|x| close(x.abs(), v.abs()) || (x.abs() - v.abs()).abs() <= tolerance)
    };
    match amount.unit {
        Unit::Date { month, year } => {
            let day = amount.value as u8;
            let east_asian = [
                format!("{month}月{day}日"),
                format!("{month}月{day}号"),
                format!("{month}월 {day}일"),
                format!("{month}월{day}일"),
            ];
            let day_ok = east_asian.iter().any(|d| translation.contains(d.as_str()))
                || (!translation.contains('月')
                    && !translation.contains('월')
                    && has(f64::from(day)));
            day_ok && year.is_none_or(|y| has(f64::from(y)))
        }
        Unit::Fraction => has(amount.value) || has(amount.value * 100.0),
        _ => {
            (has(amount.value) || amount.alternative.is_some_and(has))
                && amount.high.is_none_or(has)
        }
    }
}

/// Source amounts whose value does not appear in a translation into `lang`. Numbers the source
/// spells out ("six months") are checked only where the target's numerals are read back
/// (Chinese and Japanese 六); elsewhere the target writes them as words of its own.
pub fn missing_amounts(source: &str, translation: &str, lang: &Language) -> Vec<Amount> {
    let values = values_in(translation);
    let numerals_read = matches!(lang.code, "zh-Hans" | "zh-Hant" | "ja");
    find_amounts(source)
        .into_iter()
        .filter(|a| {
            numerals_read || !(a.is_plain_count() && a.text.starts_with(char::is_alphabetic))
        })
        .filter(|a| !kept(a, translation, &values))
        .collect()
}

/// Every value the source states in any form: digits, amounts, number words, dates.
fn source_values(source: &str) -> Vec<f64> {
    let mut known = values_in(source);
    for a in find_amounts(source) {
        known.push(a.value);
        known.extend(a.high);
        if let Unit::Date { month, year } = a.unit {
            known.push(f64::from(month));
            known.extend(year.map(f64::from));
        }
    }
    for w in source.split(|c: char| !c.is_ascii_alphabetic() && c != '-') {
        let lower = w.to_ascii_lowercase();
        if let Some(v) = spelled_value(&lower) {
            known.push(v);
        }
        for (n, word) in SMALL_NUMBERS.iter().enumerate() {
            // "fiveyear", "tenfold": a number word glued to another.
            if lower.starts_with(word) && lower.len() <= word.len() + 4 {
                known.push(n as f64);
            }
        }
        for (n, word) in TENS.iter().enumerate() {
            if lower.starts_with(word) {
                known.push(n as f64 * 10.0 + 20.0);
            }
        }
    }
    for m in date_re().captures_iter(source) {
        if let Some(month) = m
            .name("m1")
            .or(m.name("m2"))
            .and_then(|m| month_number(m.as_str()))
        {
            known.push(f64::from(month));
        }
    }
    // Month names alone ("in July") are months a translation may write as 7月.
    for (i, name) in MONTHS.iter().enumerate() {
        if contains_word(source, name) {
            known.push(i as f64 + 1.0);
        }
    }
    known
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Numbers written in digits in a translation that the source does not contain in any form:
/// a model inventing a date, a count, or a wrong scale ("100万" for "€100m").
pub fn invented_numbers(source: &str, translation: &str) -> Vec<f64> {
    let known = source_values(source);
    written_numbers(translation)
        .into_iter()
        .filter(|w| w.digits)
        .filter(|w| {
            !w.primary
                .iter()
                .any(|v| known.iter().any(|k| close(*k, *v)))
        })
        .filter_map(|w| w.primary.first().copied())
        .collect()
}

/// What [`repair`] did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Repair {
    pub text: String,
    /// (what the translation had, what replaced it).
    pub replaced: Vec<(String, String)>,
    /// Source amounts still missing from `text`.
    pub missing: Vec<Amount>,
}

/// Currency and unit words a CJK translation puts right after a number (replaced with it).
const CJK_UNIT_WORDS: &[&str] = &[
    "元人民币",
    "元人民幣",
    "美元",
    "欧元",
    "歐元",
    "英镑",
    "英鎊",
    "日元",
    "日圓",
    "人民币",
    "人民幣",
    "港元",
    "港币",
    "澳元",
    "加元",
    "卢比",
    "盧比",
    "韩元",
    "韓元",
    "卢布",
    "盧布",
    "瑞士法郎",
    "元",
    "ドル",
    "ユーロ",
    "ポンド",
    "円",
    "人民元",
    " 달러",
    "달러",
    " 유로",
    "유로",
    " 파운드",
    "파운드",
    " 엔",
    " 위안",
    "위안",
    "원",
    "%",
    "％",
];

/// Replaces wrong figures in a CJK translation with the source amounts' renderings when each
/// missing amount pairs with exactly one figure the source does not contain (same count, in
/// order). Otherwise nothing is replaced and the missing amounts are reported.
pub fn repair(source: &str, translation: &str, lang: &Language) -> Repair {
    let missing = missing_amounts(source, translation, lang);
    let unchanged = Repair {
        text: translation.to_string(),
        replaced: Vec::new(),
        missing: missing.clone(),
    };
    if missing.is_empty() || !lang.is_cjk() || missing.iter().any(|a| a.high.is_some()) {
        return unchanged;
    }
    let known = source_values(source);
    let invented: Vec<Written> = written_numbers(translation)
        .into_iter()
        .filter(|w| w.digits)
        .filter(|w| {
            !w.primary
                .iter()
                .any(|v| known.iter().any(|k| close(*k, *v)))
        })
        .collect();
    if invented.len() != missing.len() {
        return unchanged;
    }
    let mut out = String::with_capacity(translation.len() + 16);
    let mut at = 0;
    let mut replaced = Vec::new();
    for (w, a) in invented.iter().zip(&missing) {
        if !matches!(
            a.unit,
            Unit::Currency(_) | Unit::Count | Unit::Percent | Unit::Points
        ) {
            return unchanged;
        }
        let mut end = w.span.end;
        let rest = &translation[end..];
        if let Some(unit) = CJK_UNIT_WORDS.iter().find(|u| rest.starts_with(**u)) {
            end += unit.len();
        }
        let rendering = render(a, lang);
        out.push_str(&translation[at..w.span.start]);
        out.push_str(&rendering);
        replaced.push((translation[w.span.start..end].to_string(), rendering));
        at = end;
    }
    out.push_str(&translation[at..]);
    let values = values_in(&out);
    let still: Vec<Amount> = missing
        .into_iter()
        .filter(|a| !kept(a, &out, &values))
        .collect();
    if !still.is_empty() {
        return unchanged;
    }
    Repair {
        text: out,
        replaced,
        missing: still,
    }
}

/// A note that shows the source's amounts beside a translation that lost them.
pub fn source_amounts_note(missing: &[Amount], lang: &Language) -> String {
    let list: Vec<&str> = missing.iter().map(|a| a.text.as_str()).collect();
    let list = list.join(", ");
    match lang.code {
        "zh-Hans" => format!("（原文金额：{list}）"),
        "zh-Hant" => format!("（原文金額：{list}）"),
        "ja" => format!("（原文の数値：{list}）"),
        "ko" => format!(" (원문 수치: {list})"),
        "fr" => format!(" (montants d’origine : {list})"),
        "de" => format!(" (Zahlen im Original: {list})"),
        "es" => format!(" (cifras del original: {list})"),
        "ru" => format!(" (в оригинале: {list})"),
        "pt" => format!(" (valores do original: {list})"),
        "it" => format!(" (cifre originali: {list})"),
        "vi" => format!(" (số liệu gốc: {list})"),
        "ar" => format!(" (الأرقام في الأصل: {list})"),
        _ => format!(" (original figures: {list})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh() -> Language {
        Language::parse("zh").unwrap()
    }

    fn texts(s: &str) -> Vec<String> {
        find_amounts(s).into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn clock_times_are_not_amounts() {
        assert!(find_amounts("Dad says daughter took her own life 02:33").is_empty());
        assert!(find_amounts("at 10:30:15 on the clock").is_empty());
        assert_eq!(texts("2,500 people at 9:45"), ["2,500"]);
    }

    #[test]
    fn finds_amounts_years_and_counts() {
        let a = find_amounts(
            "In 2016 the $45 million fund helped 290,000 people in 3 towns; €1.2 billion more.",
        );
        let t: Vec<_> = a.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(t, ["2016", "$45 million", "290,000", "3", "€1.2 billion"]);
        assert_eq!(a[0].unit, Unit::Year);
        assert_eq!(a[1].value, 45e6);
        assert!(a[3].is_plain_count() && !a[2].is_plain_count());
        assert_eq!(a[4].currency(), Some("EUR"));
    }

    #[test]
    fn suffixes_ranges_percentages_and_words() {
        let a = find_amounts("The strike could cost businesses €100m ($110m) a day.");
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].value, a[0].currency()), (1e8, Some("EUR")));
        assert_eq!((a[1].value, a[1].currency()), (1.1e8, Some("USD")));
        assert_eq!(
            texts("a $1.5bn deal and £3.2tn of debt"),
            ["$1.5bn", "£3.2tn"]
        );
        let r = find_amounts("bids of $3m-$5m");
        assert_eq!((r[0].value, r[0].high), (3e6, Some(5e6)));
        let r = find_amounts("prices rose 10 to 12 percent");
        assert_eq!(
            (r[0].value, r[0].high, r[0].unit),
            (10.0, Some(12.0), Unit::Percent)
        );
        let r = find_amounts("worth $3-5m each");
        assert_eq!((r[0].value, r[0].high), (3e6, Some(5e6)));
        let p = find_amounts("rates fell 0.25 percentage points, or -5%");
        assert_eq!((p[0].value, p[0].unit), (0.25, Unit::Points));
        assert_eq!((p[1].value, p[1].unit), (-5.0, Unit::Percent));
        let w = find_amounts("five million people, two-thirds of them children");
        assert_eq!(w[0].value, 5e6);
        assert_eq!(w[1].unit, Unit::Fraction);
        // "a third" is a fraction before "of", a preposition or punctuation, else an ordinal.
        for fraction in [
            "a third of voters",
            "sales fell by a third.",
            "down a fifth since May",
        ] {
            let f = find_amounts(fraction);
            assert_eq!(f.len(), 1, "{fraction}");
            assert_eq!(f[0].unit, Unit::Fraction, "{fraction}");
        }
        for ordinal in [
            "a third way to block it",
            "a fifth term",
            "a quarter century",
        ] {
            assert!(find_amounts(ordinal).is_empty(), "{ordinal}");
        }
        // A dash joining words is no minus; "5 m" is metres, not millions.
        let plain = find_amounts("COVID-19 hit 5 m of road and 3 towns");
        let values: Vec<f64> = plain.iter().map(|a| a.value).collect();
        assert_eq!(values, [5.0, 3.0]);
        assert!(plain.iter().all(Amount::is_plain_count));
        let d = find_amounts("on July 6, 2016 and 11 February 2023");
        assert_eq!(
            d[0].unit,
            Unit::Date {
                month: 7,
                year: Some(2016)
            }
        );
        assert_eq!(
            d[1].unit,
            Unit::Date {
                month: 2,
                year: Some(2023)
            }
        );
    }

    #[test]
    fn renders_each_language_exactly() {
        let one = |s: &str| find_amounts(s).remove(0);
        let r = |s: &str, l: &str| render(&one(s), &Language::parse(l).unwrap());
        assert_eq!(r("$45 million", "zh"), "4500万美元");
        assert_eq!(r("costs €100m", "zh"), "1亿欧元");
        assert_eq!(r("290,000 people", "zh"), "29万");
        assert_eq!(r("$4.5 billion", "zh"), "45亿美元");
        assert_eq!(r("1,500 km", "zh"), "1500");
        assert_eq!(r("$45 million", "zh-Hant"), "4500萬美元");
        assert_eq!(r("$45 million", "ja"), "4500万ドル");
        assert_eq!(r("$45 million", "ko"), "4500만 달러");
        assert_eq!(r("£3.2tn", "zh"), "3.2万亿英镑");
        assert_eq!(r("bids of $3m-$5m", "zh"), "300万至500万美元");
        assert_eq!(r("up 3.5 percentage points", "zh"), "3.5个百分点");
        assert_eq!(r("two-thirds of", "zh"), "三分之二");
        assert_eq!(r("on July 6, 2016", "zh"), "2016年7月6日");
        assert_eq!(r("€1.5bn", "fr"), "1,5 milliard €");
        assert_eq!(r("€100m", "de"), "100 Mio. €");
        assert_eq!(r("290,000 people", "de"), "290.000");
        assert_eq!(r("290,000 people", "fr"), "290\u{202F}000");
        assert_eq!(r("$2.5 million", "es"), "2,5 millones $");
        assert_eq!(r("12.5% rise", "de"), "12,5\u{00A0}%");
    }

    #[test]
    fn detects_a_changed_amount_in_any_correct_form() {
        let src = "The plan costs $45 million and the war killed 290,000.";
        assert!(
            missing_amounts(src, "该计划耗资4500万美元，战争造成29万人死亡。", &zh()).is_empty()
        );
        assert!(
            missing_amounts(src, "该计划耗资4,500万美元，战争造成290,000人死亡。", &zh())
                .is_empty()
        );
        assert!(missing_amounts(
            src,
            "该计划耗资四千五百万美元，战争造成二十九万人死亡。",
            &zh()
        )
        .is_empty());
        assert!(missing_amounts(
            src,
            "Le plan coûte 45 millions de dollars ; 290 000 morts.",
            &zh()
        )
        .is_empty());
        let missing = missing_amounts(src, "该计划耗资45亿美元，战争造成29万人死亡。", &zh());
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].text, "$45 million");
    }

    #[test]
    fn detects_invented_numbers() {
        let src = "The US and Russia on Friday grappled over a fiveyear war that has killed more than 290,000.";
        assert!(invented_numbers(
            src,
            "美国和俄罗斯周五就一场已造成超过29万人死亡的五年战争进行争执。"
        )
        .is_empty());
        assert!(invented_numbers(
            src,
            "美国和俄罗斯就一场造成290,000人死亡的5年战争进行争执。"
        )
        .is_empty());
        assert_eq!(
            invented_numbers(src, "7月6日，美国和俄罗斯就造成29万人死亡的战争进行争执。"),
            [7.0, 6.0]
        );
    }

    #[test]
    fn a_wrong_scale_is_replaced_in_place() {
        let src = "The rail strike could cost businesses €100m ($110m) a day.";
        let fixed = repair(
            src,
            "铁路罢工每天可能使企业损失100万欧元（110万美元）。",
            &zh(),
        );
        assert_eq!(
            fixed.text,
            "铁路罢工每天可能使企业损失1亿欧元（1.1亿美元）。"
        );
        assert_eq!(fixed.replaced.len(), 2);
        assert!(fixed.missing.is_empty());
        // Correct output is left alone.
        let ok = repair(
            src,
            "铁路罢工每天可能使企业损失1亿欧元（1.1亿美元）。",
            &zh(),
        );
        assert!(ok.replaced.is_empty() && ok.missing.is_empty());
        // Ambiguous (one wrong figure, two missing amounts): nothing is guessed.
        let amb = repair(src, "铁路罢工每天可能使企业损失100万欧元。", &zh());
        assert!(amb.replaced.is_empty());
        assert_eq!(amb.missing.len(), 2);
    }
}
