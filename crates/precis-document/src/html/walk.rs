//! Walking the cleaned content into paragraphs: `<p>`, headings, list items, quotes, table
//! rows and loose prose runs, with boilerplate lines dropped.

use super::arena::{Arena, TEXT};
use crate::plain::{collapse_whitespace, ends_with_terminal, is_boilerplate, is_separator};

/// Marks a `<br>` inside a loose text run.
const LINE_BREAK: char = '\u{2028}';

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

/// The article's paragraphs from the cleaned content; when strict reading finds none (only
/// short loose text), every loose line is kept rather than nothing.
pub(super) fn article_paragraphs(
    a: &Arena,
    content: usize,
    title: &str,
    subtitle: Option<&str>,
) -> Vec<String> {
    let mut walker = Walker {
        paragraphs: Vec::new(),
        run: String::new(),
        title,
        subtitle,
        lenient: false,
    };
    walker.walk(a, content);
    if walker.paragraphs.is_empty() {
        walker.lenient = true;
        walker.walk(a, content);
    }
    walker.paragraphs
}
