//! HTML main-content extraction (readability-style).
//!
//! The page is parsed with `scraper`/html5ever and copied into a small mutable
//! arena (iteratively, nesting capped at [`arena::MAX_DEPTH`]). Then:
//!
//! * **metadata**: JSON-LD (`Article`-like objects, `@graph`), OpenGraph /
//!   Twitter / Dublin Core / Parse.ly `<meta>` tags (space-separated properties
//!   allowed), `<title>`, `<html lang>`: title, byline, date, site name, excerpt,
//!   language;
//! * **content** (after Mozilla Readability's algorithm, own implementation):
//!   hidden nodes, scripts, forms controls are dropped; "unlikely" containers
//!   (class/id like comment, sidebar, footer, menu, share, related, promo …, ARIA
//!   roles like navigation/complementary/dialog) are removed; `<div>`s holding only
//!   inline content become paragraphs; each paragraph-like element with ≥ 25
//!   characters scores `1 + commas + min(len/100, 3)` for its parent, half for its
//!   grandparent and less further up; containers start from a tag bonus and a
//!   ±25 class/id weight, and scores are scaled by `1 - link density`. The best
//!   container (promoted to a shared ancestor when several top candidates agree)
//!   plus related siblings form the article, which is then cleaned: share bars,
//!   link lists, image/ad blocks, forms and headers with negative weight go.
//!   If less than 500 characters survive, the pass is retried with fewer filters;
//! * **paragraphs**: `<p>`, headings, list items, quotes, `<pre>`, captions and
//!   loose prose runs of the article, with generic boilerplate lines ("Read
//!   more", "Share", copyright …) dropped.
//!
//! By module: `nesting` (the depth guard run on the source before parsing), `arena` (the page
//! tree and its text statistics), `meta` (metadata, headline and subtitle), `score` (pruning
//! and candidate scoring), `clean` (cleanup of the chosen content), `walk` (content into
//! paragraphs); this file holds the entry points and the stricter-to-looser retries.

use regex::Regex;
use scraper::Html;

use super::raw::RawDocument;

/// A lazily compiled regex: `regex!(name, pattern)` defines `fn name() -> Option<&Regex>`.
macro_rules! regex {
    ($name:ident, $re:expr) => {
        fn $name() -> Option<&'static ::regex::Regex> {
            static RE: ::std::sync::OnceLock<Option<::regex::Regex>> = ::std::sync::OnceLock::new();
            RE.get_or_init(|| ::regex::Regex::new($re).ok()).as_ref()
        }
    };
}

mod arena;
mod clean;
mod meta;
mod nesting;
mod score;
mod walk;

use arena::Arena;
use meta::{choose_title, extract_meta, find_subtitle};
use nesting::limit_nesting;
use score::{grab_article, Flags, Grab};
use walk::article_paragraphs;

/// Minimum article length (characters) before retrying with fewer filters.
const CHAR_THRESHOLD: usize = 500;
/// How much longer a more permissive attempt must be to replace a stricter one.
const RETRY_GAIN: f64 = 1.5;

/// Everything extracted from an HTML page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    /// Headline (`""` if none was found).
    pub title: String,
    /// Subhead / standfirst, if the page marks one.
    pub subtitle: Option<String>,
    /// Author(s).
    pub byline: Option<String>,
    /// Publication date as written by the page (ISO 8601 when from metadata).
    pub date: Option<String>,
    /// Site / publisher name.
    pub site_name: Option<String>,
    /// Declared language (`<html lang>`, `og:locale` …), if any.
    pub language: Option<String>,
    /// Description from metadata.
    pub excerpt: Option<String>,
    /// Body paragraphs in document order.
    pub paragraphs: Vec<String>,
}

