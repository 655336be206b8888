//! Page metadata: title, byline, date, site name, excerpt and language from JSON-LD,
//! `<meta>` tags, `<title>`, `<time>` and microdata, and the subtitle marked by class names.

use std::collections::HashMap;

use scraper::node::Element;
use scraper::{ElementRef, Html};

use super::arena::{Arena, MAX_DEPTH, TEXT};
use super::is_match;
use crate::plain::collapse_whitespace;

regex!(
    re_subtitle,
    r"(?i)standfirst|sub-?title|sub-?head|strapline|\bdek\b|\bdeck\b|article-summary"
);
regex!(
    re_jsonld_type,
    r"^(Article|AdvertiserContentArticle|NewsArticle|AnalysisNewsArticle|AskPublicNewsArticle|BackgroundNewsArticle|BlogPosting|DiscussionForumPosting|LiveBlogPosting|OpinionNewsArticle|ReportageNewsArticle|ReviewNewsArticle|Report|SatiricalArticle|ScholarlyArticle|MedicalScholarlyArticle|SocialMediaPosting|TechArticle)$"
);

#[derive(Debug, Default)]
pub(super) struct Meta {
    pub(super) title: Option<String>,
    pub(super) byline: Option<String>,
    pub(super) date: Option<String>,
    pub(super) site_name: Option<String>,
    pub(super) excerpt: Option<String>,
    pub(super) language: Option<String>,
    pub(super) page_title: String,
}

fn clean_text(s: &str) -> Option<String> {
    let s = collapse_whitespace(&unescape_basic(s));
    (!s.is_empty()).then_some(s)
}

/// Decodes the few entities that survive in JSON-LD strings.
fn unescape_basic(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#039;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn json_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => clean_text(s),
        serde_json::Value::Array(a) => a.iter().find_map(json_str),
        serde_json::Value::Object(o) => o.get("name").and_then(json_str),
        _ => None,
    }
}

fn json_names(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Array(a) => {
            let names: Vec<String> = a.iter().filter_map(json_names).collect();
            (!names.is_empty()).then(|| names.join(", "))
        }
        serde_json::Value::Object(o) => o.get("name").and_then(json_str),
        serde_json::Value::String(s) if !s.starts_with("http") => clean_text(s),
        _ => None,
    }
}

fn type_matches(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::String(s)) => is_match(re_jsonld_type(), s),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .any(|t| t.as_str().is_some_and(|s| is_match(re_jsonld_type(), s))),
        _ => false,
    }
}

fn find_jsonld_article(v: &serde_json::Value, depth: usize) -> Option<&serde_json::Value> {
    if depth > 8 {
        return None;
    }
    match v {
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_jsonld_article(x, depth + 1)),
        serde_json::Value::Object(o) => {
            if type_matches(o.get("@type")) {
                return Some(v);
            }
            o.get("@graph")
                .and_then(|g| find_jsonld_article(g, depth + 1))
                .or_else(|| {
                    o.get("mainEntity")
                        .and_then(|g| find_jsonld_article(g, depth + 1))
                })
        }
        _ => None,
    }
}

pub(super) fn text_similarity(a: &str, b: &str) -> f64 {
    let tok = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let ta = tok(a);
    let tb = tok(b);
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let uniq_b: Vec<&String> = tb.iter().filter(|t| !ta.contains(t)).collect();
    let joined_b = tb.join(" ").chars().count() as f64;
    let joined_u = uniq_b
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .count() as f64;
    1.0 - joined_u / joined_b
}

