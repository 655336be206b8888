//! HTML main-content extraction (readability-style).
//!
//! The page is parsed with `scraper`/html5ever and copied into a small mutable
//! arena (iteratively, nesting capped at [`MAX_DEPTH`]). Then:
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

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use scraper::{Html, Node};

use super::plain::{collapse_whitespace, ends_with_terminal, is_boilerplate, is_separator};
use super::raw::RawDocument;

/// Nesting depth beyond which elements are flattened into their ancestor.
const MAX_DEPTH: usize = 512;
/// Pre-parse nesting cap (html5ever is quadratic on absurd nesting).
const MAX_SOURCE_DEPTH: usize = 2048;
/// Minimum article length (characters) before retrying with fewer filters.
const CHAR_THRESHOLD: usize = 500;
/// How much longer a more permissive attempt must be to replace a stricter one.
const RETRY_GAIN: f64 = 1.5;
/// Number of top candidates compared when looking for a shared ancestor.
const N_TOP_CANDIDATES: usize = 5;
/// Marks a `<br>` inside a loose text run.
const LINE_BREAK: char = '\u{2028}';

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

// ---------------------------------------------------------------------------
// Regexes

macro_rules! regex {
    ($name:ident, $re:expr) => {
        fn $name() -> Option<&'static Regex> {
            static RE: OnceLock<Option<Regex>> = OnceLock::new();
            RE.get_or_init(|| Regex::new($re).ok()).as_ref()
        }
    };
}

regex!(
    re_unlikely,
    r"(?i)-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|cookie|consent|newsletter|subscribe|paywall|share|promo|dialog|modal"
);
regex!(
    re_maybe,
    r"(?i)and|article|body|column|content|main|mathjax|shadow"
);
regex!(
    re_positive,
    r"(?i)article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story"
);
regex!(
    re_negative,
    r"(?i)-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget|cookie|newsletter"
);
regex!(re_byline, r"(?i)byline|author|dateline|writtenby|p-author");
regex!(re_share, r"(?i)(\b|_)(share|sharedaddy)(\b|_)");
regex!(
    re_ad_words,
    r"(?i)^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|广告|Реклама|Anuncio)$"
);
regex!(
    re_loading,
    r"(?i)^((loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$"
);
regex!(re_sentence_end, r"\.( |$)");
regex!(
    re_videos,
    r"(?i)//(www\.)?((dailymotion|youtube|youtube-nocookie|player\.vimeo|v\.qq)\.com|(archive|upload\.wikimedia)\.org|player\.twitch\.tv)"
);
regex!(
    re_subtitle,
    r"(?i)standfirst|sub-?title|sub-?head|strapline|\bdek\b|\bdeck\b|article-summary"
);
regex!(
    re_jsonld_type,
    r"^(Article|AdvertiserContentArticle|NewsArticle|AnalysisNewsArticle|AskPublicNewsArticle|BackgroundNewsArticle|BlogPosting|DiscussionForumPosting|LiveBlogPosting|OpinionNewsArticle|ReportageNewsArticle|ReviewNewsArticle|Report|SatiricalArticle|ScholarlyArticle|MedicalScholarlyArticle|SocialMediaPosting|TechArticle)$"
);

fn is_match(re: Option<&'static Regex>, text: &str) -> bool {
    re.is_some_and(|re| re.is_match(text))
}

// ---------------------------------------------------------------------------
// Arena

const NONE: usize = usize::MAX;
const TEXT: &str = "#text";
/// A `<div>` holding only inline content: scored like `<p>`, walked like a `<div>`.
const DIV_P: &str = "#divp";

fn is_p(tag: &str) -> bool {
    tag == "p" || tag == DIV_P
}

#[derive(Debug, Clone)]
struct Item {
    tag: String,
    text: String,
    attrs: Vec<(String, String)>,
    parent: usize,
    children: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
struct Stats {
    text: usize,
    link: f64,
    commas: usize,
    p: usize,
    img: usize,
    li: usize,
    input: usize,
    embed: usize,
    heading: usize,
    textish: usize,
    list: usize,
    data_tables: usize,
    blocks: usize,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.text += o.text;
        self.link += o.link;
        self.commas += o.commas;
        self.p += o.p;
        self.img += o.img;
        self.li += o.li;
        self.input += o.input;
        self.embed += o.embed;
        self.heading += o.heading;
        self.textish += o.textish;
        self.list += o.list;
        self.data_tables += o.data_tables;
        self.blocks += o.blocks;
    }
    fn sub(&mut self, o: &Stats) {
        self.text = self.text.saturating_sub(o.text);
        self.link = (self.link - o.link).max(0.0);
        self.commas = self.commas.saturating_sub(o.commas);
        self.p = self.p.saturating_sub(o.p);
        self.img = self.img.saturating_sub(o.img);
        self.li = self.li.saturating_sub(o.li);
        self.input = self.input.saturating_sub(o.input);
        self.embed = self.embed.saturating_sub(o.embed);
        self.heading = self.heading.saturating_sub(o.heading);
        self.textish = self.textish.saturating_sub(o.textish);
        self.list = self.list.saturating_sub(o.list);
        self.data_tables = self.data_tables.saturating_sub(o.data_tables);
        self.blocks = self.blocks.saturating_sub(o.blocks);
    }
}

/// Elements dropped with their content when the arena is built.
const DROP: &[&str] = &[
    "script", "style", "noscript", "template", "link", "meta", "iframe", "object", "embed", "svg",
    "math", "canvas", "button", "video", "audio", "source", "track", "map", "dialog", "head",
    "title", "base", "param", "frame", "frameset",
];
/// Elements kept (they count) but whose content is not text.
const EMPTY: &[&str] = &["select", "textarea", "input"];
const DIV_TO_P: &[&str] = &[
    "blockquote",
    "dl",
    "div",
    "img",
    "ol",
    "p",
    "pre",
    "table",
    "ul",
];
const PHRASING: &[&str] = &[
    "abbr", "audio", "b", "bdo", "br", "button", "cite", "code", "data", "datalist", "dfn", "em",
    "embed", "i", "img", "input", "kbd", "label", "mark", "math", "meter", "noscript", "object",
    "output", "progress", "q", "ruby", "samp", "script", "select", "small", "span", "strong",
    "sub", "sup", "textarea", "time", "var", "wbr", "font", "u", "s", "tt", "big", "strike",
    "nobr",
];
const TEXTISH: &[&str] = &[
    "span",
    "li",
    "td",
    "blockquote",
    "dl",
    "div",
    "img",
    "ol",
    "p",
    "pre",
    "table",
    "ul",
];