/// HTML article structure (see [`extract_article`] for all fields).
pub fn parse_html(source: &str) -> RawDocument {
    let article = extract_article(source);
    let dateline: Vec<&str> = [article.byline.as_deref(), article.date.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    RawDocument {
        title: article.title,
        subtitle: article.subtitle,
        dateline: (!dateline.is_empty()).then(|| dateline.join(", ")),
        paragraphs: article.paragraphs,
        byline: article.byline,
        published: article.date,
        site_name: article.site_name,
        // What the HTML extractor drops is markup-level boilerplate, not lines a reader lost.
        left_out: Vec::new(),
    }
}

fn is_match(re: Option<&'static Regex>, text: &str) -> bool {
    re.is_some_and(|re| re.is_match(text))
}

/// Extracts the article and its metadata from an HTML page.
pub fn extract_article(source: &str) -> Article {
    let source = limit_nesting(source);
    let page = Html::parse_document(&source);
    let meta = extract_meta(&page);
    let whole = Arena::from_html(&page);
    let title = choose_title(&meta, &whole);
    let Some(grab) = best_grab(&page, &title) else {
        return Article::default();
    };
    let subtitle = find_subtitle(&whole, 0, &title);
    let paragraphs = article_paragraphs(&grab.arena, grab.content, &title, subtitle.as_deref());
    let byline = meta.byline.or(grab.byline);
    Article {
        title,
        subtitle,
        byline,
        date: meta.date,
        site_name: meta.site_name,
        language: meta.language,
        excerpt: meta.excerpt,
        paragraphs,
    }
}

/// Like Readability, relaxes the filters while the article is short; a later attempt must be
/// clearly longer to replace an earlier one.
fn best_grab(page: &Html, title: &str) -> Option<Grab> {
    let attempts = [
        Flags {
            strip_unlikely: true,
            weight_classes: true,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: true,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: false,
        },
    ];
    let mut best: Option<Grab> = None;
    for flags in attempts {
        let grab = grab_article(page, title, flags);
        let done = grab.text_len >= CHAR_THRESHOLD;
        let better = best
            .as_ref()
            .is_none_or(|b| grab.text_len as f64 > b.text_len as f64 * RETRY_GAIN);
        if better
            || (done
                && best
                    .as_ref()
                    .is_none_or(|b| b.text_len < CHAR_THRESHOLD && grab.text_len > b.text_len))
        {
            best = Some(grab);
        }
        if done {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html>
<html><head><title>Ignored title | Daily Site</title>
<style>p { color: red }</style><script>var x = "<p>not text</p>";</script></head>
<body>
<header><div class="logo">Daily Site</div><nav><ul><li>Home</li><li>World</li></ul></nav></header>
<div class="sidebar"><p>Sidebar text outside the article should be ignored here.</p></div>
<article>
  <h1>Harbour reopens after storm</h1>
  <p>The city harbour reopened on Thursday after a week of repairs.</p>
  <p>Fishing boats returned to their moorings <em>within hours</em>, the port authority said.</p>
  <script>trackPageView();</script>
  <p>Officials expect traffic to return to normal by next month.</p>
</article>
<aside><p>Related stories you might like to read next time.</p></aside>
<footer><p>© 2024 Daily Site. All rights reserved.</p></footer>
</body></html>"#;

    #[test]
    fn article_with_chrome() {
        let doc = parse_html(PAGE);
        assert_eq!(doc.title, "Harbour reopens after storm");
        assert_eq!(
            doc.paragraphs,
            vec![
                "The city harbour reopened on Thursday after a week of repairs.",
                "Fishing boats returned to their moorings within hours, the port authority said.",
                "Officials expect traffic to return to normal by next month.",
            ]
        );
    }

    #[test]
    fn page_without_article() {
        let html = "<html><head><title>Budget passes - The Paper</title></head><body>\
            <nav>Menu Home World</nav>\
            <p class=\"standfirst\">Lawmakers back the plan after long debate</p>\
            <h2>Vote</h2><p>The budget passed by 60 votes to 40 on Monday.</p>\
            <ul><li>Taxes stay flat.</li><li>Spending rises.</li></ul>\
            <div>Loose text in a div that reads like a sentence of prose.<br>Share</div>\
            <blockquote><p>It is a good day.</p></blockquote>\
            </body></html>";
        let doc = parse_html(html);
        assert_eq!(doc.title, "Budget passes");
        assert_eq!(
            doc.subtitle.as_deref(),
            Some("Lawmakers back the plan after long debate")
        );
        assert_eq!(
            doc.paragraphs,
            vec![
                "Vote",
                "The budget passed by 60 votes to 40 on Monday.",
                "Taxes stay flat.",
                "Spending rises.",
                "Loose text in a div that reads like a sentence of prose.",
                "It is a good day.",
            ]
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "",
            "<",
            "<<<>>>",
            "<p>",
            "</p></p><p>x",
            "<html><body><article></article>",
            "<script type=\"application/ld+json\">{not json</script>",
            "<table><tr><td><table><td>x</table>",
            "<div><p>a<div>b</p></div></span></article>",
            "<svg><foreignObject><p>x</p></foreignObject></svg>",
            "<!-- unterminated comment <p>",
            "<script>never closed",
        ] {
            let _ = parse_html(s);
        }
        let deep = "<div>".repeat(2000) + "text." + &"</div>".repeat(2000);
        let _ = parse_html(&deep);
    }

    #[test]
    fn very_deep_nesting_does_not_overflow() {
        let n = 100_000;
        let deep = "<div>".repeat(n) + "Deep text that is a sentence." + &"</div>".repeat(n);
        let doc = parse_html(&deep);
        assert!(doc.paragraphs.iter().any(|p| p.contains("Deep text")));
        let spans = "<span>".repeat(n) + "x" + &"</span>".repeat(n);
        let _ = parse_html(&spans);
        let mixed = "<div><p>".repeat(n / 2) + "y";
        let _ = parse_html(&mixed);
    }
}
