//! The amount grammar on real-world forms: every row of `fixtures/amounts.en.tsv` is a sentence
//! (or clause) taken verbatim from English text — the WMT23 dev set and public news articles,
//! each source named in the table — an amount in it, and its value and unit as a careful reader
//! gives them. The grammar must find each amount with that value
//! and unit, and every target language's rendering must read back as the same value.

use precis_core::lang::{Language, LANGUAGES};
use precis_core::numbers::{self, Amount, Unit};

struct Row {
    line: usize,
    sentence: String,
    form: String,
    value: String,
    unit: String,
}

fn rows() -> Vec<Row> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/amounts.en.tsv"
    );
    let text = std::fs::read_to_string(path).expect("the amounts table is committed");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "line {}: {l}", i + 1);
            Row {
                line: i + 1,
                sentence: cols[0].to_string(),
                form: cols[1].to_string(),
                value: cols[2].to_string(),
                unit: cols[3].to_string(),
            }
        })
        .collect()
}

fn unit_matches(unit: &Unit, expected: &str) -> bool {
    match (unit, expected) {
        (Unit::Currency(code), e) => *code == e,
        (Unit::Percent, "%") | (Unit::Points, "pp") | (Unit::Year, "year") => true,
        (Unit::Fraction, "fraction") | (Unit::Date { .. }, "date") | (Unit::Count, "-") => true,
        _ => false,
    }
}

fn value_matches(a: &Amount, expected: &str) -> bool {
    let close = |x: f64, e: &str| {
        e.parse::<f64>()
            .is_ok_and(|e| (x - e).abs() <= e.abs() * 1e-9 + 1e-4)
    };
    if let Unit::Date { month, year } = a.unit {
        let parts: Vec<&str> = expected.split('-').collect();
        let (y, m, d) = match parts[..] {
            [m, d] => (None, m, d),
            [y, m, d] => (Some(y), m, d),
            _ => return false,
        };
        let year_ok = match (y, year) {
            (None, None) => true,
            (Some(y), Some(v)) => y.parse::<u16>() == Ok(v),
            _ => false,
        };
        return m.parse() == Ok(month) && d.parse() == Ok(a.value as u8) && year_ok;
    }
    match expected.split_once("..") {
        Some((lo, hi)) => close(a.value, lo) && a.high.is_some_and(|h| close(h, hi)),
        None => a.high.is_none() && close(a.value, expected),
    }
}

#[test]
fn the_grammar_reads_real_news_amounts() {
    let rows = rows();
    assert!(rows.len() >= 200, "only {} rows", rows.len());
    let mut failures = Vec::new();
    for r in &rows {
        assert!(
            r.sentence.contains(&r.form),
            "line {}: {:?} is not in its sentence",
            r.line,
            r.form
        );
        let found = numbers::find_amounts(&r.sentence);
        // Range grouping is a reading choice: "from £221.0 million to £198.2 million" may be one
        // range or two amounts, and "between 1.50% to 1.75%" may take "between" in. Either is
        // right when the values are.
        let as_range_end = |a: &&Amount| {
            a.high.is_some()
                && a.text.contains(r.form.as_str())
                && unit_matches(&a.unit, &r.unit)
                && match r.value.split_once("..") {
                    Some(_) => value_matches(a, &r.value),
                    None => {
                        let (lo, hi) = (a.value, a.high.unwrap_or(f64::NAN));
                        let e = r.value.parse::<f64>().unwrap_or(f64::NAN);
                        (lo - e).abs() <= e.abs() * 1e-9 || (hi - e).abs() <= e.abs() * 1e-9
                    }
                }
        };
        if found.iter().any(|a| a.text != r.form && as_range_end(&a)) {
            continue;
        }
        match found.iter().find(|a| a.text == r.form) {
            Some(a) if value_matches(a, &r.value) && unit_matches(&a.unit, &r.unit) => {}
            Some(a) => failures.push(format!(
                "line {}: {:?} read as {} {:?} {:?}, expected {} {}",
                r.line, r.form, a.value, a.high, a.unit, r.value, r.unit
            )),
            None => failures.push(format!(
                "line {}: {:?} not found in {:?}; found {:?}",
                r.line,
                r.form,
                r.sentence,
                found.iter().map(|a| &a.text).collect::<Vec<_>>()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rendering_reads_back_as_the_same_amount() {
    let mut failures = Vec::new();
    for r in rows() {
        for a in numbers::find_amounts(&r.sentence) {
            for lang in LANGUAGES.iter().filter(|l| l.code != "en") {
                let rendering = numbers::render(&a, lang);
                let values = numbers::values_in(&rendering);
                if !numbers::kept(&a, &rendering, &values) {
                    failures.push(format!("{:?} -> {} {rendering:?}", a.text, lang.code));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_grammar_never_panics_on_odd_text() {
    let zh = Language::parse("zh").unwrap();
    for text in [
        "",
        "$",
        "€m",
        "- -5",
        "$$$1",
        "1,,000",
        "99999999999999999999999999 bn",
        ".5%",
        "between and",
        "$3m-",
        "-$",
        "twenty-",
        "July 99",
        "31 February",
        "1/0",
        "٣٤٥",
    ] {
        for a in numbers::find_amounts(text) {
            let _ = numbers::render(&a, &zh);
        }
        let _ = numbers::repair(text, "一亿", &zh);
    }
}