struct Arena {
    items: Vec<Item>,
    stats: Vec<Stats>,
    score: Vec<Option<f64>>,
    data_table: Vec<bool>,
}

fn is_hidden(attrs: &[(String, String)]) -> bool {
    let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Some(style) = get("style") {
        let s: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    if get("hidden").is_some() {
        return true;
    }
    if get("aria-hidden") == Some("true") && !get("class").unwrap_or("").contains("fallback-image")
    {
        return true;
    }
    false
}

fn text_len(text: &str) -> usize {
    // Whitespace runs count as one character.
    let mut n = 0;
    let mut in_ws = true;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_ws {
                n += 1;
                in_ws = true;
            }
        } else {
            n += 1;
            in_ws = false;
        }
    }
    n
}

fn comma_count(text: &str) -> usize {
    text.chars()
        .filter(|c| {
            matches!(
                c,
                ',' | '\u{060C}'
                    | '\u{FE50}'
                    | '\u{FE10}'
                    | '\u{FE11}'
                    | '\u{2E41}'
                    | '\u{2E34}'
                    | '\u{2E32}'
                    | '\u{FF0C}'
                    | '、'
            )
        })
        .count()
}

impl Arena {
    fn from_html(page: &Html) -> Arena {
        let mut items = vec![Item {
            tag: "#root".into(),
            text: String::new(),
            attrs: Vec::new(),
            parent: NONE,
            children: Vec::new(),
        }];
        // (node, arena parent, depth)
        let root = page.tree.root();
        let mut stack: Vec<_> = root.children().rev().map(|c| (c, 0usize, 1usize)).collect();
        while let Some((node, parent, depth)) = stack.pop() {
            match node.value() {
                Node::Text(t) => {
                    let id = items.len();
                    items.push(Item {
                        tag: TEXT.into(),
                        text: t.to_string(),
                        attrs: Vec::new(),
                        parent,
                        children: Vec::new(),
                    });
                    items[parent].children.push(id);
                }
                Node::Element(e) => {
                    let name = e.name();
                    if DROP.contains(&name) {
                        continue;
                    }
                    let attrs: Vec<(String, String)> = e
                        .attrs()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                        .collect();
                    if is_hidden(&attrs) {
                        continue;
                    }
                    if depth > MAX_DEPTH {
                        // Flatten: children go to the capped ancestor.
                        stack.extend(node.children().rev().map(|c| (c, parent, depth)));
                        continue;
                    }
                    let id = items.len();
                    let tag = match name {
                        "font" => "span".to_owned(),
                        n => n.to_ascii_lowercase(),
                    };
                    let empty = EMPTY.contains(&tag.as_str());
                    items.push(Item {
                        tag,
                        text: String::new(),
                        attrs,
                        parent,
                        children: Vec::new(),
                    });
                    items[parent].children.push(id);
                    if !empty {
                        stack.extend(node.children().rev().map(|c| (c, id, depth + 1)));
                    }
                }
                _ => {}
            }
        }
        let n = items.len();
        let mut arena = Arena {
            items,
            stats: Vec::new(),
            score: vec![None; n],
            data_table: vec![false; n],
        };
        arena.compute_stats();
        arena
    }

    fn new_node(&mut self, tag: &str, parent: usize) -> usize {
        let id = self.items.len();
        self.items.push(Item {
            tag: tag.into(),
            text: String::new(),
            attrs: Vec::new(),
            parent,
            children: Vec::new(),
        });
        self.stats.push(Stats::default());
        self.score.push(None);
        self.data_table.push(false);
        id
    }

    fn tag(&self, id: usize) -> &str {
        &self.items[id].tag
    }

    fn attr(&self, id: usize, name: &str) -> Option<&str> {
        self.items[id]
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn class_id(&self, id: usize) -> String {
        let c = self.attr(id, "class").unwrap_or("");
        let i = self.attr(id, "id").unwrap_or("");
        format!("{c} {i}")
    }

    /// Preorder of the live subtree under `root` (including it).
    fn preorder(&self, root: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            out.push(id);
            stack.extend(self.items[id].children.iter().rev().copied());
        }
        out
    }

    fn compute_stats(&mut self) {
        self.stats = vec![Stats::default(); self.items.len()];
        let mut order = Vec::with_capacity(self.items.len());
        for root in 0..self.items.len() {
            if self.items[root].parent == NONE {
                order.extend(self.preorder(root));
            }
        }
        for &id in order.iter().rev() {
            self.finish_stats(id);
            let parent = self.items[id].parent;
            if parent != NONE {
                let s = self.stats[id].clone();
                self.stats[parent].add(&s);
            }
        }
    }

    /// Adds a node's own contribution to its (already aggregated) stats.
    fn finish_stats(&mut self, id: usize) {
        let item = &self.items[id];
        let s = &mut self.stats[id];
        match item.tag.as_str() {
            TEXT => {
                s.text = text_len(&item.text);
                s.commas = comma_count(&item.text);
            }
            "a" => {
                let href = item
                    .attrs
                    .iter()
                    .find(|(k, _)| k == "href")
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("");
                let coeff = if href.starts_with('#') { 0.3 } else { 1.0 };
                s.link = s.text as f64 * coeff;
            }
            "p" | DIV_P => s.p += 1,
            "img" => s.img += 1,
            "li" => s.li += 1,
            "input" => s.input += 1,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => s.heading = s.text,
            _ => {}
        }
        let tag = item.tag.as_str();
        if TEXTISH.contains(&tag) {
            s.textish = s.text.max(s.textish);
        }
        if matches!(tag, "ul" | "ol") {
            s.list = s.text;
        }
        if DIV_TO_P.contains(&tag) {
            s.blocks += 1;
        }
        if matches!(tag, "object" | "embed" | "iframe") {
            let video = item.attrs.iter().any(|(_, v)| is_match(re_videos(), v));
            if !video {
                s.embed += 1;
            }
        }
        if tag == "table" && self.data_table[id] {
            s.data_tables += 1;
        }
    }