/// The page's metadata: `<meta>` tags first, JSON-LD over them, then microdata and `<time>`.
pub(super) fn extract_meta(page: &Html) -> Meta {
    let signals = PageSignals::collect(page);
    let values = &signals.values;
    let mut meta = Meta {
        title: first_value(
            values,
            &[
                "dc:title",
                "dcterm:title",
                "og:title",
                "weibo:article:title",
                "weibo:webpage:title",
                "title",
                "twitter:title",
                "parsely-title",
            ],
        ),
        byline: first_value(
            values,
            &["dc:creator", "dcterm:creator", "author", "parsely-author"],
        )
        .or_else(|| first_value(values, &["article:author"]).filter(|a| !a.starts_with("http"))),
        date: first_value(
            values,
            &[
                "article:published_time",
                "og:published_time",
                "parsely-pub-date",
                "date",
                "dc:date",
                "dcterms:date",
                "dcterm:date",
                "publish-date",
                "pubdate",
                "sailthru:date",
            ],
        ),
        site_name: first_value(values, &["og:site_name", "application-name"]),
        excerpt: first_value(
            values,
            &[
                "dc:description",
                "dcterm:description",
                "og:description",
                "weibo:article:description",
                "weibo:webpage:description",
                "description",
                "twitter:description",
            ],
        ),
        language: None,
        page_title: signals.page_title.clone(),
    };
    if let Some(ld) = &signals.jsonld {
        apply_jsonld(&mut meta, ld);
    }
    meta.byline = meta.byline.or(signals.itemprop_author);
    meta.date = meta.date.or(signals.itemprop_date).or(signals.time_text);
    meta.language = signals.html_lang.or_else(|| {
        first_value(
            values,
            &["content-language", "og:locale", "dc:language", "language"],
        )
    });
    meta
}

/// The first of `keys` that has a non-blank value.
fn first_value(values: &HashMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| values.get(*k).and_then(|v| clean_text(v)))
}

/// JSON-LD wins over `<meta>` tags for what it has. Of a `name` and a `headline` that differ,
/// the one closer to `<title>` is the title.
fn apply_jsonld(meta: &mut Meta, ld: &serde_json::Value) {
    let name = ld.get("name").and_then(json_str);
    let headline = ld.get("headline").and_then(json_str);
    let ld_title = match (name, headline) {
        (Some(n), Some(h)) if n != h => {
            let ns = text_similarity(&n, &meta.page_title);
            let hs = text_similarity(&h, &meta.page_title);
            if hs > ns || (hs > 0.75 && ns <= 0.75) {
                Some(h)
            } else {
                Some(n)
            }
        }
        (n, h) => h.or(n),
    };
    if ld_title.is_some() {
        meta.title = ld_title;
    }
    if let Some(a) = ld.get("author").and_then(json_names) {
        meta.byline = Some(a);
    }
    if let Some(d) = ld.get("datePublished").and_then(json_str) {
        meta.date = Some(d);
    }
    if let Some(p) = ld.get("publisher").and_then(json_str) {
        meta.site_name = Some(p);
    }
    if let Some(d) = ld.get("description").and_then(json_str) {
        meta.excerpt = Some(d);
    }
}

/// What the page's markup says about the article, gathered in one walk.
#[derive(Default)]
struct PageSignals {
    /// `<meta>` contents by lowercased property or name (`.` read as `:`); the first one wins.
    values: HashMap<String, String>,
    /// The first JSON-LD object of an article type.
    jsonld: Option<serde_json::Value>,
    /// The first `<time>`: its `datetime`, else its text.
    time_text: Option<String>,
    /// `itemprop="datePublished"`.
    itemprop_date: Option<String>,
    /// The text of the first `itemprop="author"` element, if short.
    itemprop_author: Option<String>,
    html_lang: Option<String>,
    /// The first `<title>`'s text.
    page_title: String,
    seen_title: bool,
}

impl PageSignals {
    fn collect(page: &Html) -> PageSignals {
        let mut signals = PageSignals::default();
        let mut stack = vec![page.tree.root()];
        while let Some(node) = stack.pop() {
            if let Some(element) = ElementRef::wrap(node) {
                if !signals.read_element(element) {
                    continue;
                }
            }
            stack.extend(node.children().rev());
        }
        signals
    }

