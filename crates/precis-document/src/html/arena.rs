//! The page as a small mutable tree (an arena of nodes, copied from html5ever's parse without
//! recursion) with per-node text statistics kept exact as nodes are moved or removed.

use scraper::{Html, Node};

use super::is_match;
use crate::plain::collapse_whitespace;

/// Nesting depth beyond which elements are flattened into their ancestor.
pub(super) const MAX_DEPTH: usize = 512;

regex!(
    re_videos,
    r"(?i)//(www\.)?((dailymotion|youtube|youtube-nocookie|player\.vimeo|v\.qq)\.com|(archive|upload\.wikimedia)\.org|player\.twitch\.tv)"
);

pub(super) const NONE: usize = usize::MAX;
pub(super) const TEXT: &str = "#text";
/// A `<div>` holding only inline content: scored like `<p>`, walked like a `<div>`.
pub(super) const DIV_P: &str = "#divp";

pub(super) fn is_p(tag: &str) -> bool {
    tag == "p" || tag == DIV_P
}

#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) tag: String,
    pub(super) text: String,
    pub(super) attrs: Vec<(String, String)>,
    pub(super) parent: usize,
    pub(super) children: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Stats {
    pub(super) text: usize,
    pub(super) link: f64,
    pub(super) commas: usize,
    pub(super) p: usize,
    pub(super) img: usize,
    pub(super) li: usize,
    pub(super) input: usize,
    pub(super) embed: usize,
    pub(super) heading: usize,
    pub(super) textish: usize,
    pub(super) list: usize,
    pub(super) data_tables: usize,
    pub(super) blocks: usize,
}

impl Stats {
    pub(super) fn add(&mut self, o: &Stats) {
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
/// Block elements: a `<div>` holding none of them is read as a paragraph.
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
/// Elements whose text counts as text-like for text density: spans, list items and cells,
/// and the block elements of [`DIV_TO_P`].
pub(super) fn is_textish(tag: &str) -> bool {
    matches!(tag, "span" | "li" | "td") || DIV_TO_P.contains(&tag)
}

pub(super) struct Arena {
    pub(super) items: Vec<Item>,
    pub(super) stats: Vec<Stats>,
    pub(super) score: Vec<Option<f64>>,
    pub(super) data_table: Vec<bool>,
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
    pub(super) fn from_html(page: &Html) -> Arena {
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

    pub(super) fn new_node(&mut self, tag: &str, parent: usize) -> usize {
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

    pub(super) fn tag(&self, id: usize) -> &str {
        &self.items[id].tag
    }

    pub(super) fn attr(&self, id: usize, name: &str) -> Option<&str> {
        self.items[id]
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn class_id(&self, id: usize) -> String {
        let c = self.attr(id, "class").unwrap_or("");
        let i = self.attr(id, "id").unwrap_or("");
        format!("{c} {i}")
    }

    /// Preorder of the live subtree under `root` (including it).
    pub(super) fn preorder(&self, root: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            out.push(id);
            stack.extend(self.items[id].children.iter().rev().copied());
        }
        out
    }

    pub(super) fn compute_stats(&mut self) {
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
    pub(super) fn finish_stats(&mut self, id: usize) {
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
        if is_textish(tag) {
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

    pub(super) fn link_density(&self, id: usize) -> f64 {
        let s = &self.stats[id];
        if s.text == 0 {
            0.0
        } else {
            s.link / s.text as f64
        }
    }

    /// Detaches `id` from its parent, keeping ancestor stats exact.
    pub(super) fn detach(&mut self, id: usize) {
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
    pub(super) fn append(&mut self, parent: usize, id: usize) {
        self.items[id].parent = parent;
        self.items[parent].children.push(id);
        let s = self.stats[id].clone();
        let mut a = parent;
        while a != NONE {
            self.stats[a].add(&s);
            a = self.items[a].parent;
        }
    }

    pub(super) fn has_ancestor(&self, id: usize, tag: &str, max_depth: usize) -> Option<usize> {
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

    pub(super) fn inner_text(&self, id: usize) -> String {
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

    pub(super) fn is_phrasing(&self, id: usize) -> bool {
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

    pub(super) fn is_whitespace(&self, id: usize) -> bool {
        let item = &self.items[id];
        (item.tag == TEXT && item.text.trim().is_empty()) || item.tag == "br"
    }
}