    fn link_density(&self, id: usize) -> f64 {
        let s = &self.stats[id];
        if s.text == 0 {
            0.0
        } else {
            s.link / s.text as f64
        }
    }

    /// Detaches `id` from its parent, keeping ancestor stats exact.
    fn detach(&mut self, id: usize) {
        let parent = self.items[id].parent;
        if parent == NONE {
            return;
        }
        let s = self.stats[id].clone();
        let mut a = parent;
        while a != NONE {
            self.stats[a].sub(&s);
            a = self.items[a].parent;
        }
        self.items[parent].children.retain(|&c| c != id);
        self.items[id].parent = NONE;
    }

    /// Appends detached `id` to `parent`.
    fn append(&mut self, parent: usize, id: usize) {
        self.items[id].parent = parent;
        self.items[parent].children.push(id);
        let s = self.stats[id].clone();
        let mut a = parent;
        while a != NONE {
            self.stats[a].add(&s);
            a = self.items[a].parent;
        }
    }

    fn has_ancestor(&self, id: usize, tag: &str, max_depth: usize) -> Option<usize> {
        let mut a = self.items[id].parent;
        let mut depth = 0;
        while a != NONE && depth < max_depth {
            if self.items[a].tag == tag {
                return Some(a);
            }
            a = self.items[a].parent;
            depth += 1;
        }
        None
    }

    fn inner_text(&self, id: usize) -> String {
        let mut out = String::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let item = &self.items[n];
            if item.tag == TEXT {
                out.push_str(&item.text);
            } else {
                if !PHRASING.contains(&item.tag.as_str()) && item.tag != "a" {
                    out.push(' ');
                }
                if item.tag == "br" {
                    out.push(' ');
                }
                stack.extend(item.children.iter().rev().copied());
            }
        }
        collapse_whitespace(&out)
    }

    fn is_phrasing(&self, id: usize) -> bool {
        let tag = self.tag(id);
        tag == TEXT
            || PHRASING.contains(&tag)
            || (matches!(tag, "a" | "del" | "ins")
                && self.items[id]
                    .children
                    .iter()
                    .all(|&c| self.is_phrasing_shallow(c)))
    }

    fn is_phrasing_shallow(&self, id: usize) -> bool {
        let tag = self.tag(id);
        tag == TEXT || PHRASING.contains(&tag) || matches!(tag, "a" | "del" | "ins")
    }

    fn is_whitespace(&self, id: usize) -> bool {
        let item = &self.items[id];
        (item.tag == TEXT && item.text.trim().is_empty()) || item.tag == "br"
    }

    fn class_weight(&self, id: usize) -> f64 {
        let mut w = 0.0;
        for key in ["class", "id"] {
            if let Some(v) = self.attr(id, key) {
                if !v.is_empty() {
                    if is_match(re_negative(), v) {
                        w -= 25.0;
                    }
                    if is_match(re_positive(), v) {
                        w += 25.0;
                    }
                }
            }
        }
        w
    }
}

// ---------------------------------------------------------------------------
// Nesting guard