    /// Reads one element; `false` when what is inside it is not walked (a script).
    fn read_element(&mut self, node: ElementRef<'_>) -> bool {
        let e = node.value();
        match e.name() {
            "html" => self.html_lang = e.attr("lang").and_then(clean_text),
            "title" if !self.seen_title => {
                self.seen_title = true;
                self.page_title = collapse_whitespace(&child_text(node));
            }
            "meta" => self.read_meta_tag(e),
            "script" => {
                if self.jsonld.is_none()
                    && e.attr("type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json"))
                {
                    self.jsonld = jsonld_article(&child_text(node));
                }
                return false;
            }
            "time" if self.time_text.is_none() => {
                self.time_text = e
                    .attr("datetime")
                    .and_then(clean_text)
                    .or_else(|| clean_text(&descendant_text(node)));
            }
            _ => {}
        }
        if self.itemprop_date.is_none() && e.attr("itemprop") == Some("datePublished") {
            self.itemprop_date = e
                .attr("datetime")
                .or(e.attr("content"))
                .and_then(clean_text);
        }
        if self.itemprop_author.is_none()
            && e.attr("itemprop")
                .is_some_and(|p| p.split_whitespace().any(|p| p == "author"))
        {
            self.itemprop_author =
                clean_text(&descendant_text(node)).filter(|t| t.chars().count() < 100);
        }
        true
    }

    /// A `<meta>` tag: each of its space-separated properties, `Content-Language` and a
    /// microdata publication date.
    fn read_meta_tag(&mut self, e: &Element) {
        let content = e.attr("content").unwrap_or("");
        if let Some(prop) = e.attr("property").or_else(|| e.attr("name")) {
            for key in prop.split_whitespace() {
                let key = key.to_ascii_lowercase().replace('.', ":");
                if !content.trim().is_empty() {
                    self.values.entry(key).or_insert_with(|| content.to_owned());
                }
            }
        }
        if e.attr("http-equiv")
            .is_some_and(|h| h.eq_ignore_ascii_case("content-language"))
        {
            self.values
                .entry("content-language".into())
                .or_insert_with(|| content.to_owned());
        }
        if e.attr("itemprop") == Some("datePublished") && self.itemprop_date.is_none() {
            self.itemprop_date = clean_text(content);
        }
    }
}

/// The article object of a JSON-LD script (CDATA wrapper allowed), if it parses and has one.
fn jsonld_article(raw: &str) -> Option<serde_json::Value> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("<![CDATA[").unwrap_or(raw);
    let raw = raw.strip_suffix("]]>").unwrap_or(raw);
    let v = serde_json::from_str::<serde_json::Value>(raw).ok()?;
    find_jsonld_article(&v, 0).cloned()
}

/// The text nodes directly inside an element, joined.
fn child_text(node: ElementRef<'_>) -> String {
    node.children()
        .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
        .collect()
}

/// All text inside an element, joined.
fn descendant_text(node: ElementRef<'_>) -> String {
    node.descendants()
        .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
        .collect()
}

/// The headline: the metadata's title; else a `<title>` of 3+ words without a " | Site" part
/// (usually the clean headline); else the `<h1>` inside `<article>`, or the page's only
/// `<h1>` when it resembles `<title>`; else the cleaned `<title>`.
pub(super) fn choose_title(meta: &Meta, whole: &Arena) -> String {
    if let Some(title) = &meta.title {
        return title.clone();
    }
    let page_title = clean_page_title(&meta.page_title);
    let raw_title = collapse_whitespace(&meta.page_title);
    if page_title == raw_title && raw_title.split_whitespace().count() >= 3 {
        return page_title;
    }
    let h1s: Vec<usize> = whole
        .preorder(0)
        .into_iter()
        .filter(|&id| whole.tag(id) == "h1")
        .collect();
    let h1_text = |id: usize| whole.inner_text(id);
    let in_article = h1s
        .iter()
        .copied()
        .find(|&h| whole.has_ancestor(h, "article", MAX_DEPTH).is_some())
        .map(h1_text)
        .filter(|t| !t.is_empty());
    in_article
        .or_else(|| {
            let texts: Vec<String> = h1s
                .iter()
                .map(|&h| h1_text(h))
                .filter(|t| !t.is_empty())
                .collect();
            match texts.as_slice() {
                [one] if page_title.is_empty() || text_similarity(one, &meta.page_title) > 0.5 => {
                    Some(one.clone())
                }
                _ => None,
            }
        })
        .unwrap_or(page_title)
}

