//! Amounts in a source text, their exact renderings in CJK languages, and a check that a
//! translation kept them. Small models happily turn "$45 million" into 45亿; we tell them the
//! right rendering up front and verify afterwards.

use std::sync::OnceLock;

use regex::Regex;

use crate::lang::Language;

#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    /// The amount as written in the source, e.g. "$45 million".
    pub text: String,
    pub value: f64,
    pub currency: Option<&'static str>,
}

fn amount_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(US\$|\$|€|£|¥)?\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s?(thousand|million|billion|trillion|bn)\b)?(?:\s(dollars|euros|pounds|yuan)\b)?")
            .expect("valid regex")
    })
}

/// Amounts worth protecting: anything with a currency or scale word, or a number ≥ 1,000.
/// Years (1900–2100 without currency or scale) are left alone.
pub fn find_amounts(text: &str) -> Vec<Amount> {
    let mut out = Vec::new();
    for c in amount_re().captures_iter(text) {
        let digits = c[2].replace(',', "");
        let Ok(int) = digits.parse::<f64>() else {
            continue;
        };
        let frac = c
            .get(3)
            .and_then(|m| m.as_str().parse::<f64>().ok())
            .unwrap_or(0.0);
        let scale = match c.get(4).map(|m| m.as_str().to_ascii_lowercase()).as_deref() {
            Some("thousand") => 1e3,
            Some("million") => 1e6,
            Some("billion" | "bn") => 1e9,
            Some("trillion") => 1e12,
            _ => 1.0,
        };
        let symbol = c
            .get(1)
            .map(|m| m.as_str())
            .or(c.get(5).map(|m| m.as_str()));
        let currency = symbol.map(|s| match s.to_ascii_lowercase().as_str() {
            "€" | "euros" => "EUR",
            "£" | "pounds" => "GBP",
            "¥" | "yuan" => "CNY",
            _ => "USD",
        });
        let value = (int + frac) * scale;
        let is_year = currency.is_none()
            && scale == 1.0
            && frac == 0.0
            && !c[2].contains(',')
            && (1900.0..=2100.0).contains(&int);
        if is_year || (currency.is_none() && scale == 1.0 && value < 1000.0) {
            continue;
        }
        out.push(Amount {
            text: c[0].trim().to_string(),
            value,
            currency,
        });
    }
    out
}

/// `v` with at most 4 decimals, if that is exact.
fn exact_short(v: f64) -> Option<String> {
    let scaled = v * 1e4;
    if (scaled - scaled.round()).abs() > 1e-6 * scaled.abs().max(1.0) {
        return None;
    }
    let s = format!("{v:.4}");
    Some(s.trim_end_matches('0').trim_end_matches('.').to_string())
}

fn group_digits(v: f64) -> String {
    let digits = format!("{:.0}", v.trunc());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        // Four-digit numbers stay ungrouped (1500), as Chinese and Japanese write them.
        if i > 0 && (digits.len() - i) % 3 == 0 && digits.len() > 4 {
            out.push(',');
        }
        out.push(c);
    }
    match exact_short(v.fract()).filter(|f| f != "0") {
        Some(frac) => format!("{out}{}", frac.trim_start_matches('0')),
        None => out,
    }
}

/// The amount as a native speaker of a CJK language writes it: 4500万美元, 29万, 1.2亿欧元.
pub fn render_cjk(amount: &Amount, lang: &Language) -> String {
    let (wan, yi, zhao) = match lang.code {
        "zh-Hant" => ("萬", "億", "兆"),
        "ja" => ("万", "億", "兆"),
        _ => ("万", "亿", "万亿"),
    };
    let v = amount.value;
    // The largest unit that renders the value exactly; otherwise plain grouped digits.
    let number = [(1e12, zhao), (1e8, yi), (1e4, wan)]
        .iter()
        .filter(|(unit, _)| v >= *unit)
        .find_map(|(unit, name)| exact_short(v / unit).map(|n| format!("{n}{name}")))
        .unwrap_or_else(|| group_digits(v));
    let unit = match (amount.currency, lang.code) {
        (Some("USD"), "ja") => "ドル",
        (Some("EUR"), "ja") => "ユーロ",
        (Some("GBP"), "ja") => "ポンド",
        (Some("CNY"), "ja") => "元",
        (Some("USD"), "zh-Hant") => "美元",
        (Some("USD"), _) => "美元",
        (Some("EUR"), _) => "欧元",
        (Some("GBP"), "zh-Hant") => "英鎊",
        (Some("GBP"), _) => "英镑",
        (Some("CNY"), _) => "元",
        _ => "",
    };
    format!("{number}{unit}")
}