/// Drops start/end tags nested deeper than [`MAX_SOURCE_DEPTH`] (approximate
/// tag scan; implicitly closed and void elements are not counted). Text is kept.
fn limit_nesting(source: &str) -> Cow<'_, str> {
    const NOT_COUNTED: &[&str] = &[
        "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "tbody", "thead", "tfoot",
        "colgroup", "rb", "rt", "rp", "area", "base", "br", "col", "embed", "hr", "img", "input",
        "link", "meta", "param", "source", "track", "wbr", "html", "head", "body",
    ];
    let bytes = source.as_bytes();
    let scan = |emit: &mut dyn FnMut(usize, usize, bool)| {
        let mut depth: usize = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'<' {
                i += 1;
                continue;
            }
            if bytes[i..].starts_with(b"<!--") {
                i = source[i + 4..]
                    .find("-->")
                    .map_or(bytes.len(), |p| i + 4 + p + 3);
                continue;
            }
            let start = i;
            let closing = bytes.get(i + 1) == Some(&b'/');
            let name_start = if closing { i + 2 } else { i + 1 };
            let mut j = name_start;
            while j < bytes.len() && bytes[j].is_ascii_alphanumeric() {
                j += 1;
            }
            if j == name_start {
                i += 1;
                continue;
            }
            let name = source[name_start..j].to_ascii_lowercase();
            let end = source[j..].find('>').map_or(bytes.len(), |p| j + p + 1);
            let self_closing = end >= 2 && bytes[end - 2] == b'/';
            i = end;
            if matches!(name.as_str(), "script" | "style" | "textarea" | "title") && !closing {
                let close = name.as_bytes();
                i = source[i..]
                    .match_indices("</")
                    .map(|(p, _)| i + p)
                    .find(|&p| {
                        bytes
                            .get(p + 2..p + 2 + close.len())
                            .is_some_and(|b| b.eq_ignore_ascii_case(close))
                    })
                    .unwrap_or(bytes.len());
                continue;
            }
            if NOT_COUNTED.contains(&name.as_str()) || self_closing {
                continue;
            }
            if closing {
                emit(start, end, depth > MAX_SOURCE_DEPTH);
                depth = depth.saturating_sub(1);
            } else {
                depth += 1;
                emit(start, end, depth > MAX_SOURCE_DEPTH);
            }
        }
    };
    let mut too_deep = false;
    scan(&mut |_, _, deep| too_deep |= deep);
    if !too_deep {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut last = 0;
    scan(&mut |start, end, deep| {
        if deep {
            out.push_str(&source[last..start]);
            last = end;
        }
    });
    out.push_str(&source[last..]);
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------
// Metadata

#[derive(Debug, Default)]
struct Meta {
    title: Option<String>,
    byline: Option<String>,
    date: Option<String>,
    site_name: Option<String>,
    excerpt: Option<String>,
    language: Option<String>,
    page_title: String,
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

fn text_similarity(a: &str, b: &str) -> f64 {
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

fn extract_meta(page: &Html) -> Meta {
    let mut meta = Meta::default();
    let mut values: HashMap<String, String> = HashMap::new();
    let mut jsonld: Option<serde_json::Value> = None;
    let mut time_text: Option<String> = None;
    let mut itemprop_date: Option<String> = None;
    let mut itemprop_author: Option<String> = None;
    let mut html_lang: Option<String> = None;
    let mut stack = vec![page.tree.root()];
    let mut seen_title = false;
    while let Some(node) = stack.pop() {
        if let Some(e) = node.value().as_element() {
            match e.name() {
                "html" => html_lang = e.attr("lang").and_then(clean_text),
                "title" if !seen_title => {
                    seen_title = true;
                    let t: String = node
                        .children()
                        .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                        .collect();
                    meta.page_title = collapse_whitespace(&t);
                }
                "meta" => {
                    let content = e.attr("content").unwrap_or("");
                    if let Some(prop) = e.attr("property").or_else(|| e.attr("name")) {
                        for key in prop.split_whitespace() {
                            let key = key.to_ascii_lowercase().replace('.', ":");
                            if !content.trim().is_empty() {
                                values.entry(key).or_insert_with(|| content.to_owned());
                            }
                        }
                    }
                    if e.attr("http-equiv")
                        .is_some_and(|h| h.eq_ignore_ascii_case("content-language"))
                    {
                        values
                            .entry("content-language".into())
                            .or_insert_with(|| content.to_owned());
                    }
                    if e.attr("itemprop") == Some("datePublished") && itemprop_date.is_none() {
                        itemprop_date = clean_text(content);
                    }
                }
                "script" => {
                    if jsonld.is_none()
                        && e.attr("type")
                            .is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json"))
                    {
                        let raw: String = node
                            .children()
                            .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                            .collect();
                        let raw = raw.trim();
                        let raw = raw.strip_prefix("<![CDATA[").unwrap_or(raw);
                        let raw = raw.strip_suffix("]]>").unwrap_or(raw);
                        if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
                            if let Some(a) = find_jsonld_article(&v, 0) {
                                jsonld = Some(a.clone());
                            }
                        }
                    }
                    continue;
                }
                "time" if time_text.is_none() => {
                    time_text = e.attr("datetime").and_then(clean_text).or_else(|| {
                        let t: String = node
                            .descendants()
                            .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                            .collect();
                        clean_text(&t)
                    });
                }
                _ => {}
            }
            if itemprop_date.is_none() && e.attr("itemprop") == Some("datePublished") {
                itemprop_date = e
                    .attr("datetime")
                    .or(e.attr("content"))
                    .and_then(clean_text);
            }
            if itemprop_author.is_none()
                && e.attr("itemprop")
                    .is_some_and(|p| p.split_whitespace().any(|p| p == "author"))
            {
                let t: String = node
                    .descendants()
                    .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                    .collect();
                itemprop_author = clean_text(&t).filter(|t| t.chars().count() < 100);
            }
        }
        stack.extend(node.children().rev());
    }

    let get = |keys: &[&str]| -> Option<String> {
        keys.iter()
            .find_map(|k| values.get(*k).and_then(|v| clean_text(v)))
    };
    let mut title = get(&[
        "dc:title",
        "dcterm:title",
        "og:title",
        "weibo:article:title",
        "weibo:webpage:title",
        "title",
        "twitter:title",
        "parsely-title",
    ]);
    let mut byline = get(&["dc:creator", "dcterm:creator", "author", "parsely-author"])
        .or_else(|| get(&["article:author"]).filter(|a| !a.starts_with("http")));
    let mut date = get(&[
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
    ]);
    let mut site_name = get(&["og:site_name", "application-name"]);
    let mut excerpt = get(&[
        "dc:description",
        "dcterm:description",
        "og:description",
        "weibo:article:description",
        "weibo:webpage:description",
        "description",
        "twitter:description",
    ]);
    if let Some(ld) = &jsonld {
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
            title = ld_title;
        }
        if let Some(a) = ld.get("author").and_then(json_names) {
            byline = Some(a);
        }
        if let Some(d) = ld.get("datePublished").and_then(json_str) {
            date = Some(d);
        }
        if let Some(p) = ld.get("publisher").and_then(json_str) {
            site_name = Some(p);
        }
        if let Some(d) = ld.get("description").and_then(json_str) {
            excerpt = Some(d);
        }
    }
    meta.title = title;
    meta.byline = byline.or(itemprop_author);
    meta.date = date.or(itemprop_date).or(time_text);
    meta.site_name = site_name;
    meta.excerpt = excerpt;
    meta.language =
        html_lang.or_else(|| get(&["content-language", "og:locale", "dc:language", "language"]));
    meta
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

// ---------------------------------------------------------------------------
// Content

#[derive(Clone, Copy)]
struct Flags {
    strip_unlikely: bool,
    weight_classes: bool,
    clean_conditionally: bool,
}

struct Grab {
    arena: Arena,
    content: usize,
    byline: Option<String>,
    text_len: usize,
}

const UNLIKELY_ROLES: &[&str] = &[
    "menu",
    "menubar",
    "complementary",
    "navigation",
    "alert",
    "alertdialog",
    "dialog",
];

fn grab_article(page: &Html, title: &str, flags: Flags) -> Grab {
    let mut a = Arena::from_html(page);
    let body = a
        .preorder(0)
        .into_iter()
        .find(|&id| a.tag(id) == "body")
        .unwrap_or(0);
    let mut byline: Option<String> = None;
    let mut header_removed = false;
    let mut to_score: Vec<usize> = Vec::new();

    let mut stack = vec![body];
    while let Some(id) = stack.pop() {
        if a.items[id].parent == NONE && id != body {
            continue; // detached meanwhile
        }
        let tag = a.tag(id).to_owned();
        if tag == TEXT {
            continue;
        }
        let class_id = a.class_id(id);
        let match_string = class_id.trim();

        // Byline.
        if byline.is_none() && id != body {
            let rel_author = a.attr(id, "rel") == Some("author");
            let itemprop_author = a.attr(id, "itemprop").is_some_and(|p| p.contains("author"));
            if rel_author || itemprop_author || is_match(re_byline(), match_string) {
                let text = a.inner_text(id);
                let n = text.chars().count();
                if n > 0 && n < 100 {
                    byline = Some(text);
                    a.detach(id);
                    continue;
                }
            }
        }
        // Header duplicating the title.
        if !header_removed && matches!(tag.as_str(), "h1" | "h2") && !title.is_empty() {
            let text = a.inner_text(id);
            if text_similarity(title, &text) > 0.75 {
                header_removed = true;
                a.detach(id);
                continue;
            }
        }
        if matches!(tag.as_str(), "nav" | "aside" | "footer" | "header") && a.stats[id].p < 3 {
            a.detach(id);
            continue;
        }
        if flags.strip_unlikely && id != body {
            let role = a.attr(id, "role").unwrap_or("");
            let unlikely = is_match(re_unlikely(), match_string)
                && !is_match(re_maybe(), match_string)
                && a.has_ancestor(id, "table", 64).is_none()
                && a.has_ancestor(id, "code", 64).is_none()
                && tag != "a"
                && tag != "body";
            if unlikely || UNLIKELY_ROLES.contains(&role) {
                a.detach(id);
                continue;
            }
        }
        if a.attr(id, "aria-modal") == Some("true") && a.attr(id, "role") == Some("dialog") {
            a.detach(id);
            continue;
        }
        // Empty containers.
        if matches!(
            tag.as_str(),
            "div" | "section" | "header" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        ) && a.stats[id].text == 0
            && a.items[id]
                .children
                .iter()
                .all(|&c| matches!(a.tag(c), "br" | "hr" | TEXT))
        {
            a.detach(id);
            continue;
        }
        let mut id = id;
        if matches!(
            tag.as_str(),
            "section" | "h2" | "h3" | "h4" | "h5" | "h6" | "p" | "td" | "pre"
        ) {
            to_score.push(id);
        }
        if tag == "div" {
            // Phrasing runs become paragraphs.
            let children = a.items[id].children.clone();
            let has_block = a.stats[id].blocks > 1;
            if has_block && children.iter().any(|&c| a.is_phrasing(c)) {
                let mut new_children = Vec::new();
                let mut current: Option<usize> = None;
                for c in children {
                    if a.is_phrasing(c) {
                        match current {
                            Some(p) => a.items[p].children.push(c),
                            None if !a.is_whitespace(c) => {
                                let p = a.new_node("p", id);
                                a.items[p].children.push(c);
                                new_children.push(p);
                                current = Some(p);
                            }
                            None => new_children.push(c),
                        }
                        if let Some(p) = current {
                            a.items[c].parent = p;
                        }
                    } else {
                        current = None;
                        new_children.push(c);
                    }
                }
                a.items[id].children = new_children;
                // Stats of the new paragraphs.
                for &c in &a.items[id].children.clone() {
                    if a.tag(c) == "p" && a.stats[c].text == 0 && a.stats[c].p == 0 {
                        let mut s = Stats::default();
                        for &g in &a.items[c].children {
                            s.add(&a.stats[g]);
                        }
                        a.stats[c] = s;
                        a.finish_stats(c);
                    }
                }
            }
            let element_children: Vec<usize> = a.items[id]
                .children
                .iter()
                .copied()
                .filter(|&c| !a.is_whitespace(c) || a.tag(c) == "br")
                .filter(|&c| a.tag(c) != TEXT || !a.items[c].text.trim().is_empty())
                .collect();
            if element_children.len() == 1
                && is_p(a.tag(element_children[0]))
                && a.link_density(id) < 0.25
            {
                // Replace the div by its only paragraph.
                let p = element_children[0];
                let parent = a.items[id].parent;
                if parent != NONE {
                    let pos = a.items[parent].children.iter().position(|&c| c == id);
                    if let Some(pos) = pos {
                        a.items[parent].children[pos] = p;
                        a.items[p].parent = parent;
                        a.items[id].children.clear();
                        a.items[id].parent = NONE;
                        id = p;
                        to_score.push(p);
                    }
                }
            } else if a.stats[id].blocks <= 1 {
                a.items[id].tag = DIV_P.into();
                to_score.push(id);
            }
        }
        stack.extend(a.items[id].children.iter().rev().copied());
    }

    // Scoring.
    let mut candidates: Vec<usize> = Vec::new();
    for &el in &to_score {
        let parent = a.items[el].parent;
        if parent == NONE {
            continue;
        }
        let len = a.stats[el].text;
        if len < 25 {
            continue;
        }
        let score = 1.0 + (a.stats[el].commas + 1) as f64 + (len / 100).min(3) as f64;
        let mut anc = parent;
        let mut level = 0usize;
        while anc != NONE && anc != 0 && level < 5 {
            if a.items[anc].parent == NONE {
                break;
            }
            if a.score[anc].is_none() {
                let base = match a.tag(anc) {
                    "div" => 5.0,
                    "pre" | "td" | "blockquote" => 3.0,
                    "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
                    _ => 0.0,
                };
                let weight = if flags.weight_classes {
                    a.class_weight(anc)
                } else {
                    0.0
                };
                a.score[anc] = Some(base + weight);
                candidates.push(anc);
            }
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f64 * 3.0,
            };
            if let Some(s) = a.score[anc].as_mut() {
                *s += score / divider;
            }
            anc = a.items[anc].parent;
            level += 1;
        }
    }
    for &c in &candidates {
        let ld = a.link_density(c);
        if let Some(s) = a.score[c].as_mut() {
            *s *= 1.0 - ld;
        }
    }
    let mut top: Vec<(usize, f64)> = candidates
        .iter()
        .filter_map(|&c| a.score[c].map(|s| (c, s)))
        .collect();
    top.sort_by(|x, y| y.1.partial_cmp(&x.1).unwrap_or(std::cmp::Ordering::Equal));
    top.truncate(N_TOP_CANDIDATES);

    let content = a.new_node("div", NONE);
    let top_candidate = top.first().copied().filter(|&(c, _)| c != body);
    match top_candidate {
        None => {
            // Whole body.
            let kids = a.items[body].children.clone();
            for k in kids {
                a.detach(k);
                a.append(content, k);
            }
        }
        Some((mut tc, tscore)) => {
            // Shared ancestor of several strong candidates.
            let alternatives: Vec<usize> = top[1..]
                .iter()
                .filter(|&&(_, s)| s / tscore >= 0.75)
                .map(|&(c, _)| c)
                .collect();
            if alternatives.len() >= 3 {
                let anc_sets: Vec<Vec<usize>> = alternatives
                    .iter()
                    .map(|&c| {
                        let mut v = Vec::new();
                        let mut x = a.items[c].parent;
                        while x != NONE && v.len() < MAX_DEPTH {
                            v.push(x);
                            x = a.items[x].parent;
                        }
                        v
                    })
                    .collect();
                let mut p = a.items[tc].parent;
                while p != NONE && p != body && p != 0 {
                    let n = anc_sets.iter().filter(|s| s.contains(&p)).count();
                    if n >= 3 {
                        tc = p;
                        break;
                    }
                    p = a.items[p].parent;
                }
            }
            if a.score[tc].is_none() {
                a.score[tc] = Some(0.0);
            }
            // Climb while the parent scores better.
            let mut last_score = a.score[tc].unwrap_or(0.0);
            let threshold = last_score / 3.0;
            let mut p = a.items[tc].parent;
            while p != NONE && p != body && p != 0 {
                let Some(ps) = a.score[p] else {
                    p = a.items[p].parent;
                    continue;
                };
                if ps < threshold {
                    break;
                }
                if ps > last_score {
                    tc = p;
                    break;
                }
                last_score = ps;
                p = a.items[p].parent;
            }
            // Single-child chains.
            let mut p = a.items[tc].parent;
            while p != NONE
                && p != body
                && p != 0
                && a.items[p]
                    .children
                    .iter()
                    .filter(|&&c| !a.is_whitespace(c))
                    .count()
                    == 1
            {
                tc = p;
                p = a.items[p].parent;
            }
            if a.score[tc].is_none() {
                a.score[tc] = Some(0.0);
            }
            let tscore = a.score[tc].unwrap_or(0.0);
            let threshold = (tscore * 0.2).max(10.0);
            let parent = a.items[tc].parent;
            let siblings = if parent == NONE {
                vec![tc]
            } else {
                a.items[parent].children.clone()
            };
            let tc_class = a.attr(tc, "class").unwrap_or("").to_owned();
            for s in siblings {
                let mut append = s == tc;
                if !append && a.tag(s) != TEXT {
                    let mut bonus = 0.0;
                    if !tc_class.is_empty() && a.attr(s, "class") == Some(tc_class.as_str()) {
                        bonus += tscore * 0.2;
                    }
                    if a.score[s].is_some_and(|sc| sc + bonus >= threshold) {
                        append = true;
                    } else if is_p(a.tag(s)) {
                        let ld = a.link_density(s);
                        let len = a.stats[s].text;
                        if len > 80 && ld < 0.25 {
                            append = true;
                        } else if len < 80 && len > 0 && ld == 0.0 {
                            let text = a.inner_text(s);
                            append = is_match(re_sentence_end(), &text);
                        }
                    }
                }
                if append {
                    a.detach(s);
                    a.append(content, s);
                }
            }
        }
    }

    prep_article(&mut a, content, flags);
    let text_len = a.stats[content].text;
    Grab {
        arena: a,
        content,
        byline,
        text_len,
    }
}

fn mark_data_tables(a: &mut Arena, root: usize) {
    for id in a.preorder(root) {
        if a.tag(id) != "table" {
            continue;
        }
        let is_data = (|| {
            if a.attr(id, "role") == Some("presentation") || a.attr(id, "datatable") == Some("0") {
                return false;
            }
            if a.attr(id, "summary").is_some() {
                return true;
            }
            let sub = a.preorder(id);
            let mut rows = 0;
            let mut cols = 0;
            for &d in &sub[1..] {
                match a.tag(d) {
                    "caption" if !a.items[d].children.is_empty() => return true,
                    "col" | "colgroup" | "tfoot" | "thead" | "th" => return true,
                    "table" => return false,
                    "tr" => {
                        rows += 1;
                        let c = a.items[d]
                            .children
                            .iter()
                            .filter(|&&c| matches!(a.tag(c), "td" | "th"))
                            .count();
                        cols = cols.max(c);
                    }
                    _ => {}
                }
            }
            rows >= 10 || cols > 4 || rows * cols > 10
        })();
        a.data_table[id] = is_data;
    }
    a.compute_stats();
}

fn clean_conditionally(a: &mut Arena, root: usize, tag: &str, flags: Flags) {
    if !flags.clean_conditionally {
        return;
    }
    let nodes: Vec<usize> = a
        .preorder(root)
        .into_iter()
        .filter(|&id| id != root && a.tag(id) == tag)
        .collect();
    for &id in nodes.iter().rev() {
        if a.items[id].parent == NONE {
            continue;
        }
        let s = a.stats[id].clone();
        let mut is_list = matches!(tag, "ul" | "ol");
        if !is_list && s.text > 0 {
            let list_len = s.list;
            is_list = list_len as f64 / s.text as f64 > 0.9;
        }
        if tag == "table" && a.data_table[id] {
            continue;
        }
        let mut x = a.items[id].parent;
        let mut inside_protected = false;
        let mut depth = 0;
        while x != NONE && depth < MAX_DEPTH {
            if (a.tag(x) == "table" && a.data_table[x]) || a.tag(x) == "code" {
                inside_protected = true;
                break;
            }
            x = a.items[x].parent;
            depth += 1;
        }
        if inside_protected || s.data_tables > 0 {
            continue;
        }
        let weight = if flags.weight_classes {
            a.class_weight(id)
        } else {
            0.0
        };
        if weight < 0.0 {
            a.detach(id);
            continue;
        }
        if s.commas >= 10 {
            continue;
        }
        let own = |n: usize, is_self: bool| n.saturating_sub(usize::from(is_self));
        let p = own(s.p, is_p(tag)) as f64;
        let img = own(s.img, tag == "img") as f64;
        let li = own(s.li, tag == "li") as f64 - 100.0;
        let input = own(s.input, tag == "input") as f64;
        let heading_density = if s.text == 0 {
            0.0
        } else {
            s.heading as f64 / s.text as f64
        };
        let text = a.inner_text(id);
        if is_match(re_ad_words(), &text) || is_match(re_loading(), &text) {
            a.detach(id);
            continue;
        }
        let content_len = text.chars().count();
        let ld = a.link_density(id);
        // Text inside text-ish descendants (not the element itself).
        let textish: usize = a.items[id]
            .children
            .iter()
            .map(|&c| {
                if TEXTISH.contains(&a.tag(c)) {
                    a.stats[c].text
                } else {
                    a.stats[c].textish
                }
            })
            .sum();
        let text_density = if s.text == 0 {
            0.0
        } else {
            textish as f64 / s.text as f64
        };
        let figure_child = a.has_ancestor(id, "figure", MAX_DEPTH).is_some();
        let embed = s.embed as f64;
        let mut remove = (!figure_child && img > 1.0 && p / img < 0.5)
            || (!is_list && li > p)
            || (input > (p / 3.0).floor())
            || (!is_list
                && !figure_child
                && heading_density < 0.9
                && content_len < 25
                && (img == 0.0 || img > 2.0)
                && ld > 0.0)
            || (!is_list && weight < 25.0 && ld > 0.2)
            || (weight >= 25.0 && ld > 0.5)
            || ((embed == 1.0 && content_len < 75) || embed > 1.0)
            || (img == 0.0 && text_density == 0.0);
        if is_list && remove {
            let simple = a.items[id]
                .children
                .iter()
                .all(|&c| a.items[c].children.len() <= 1);
            if simple && s.img == s.li && s.li > 0 {
                remove = false;
            }
        }
        if remove {
            a.detach(id);
        }
    }
}

fn prep_article(a: &mut Arena, content: usize, flags: Flags) {
    mark_data_tables(a, content);
    clean_conditionally(a, content, "form", flags);
    clean_conditionally(a, content, "fieldset", flags);
    // Plain removals.
    let drop: Vec<usize> = a
        .preorder(content)
        .into_iter()
        .filter(|&id| {
            matches!(
                a.tag(id),
                "object"
                    | "embed"
                    | "footer"
                    | "link"
                    | "aside"
                    | "iframe"
                    | "input"
                    | "textarea"
                    | "select"
                    | "button"
                    | "nav"
                    | "form"
            )
        })
        .collect();
    for id in drop.into_iter().rev() {
        if a.tag(id) == "form" && a.stats[id].p >= 3 {
            continue; // ASP.NET pages wrap everything in a form
        }
        a.detach(id);
    }
    // Share bars.
    let tops = a.items[content].children.clone();
    for t in tops {
        let sub = a.preorder(t);
        for &id in sub.iter().skip(1).rev() {
            if a.items[id].parent == NONE || a.tag(id) == TEXT {
                continue;
            }
            let ci = a.class_id(id);
            if is_match(re_share(), ci.trim()) && a.stats[id].text < 500 {
                a.detach(id);
            }
        }
    }
    // Headers with negative weight.
    let heads: Vec<usize> = a
        .preorder(content)
        .into_iter()
        .filter(|&id| matches!(a.tag(id), "h1" | "h2"))
        .collect();
    for id in heads {
        if flags.weight_classes && a.class_weight(id) < 0.0 {
            a.detach(id);
        }
    }
    clean_conditionally(a, content, "table", flags);
    clean_conditionally(a, content, "ul", flags);
    clean_conditionally(a, content, "div", flags);
    // Empty paragraphs.
    let empties: Vec<usize> = a
        .preorder(content)
        .into_iter()
        .filter(|&id| is_p(a.tag(id)) && a.stats[id].text == 0 && a.stats[id].img == 0)
        .collect();
    for id in empties {
        a.detach(id);
    }
}

// ---------------------------------------------------------------------------
// Paragraphs

/// Elements whose content is never article text.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "footer", "aside", "form", "button",
    "select", "option", "textarea", "input", "svg", "canvas", "iframe", "object", "embed", "video",
    "audio", "map", "head", "title", "meta", "link", "dialog", "menu",
];
/// Elements whose text becomes one paragraph.
const LEAF_BLOCKS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "figcaption",
    "caption",
    "address",
    "tr",
];
/// Inline elements: their text continues the current run.
const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
    "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "del",
    "ins", "wbr", "nobr", "tt", "big", "strike", "label", "img", "picture",
];

