//! Basic HTML to document conversion.
//!
//! * root: the `<article>` with the most text, else `<main>` / `[role=main]`,
//!   else `<body>`;
//! * title: first `<h1>` in the root, else first `<h1>` in the page, else `<title>`
//!   (with a trailing " | Site name" style suffix removed);
//! * subtitle: first element whose class/id names a standfirst/subtitle/dek;
//! * dateline: first `<time>` element;
//! * paragraphs: `<p>`, `<h2>`…`<h6>`, `<li>`, `<blockquote>`, `<pre>`, `<dd>`,
//!   `<figcaption>` text, plus loose text runs inside containers; `script`, `style`,
//!   `nav`, `header`, `footer`, `aside`, `form` (and similar) are skipped;
//! * generic boilerplate lines and separators are dropped as for plain text.
//!
//! A full readability-style extractor will replace this later.

use std::sync::OnceLock;

use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use super::plain::{
    collapse_whitespace, ends_with_terminal, is_boilerplate, is_separator, RawDocument,
};

/// Elements whose content is never article text.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "button", "select", "option", "textarea", "input", "svg", "canvas", "iframe", "object",
    "embed", "video", "audio", "map", "head", "title", "meta", "link", "dialog", "menu",
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
];

/// Inline elements: their text continues the current run.
const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
    "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "del",
    "ins", "wbr", "nobr", "tt", "big", "strike", "label",
];

/// Nesting depth beyond which deeper content is ignored (stack safety).
const MAX_DEPTH: usize = 256;
/// Marks a `<br>` inside a loose text run.
const LINE_BREAK: char = '\u{2028}';

fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

/// Text of an element, skipping non-content elements, whitespace collapsed.
fn element_text(node: ElementRef<'_>) -> String {
    let mut out = String::new();
    collect_text(node, &mut out, 0);
    collapse_whitespace(&out)
}

fn collect_text(node: ElementRef<'_>, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for child in node.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let Some(child) = ElementRef::wrap(child) else {
                    continue;
                };
                let name = e.name();
                if SKIP.contains(&name) {
                    continue;
                }
                if name == "br" {
                    out.push(' ');
                    continue;
                }
                let block = !INLINE.contains(&name);
                if block {
                    out.push(' ');
                }
                collect_text(child, out, depth + 1);
                if block {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

fn has_block_descendant(node: ElementRef<'_>) -> bool {
    node.descendants().skip(1).any(|d| {
        d.value().as_element().is_some_and(|e| {
            matches!(
                e.name(),
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
        })
    })
}

struct Walker<'a> {
    paragraphs: Vec<String>,
    run: String,
    title: &'a str,
    subtitle: Option<&'a str>,
    depth: usize,
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
            if line.split_whitespace().count() >= 6 || (ends_with_terminal(&line) && line.len() > 1)
            {
                self.push(line);
            }
        }
    }

    fn walk(&mut self, node: ElementRef<'_>) {
        // Guard against pathological nesting.
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        for child in node.children() {
            match child.value() {
                Node::Text(t) => self.run.push_str(t),
                Node::Element(e) => {
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    let name = e.name();
                    if SKIP.contains(&name) {
                        continue;
                    }
                    if name == "br" {
                        self.run.push(LINE_BREAK);
                    } else if INLINE.contains(&name) {
                        self.walk(child);
                    } else if LEAF_BLOCKS.contains(&name) {
                        self.flush();
                        if matches!(name, "li" | "blockquote" | "dd") && has_block_descendant(child)
                        {
                            self.walk(child);
                            self.flush();
                        } else {
                            let text = element_text(child);
                            self.push(text);
                        }
                    } else {
                        self.flush();
                        self.walk(child);
                        self.flush();
                    }
                }
                _ => {}
            }
        }
        self.depth -= 1;
    }
}

/// Removes a trailing " | Site name" / " - Site name" suffix from a `<title>`.
fn clean_page_title(title: &str) -> String {
    let mut title = collapse_whitespace(title);
    for sep in [" | ", " — ", " – ", " - ", " :: ", " · "] {
        if let Some((head, tail)) = title.rsplit_once(sep) {
            if !head.trim().is_empty() && tail.split_whitespace().count() <= 5 {
                title = head.trim().to_owned();
                break;
            }
        }
    }
    title
}

fn subtitle_class_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)standfirst|sub-?title|sub-?head|strapline|\bdek\b|\bdeck\b|article-summary",
        )
        .ok()
    })
    .as_ref()
}

fn text_len(el: &ElementRef<'_>) -> usize {
    el.text().map(str::len).sum()
}

/// HTML article structure.
pub fn parse_html(source: &str) -> RawDocument {
    let page = Html::parse_document(source);
    let first = |css: &str, scope: ElementRef<'_>| -> Option<String> {
        let sel = selector(css)?;
        scope.select(&sel).map(element_text).find(|t| !t.is_empty())
    };
    let document_root = page.root_element();
    let root = selector("article")
        .and_then(|sel| page.select(&sel).max_by_key(text_len))
        .or_else(|| selector("main, [role=main]").and_then(|sel| page.select(&sel).next()))
        .or_else(|| selector("body").and_then(|sel| page.select(&sel).next()))
        .unwrap_or(document_root);

    let title = first("h1", root)
        .or_else(|| first("h1", document_root))
        .or_else(|| first("title", document_root).map(|t| clean_page_title(&t)))
        .unwrap_or_default();

    let subtitle = selector("[class], [id]").and_then(|sel| {
        let re = subtitle_class_regex()?;
        page.select(&sel)
            .filter(|el| {
                let v = el.value();
                v.attr("class").is_some_and(|c| re.is_match(c))
                    || v.attr("id").is_some_and(|c| re.is_match(c))
            })
            .map(element_text)
            .find(|t| !t.is_empty() && t.split_whitespace().count() <= 60 && *t != title)
    });

    let dateline = first("time", root).or_else(|| first("time", document_root));

    let mut walker = Walker {
        paragraphs: Vec::new(),
        run: String::new(),
        title: &title,
        subtitle: subtitle.as_deref(),
        depth: 0,
    };
    walker.walk(root);
    walker.flush();
    let paragraphs = walker.paragraphs;
    RawDocument {
        title,
        subtitle,
        dateline,
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
    fn garbage_does_not_panic() {
        for s in [
            "",
            "<",
            "<<<>>>",
            "<p>",
            "</p></p><p>x",
            "<html><body><article></article>",
        ] {
            let _ = parse_html(s);
        }
        let deep = "<div>".repeat(2000) + "text." + &"</div>".repeat(2000);
        let _ = parse_html(&deep);
    }
}