fn target_number_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(万亿|萬億|兆|万|萬|亿|億|千|thousand|million|billion|trillion)?")
            .expect("valid regex")
    })
}

/// Each number written in a text as (number as written, scale): "29万" is (29, 1e4).
fn written_numbers(text: &str) -> impl Iterator<Item = (f64, f64)> + '_ {
    target_number_re().captures_iter(text).filter_map(|c| {
        let int = c[1].replace(',', "").parse::<f64>().ok()?;
        let frac = c
            .get(2)
            .and_then(|m| m.as_str().parse::<f64>().ok())
            .unwrap_or(0.0);
        let scale = match c.get(3).map(|m| m.as_str().to_ascii_lowercase()).as_deref() {
            Some("万亿" | "萬億" | "兆") => 1e12,
            Some("万" | "萬") => 1e4,
            Some("亿" | "億") => 1e8,
            Some("千" | "thousand") => 1e3,
            Some("million") => 1e6,
            Some("billion") => 1e9,
            Some("trillion") => 1e12,
            _ => 1.0,
        };
        Some((int + frac, scale))
    })
}

/// Every numeric value written in a text, with CJK and English scale words applied; a scaled
/// number also counts as its bare figure ("29万" contains 290000 and 29).
pub fn values_in(text: &str) -> Vec<f64> {
    written_numbers(text)
        .flat_map(|(n, scale)| {
            if scale == 1.0 {
                vec![n]
            } else {
                vec![n * scale, n]
            }
        })
        .collect()
}

/// Numbers as written in a text, each once, with scale words applied ("29万" is 290000 only).
fn primary_values(text: &str) -> Vec<f64> {
    written_numbers(text).map(|(n, scale)| n * scale).collect()
}

const NUMBER_WORDS: &[&str] = &[
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
    "twenty",
];

/// Numbers in a translation that the source does not contain in any form (digits, scale words
/// or English number words up to twenty): a model inventing a date or a count.
pub fn invented_numbers(source: &str, translation: &str) -> Vec<f64> {
    let mut known = values_in(source);
    known.extend(find_amounts(source).iter().map(|a| a.value));
    let lower = source.to_lowercase();
    for (n, word) in NUMBER_WORDS.iter().enumerate() {
        if lower
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w == *word || w.starts_with(word) && w.len() <= word.len() + 4)
        {
            known.push(n as f64);
        }
    }
    primary_values(translation)
        .into_iter()
        .filter(|v| !known.iter().any(|k| (k - v).abs() <= v.abs() * 1e-9))
        .collect()
}

/// Source amounts whose value does not appear in the translation.
pub fn missing_amounts(source: &str, translation: &str) -> Vec<Amount> {
    let found = values_in(translation);
    find_amounts(source)
        .into_iter()
        .filter(|a| {
            !found
                .iter()
                .any(|v| (v - a.value).abs() <= a.value.abs() * 1e-9)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh() -> Language {
        Language::parse("zh").unwrap()
    }

    #[test]
    fn finds_amounts_but_not_years_or_small_numbers() {
        let a = find_amounts(
            "In 2016 the $45 million fund helped 290,000 people in 3 towns; €1.2 billion more.",
        );
        let texts: Vec<_> = a.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["$45 million", "290,000", "€1.2 billion"]);
        assert_eq!(a[0].value, 45e6);
        assert_eq!(a[2].currency, Some("EUR"));
    }

    #[test]
    fn renders_chinese_scales_exactly() {
        let a = find_amounts("$45 million and 290,000 and $4.5 billion and 1,500");
        let r: Vec<_> = a.iter().map(|a| render_cjk(a, &zh())).collect();
        assert_eq!(r, ["4500万美元", "29万", "45亿美元", "1500"]);
        let hant = Language::parse("zh-Hant").unwrap();
        assert_eq!(render_cjk(&a[0], &hant), "4500萬美元");
        assert_eq!(
            render_cjk(&a[0], &Language::parse("ja").unwrap()),
            "4500万ドル"
        );
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
    fn detects_a_changed_amount() {
        let src = "The plan costs $45 million and the war killed 290,000.";
        assert!(missing_amounts(src, "该计划耗资4500万美元，战争造成29万人死亡。").is_empty());
        assert!(missing_amounts(src, "该计划耗资4,500万美元，战争造成290,000人死亡。").is_empty());
        let missing = missing_amounts(src, "该计划耗资45亿美元，战争造成29万人死亡。");
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].text, "$45 million");
    }
}