fn is_inline(tag: &str) -> bool {
    tag == TEXT || INLINE.contains(&tag)
}

/// Text of a leaf block, blocks inside it separated by spaces (table cells by " | ").
fn leaf_text(a: &Arena, id: usize) -> String {
    enum Step {
        Node(usize),
        Push(&'static str),
    }
    let mut out = String::new();
    let mut stack = vec![Step::Node(id)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Push(s) => out.push_str(s),
            Step::Node(n) => {
                let item = &a.items[n];
                if item.tag == TEXT {
                    out.push_str(&item.text);
                    continue;
                }
                if n != id && SKIP.contains(&item.tag.as_str()) {
                    continue;
                }
                if item.tag == "br" {
                    out.push(' ');
                    continue;
                }
                let block = !is_inline(&item.tag);
                if block {
                    stack.push(Step::Push(" "));
                }
                stack.extend(item.children.iter().rev().map(|&c| Step::Node(c)));
                if block {
                    out.push(' ');
                }
            }
        }
    }
    collapse_whitespace(&out)
}

struct Walker<'a> {
    paragraphs: Vec<String>,
    run: String,
    title: &'a str,
    subtitle: Option<&'a str>,
    /// Keep every loose text line, however short.
    lenient: bool,
}

impl Walker<'_> {
    fn push(&mut self, text: String) {
        let text = collapse_whitespace(&text);
        if text.is_empty()
            || text == self.title
            || Some(text.as_str()) == self.subtitle
            || is_separator(&text)
            || is_boilerplate(&text)
        {
            return;
        }
        self.paragraphs.push(text);
    }

    /// Loose inline text between blocks: each `<br>`-separated line is kept only
    /// when it looks like prose.
    fn flush(&mut self) {
        let run = std::mem::take(&mut self.run);
        for line in run.split(LINE_BREAK) {
            let line = collapse_whitespace(line);
            if self.lenient
                || line.split_whitespace().count() >= 6
                || (ends_with_terminal(&line) && line.len() > 1)
            {
                self.push(line);
            }
        }
    }

    fn walk(&mut self, a: &Arena, root: usize) {
        enum Step {
            Enter(usize),
            Flush,
        }
        let mut stack: Vec<Step> = a.items[root]
            .children
            .iter()
            .rev()
            .map(|&c| Step::Enter(c))
            .collect();
        while let Some(step) = stack.pop() {
            let id = match step {
                Step::Flush => {
                    self.flush();
                    continue;
                }
                Step::Enter(id) => id,
            };
            let item = &a.items[id];
            let name = item.tag.as_str();
            if name == TEXT {
                self.run.push_str(&item.text);
                continue;
            }
            if SKIP.contains(&name) {
                continue;
            }
            if name == "br" {
                self.run.push(LINE_BREAK);
            } else if is_inline(name) {
                stack.extend(item.children.iter().rev().map(|&c| Step::Enter(c)));
            } else if LEAF_BLOCKS.contains(&name) {
                self.flush();
                let nested = matches!(name, "li" | "blockquote" | "dd")
                    && a.stats[id].blocks > 0
                    && a.preorder(id).iter().skip(1).any(|&d| {
                        matches!(
                            a.tag(d),
                            "p" | "ul"
                                | "ol"
                                | "li"
                                | "blockquote"
                                | "div"
                                | "section"
                                | "table"
                                | "pre"
                                | "h1"
                                | "h2"
                                | "h3"
                                | "h4"
                                | "h5"
                                | "h6"
                        )
                    });
                if nested {
                    stack.push(Step::Flush);
                    stack.extend(item.children.iter().rev().map(|&c| Step::Enter(c)));
                } else if name == "tr" {
                    let cells: Vec<String> = item
                        .children
                        .iter()
                        .map(|&c| leaf_text(a, c))
                        .filter(|t| !t.is_empty())
                        .collect();
                    self.push(cells.join(" | "));
                } else {
                    let text = leaf_text(a, id);
                    self.push(text);
                }
            } else {
                self.flush();
                stack.push(Step::Flush);
                stack.extend(item.children.iter().rev().map(|&c| Step::Enter(c)));
            }
        }
        self.flush();
    }
}