/// Headline from `<title>`: a trailing (or leading) " | Site name" part is removed.
fn clean_page_title(title: &str) -> String {
    let title = collapse_whitespace(title);
    for sep in [
        " | ", " — ", " – ", " - ", " :: ", " · ", " » ", " / ", " \\ ",
    ] {
        if let Some((head, tail)) = title.rsplit_once(sep) {
            if !head.trim().is_empty() && tail.split_whitespace().count() <= 5 {
                let head = head.trim();
                // "Site | Headline": keep the longer part.
                if let Some((first, rest)) = head.split_once(sep) {
                    if first.split_whitespace().count() <= 3 && rest.split_whitespace().count() >= 3
                    {
                        return rest.trim().to_owned();
                    }
                }
                if head.split_whitespace().count() >= 2 || tail.split_whitespace().count() < 2 {
                    return head.to_owned();
                }
            }
        }
    }
    title
}

pub(super) fn find_subtitle(a: &Arena, root: usize, title: &str) -> Option<String> {
    for id in a.preorder(root) {
        if a.tag(id) == TEXT {
            continue;
        }
        let ci = a.class_id(id);
        if ci.trim().is_empty() || !is_match(re_subtitle(), &ci) {
            continue;
        }
        let t = a.inner_text(id);
        if !t.is_empty() && t.split_whitespace().count() <= 60 && t != title {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::html::{extract_article, parse_html};

    #[test]
    fn metadata_from_jsonld_and_opengraph() {
        let html = r#"<html lang="en-GB"><head><title>Ignored | Site</title>
            <meta property="og:title twitter:title" content="Rates rise again">
            <meta property="og:site_name" content="The Ledger">
            <meta name="author" content="Meta Author">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"x"},
              {"@type":"NewsArticle","headline":"Rates rise again","author":[{"@type":"Person","name":"A. Writer"},{"name":"B. Writer"}],
               "datePublished":"2024-05-01T08:00:00Z","publisher":{"@type":"Organization","name":"Ledger Media"}}]}</script>
            </head><body><div class="content"><p>The central bank raised rates again on Wednesday, citing persistent inflation, strong wages and a tight labour market.</p>
            <div class="share-bar"><a href="/s">Share on X</a> <a href="/f">Facebook</a></div>
            <p>Economists had expected the move, which takes the base rate to its highest level since 2008, and markets barely moved.</p>
            <div id="comments"><p>Great article, thanks for writing it, really enjoyed it a lot!</p></div></div></body></html>"#;
        let art = extract_article(html);
        assert_eq!(art.title, "Rates rise again");
        assert_eq!(art.byline.as_deref(), Some("A. Writer, B. Writer"));
        assert_eq!(art.date.as_deref(), Some("2024-05-01T08:00:00Z"));
        assert_eq!(art.site_name.as_deref(), Some("Ledger Media"));
        assert_eq!(art.language.as_deref(), Some("en-GB"));
        assert_eq!(art.paragraphs.len(), 2, "{:?}", art.paragraphs);
        assert!(art.paragraphs[0].starts_with("The central bank"));
        let doc = parse_html(html);
        assert_eq!(
            doc.dateline.as_deref(),
            Some("A. Writer, B. Writer, 2024-05-01T08:00:00Z")
        );
    }
}