fn find_subtitle(a: &Arena, root: usize, title: &str) -> Option<String> {
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

/// Extracts the article and its metadata from an HTML page.
pub fn extract_article(source: &str) -> Article {
    let source = limit_nesting(source);
    let page = Html::parse_document(&source);
    let meta = extract_meta(&page);

    // Title: metadata, else the article's / page's single <h1>, else <title>.
    let whole = Arena::from_html(&page);
    let h1s: Vec<usize> = whole
        .preorder(0)
        .into_iter()
        .filter(|&id| whole.tag(id) == "h1")
        .collect();
    let h1_text = |id: usize| whole.inner_text(id);
    let page_title = clean_page_title(&meta.page_title);
    // A <title> of 3+ words without a " | Site" part is usually the clean
    // headline; otherwise the article's <h1> is preferred.
    let title = meta.title.clone().unwrap_or_else(|| {
        let raw_title = collapse_whitespace(&meta.page_title);
        if page_title == raw_title && raw_title.split_whitespace().count() >= 3 {
            return page_title.clone();
        }
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
                    [one]
                        if page_title.is_empty()
                            || text_similarity(one, &meta.page_title) > 0.5 =>
                    {
                        Some(one.clone())
                    }
                    _ => None,
                }
            })
            .unwrap_or_else(|| page_title.clone())
    });

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
    // Like Readability, relax the filters while the article is short; a later
    // attempt must be clearly longer to replace an earlier one.
    let mut best: Option<Grab> = None;
    for flags in attempts {
        let grab = grab_article(&page, &title, flags);
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
    let Some(grab) = best else {
        return Article::default();
    };

    let subtitle = find_subtitle(&whole, 0, &title);
    let mut walker = Walker {
        paragraphs: Vec::new(),
        run: String::new(),
        title: &title,
        subtitle: subtitle.as_deref(),
        lenient: false,
    };
    walker.walk(&grab.arena, grab.content);
    if walker.paragraphs.is_empty() {
        // Nothing but short loose text: keep it rather than return nothing.
        walker.lenient = true;
        walker.walk(&grab.arena, grab.content);
    }
    let paragraphs = walker.paragraphs;

    let byline = meta.byline.clone().or(grab.byline);
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

    #[test]
    fn picks_content_over_chrome() {
        let para = "Officials said the bridge, which carries thousands of cars a day, would stay closed for inspection while engineers assess the damage.";
        let mut html = String::from("<html><body><div id=\"menu\"><ul>");
        for i in 0..30 {
            html.push_str(&format!("<li><a href=\"/{i}\">Section {i}</a></li>"));
        }
        html.push_str("</ul></div><div class=\"main\"><div class=\"story-body\">");
        for _ in 0..6 {
            html.push_str(&format!("<p>{para}</p>"));
        }
        html.push_str("</div></div><div class=\"related\"><h3>Read more</h3><ul><li><a href=\"/x\">Another long related headline about bridges and roads</a></li></ul></div>");
        html.push_str("<div class=\"cookie-banner\"><p>We use cookies to improve your experience on our website, by continuing you agree.</p></div></body></html>");
        let art = extract_article(&html);
        assert_eq!(art.paragraphs.len(), 6, "{:?}", art.paragraphs);
        assert!(art.paragraphs.iter().all(|p| p == para));
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
