//! Finding the article: unlikely nodes pruned, paragraphs scored into their ancestors, the best
//! candidate (and the siblings that belong with it) moved into a new content node, which is
//! then cleaned (see `clean`).

use scraper::Html;

use super::arena::{is_p, Arena, Stats, DIV_P, MAX_DEPTH, NONE, TEXT};
use super::clean::prep_article;
use super::is_match;
use super::meta::text_similarity;

/// Number of top candidates compared when looking for a shared ancestor.
const N_TOP_CANDIDATES: usize = 5;

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
regex!(re_sentence_end, r"\.( |$)");

#[derive(Clone, Copy)]
pub(super) struct Flags {
    pub(super) strip_unlikely: bool,
    pub(super) weight_classes: bool,
    pub(super) clean_conditionally: bool,
}

pub(super) struct Grab {
    pub(super) arena: Arena,
    pub(super) content: usize,
    pub(super) byline: Option<String>,
    pub(super) text_len: usize,
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

/// One extraction pass over a fresh copy of the page (Readability's `_grabArticle`): prune,
/// score, pick the top candidate and its related siblings, clean.
pub(super) fn grab_article(page: &Html, title: &str, flags: Flags) -> Grab {
    let arena = Arena::from_html(page);
    let body = arena
        .preorder(0)
        .into_iter()
        .find(|&id| arena.tag(id) == "body")
        .unwrap_or(0);
    let mut pruning = Pruning {
        a: arena,
        body,
        title,
        flags,
        byline: None,
        header_removed: false,
        to_score: Vec::new(),
    };
    pruning.run();
    let Pruning {
        mut a,
        byline,
        to_score,
        ..
    } = pruning;

    let candidates = score_candidates(&mut a, &to_score, flags);
    let top = top_candidates(&a, &candidates);
    let content = a.new_node("div", NONE);
    match top.first().copied().filter(|&(c, _)| c != body) {
        None => {
            // Whole body.
            let kids = a.items[body].children.clone();
            for k in kids {
                a.detach(k);
                a.append(content, k);
            }
        }
        Some((tc, tscore)) => {
            let tc = shared_ancestor(&a, &top, tc, tscore, body);
            let tc = climb_while_parent_scores_better(&mut a, tc, body);
            let tc = climb_single_child_chain(&a, tc, body);
            gather_siblings(&mut a, tc, content);
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

/// The first walk of a pass: removes what cannot be content (keeping the byline it finds) and
/// collects the elements whose text is scored, turning `<div>`s of inline content into
/// paragraphs on the way.
struct Pruning<'t> {
    a: Arena,
    body: usize,
    title: &'t str,
    flags: Flags,
    byline: Option<String>,
    /// Only the first heading that repeats the title is removed.
    header_removed: bool,
    to_score: Vec<usize>,
}

impl Pruning<'_> {
    fn run(&mut self) {
        let mut stack = vec![self.body];
        while let Some(id) = stack.pop() {
            if self.a.items[id].parent == NONE && id != self.body {
                continue; // detached meanwhile
            }
            let tag = self.a.tag(id).to_owned();
            if tag == TEXT {
                continue;
            }
            if self.removes(id, &tag) {
                self.a.detach(id);
                continue;
            }
            let id = self.collect(id, &tag);
            stack.extend(self.a.items[id].children.iter().rev().copied());
        }
    }

    /// Whether `id` goes: the byline (kept aside), a heading repeating the title, page
    /// furniture, an unlikely candidate, a modal dialog or an empty container.
    fn removes(&mut self, id: usize, tag: &str) -> bool {
        let class_id = self.a.class_id(id);
        let match_string = class_id.trim();
        if self.byline.is_none() && id != self.body && self.take_byline(id, match_string) {
            return true;
        }
        if !self.header_removed && matches!(tag, "h1" | "h2") && !self.title.is_empty() {
            let text = self.a.inner_text(id);
            if text_similarity(self.title, &text) > 0.75 {
                self.header_removed = true;
                return true;
            }
        }
        if matches!(tag, "nav" | "aside" | "footer" | "header") && self.a.stats[id].p < 3 {
            return true;
        }
        if self.flags.strip_unlikely && id != self.body && self.is_unlikely(id, tag, match_string) {
            return true;
        }
        if self.a.attr(id, "aria-modal") == Some("true")
            && self.a.attr(id, "role") == Some("dialog")
        {
            return true;
        }
        self.is_empty_container(id, tag)
    }

    /// Keeps a short author element's text as the byline; `false` when `id` is not one.
    fn take_byline(&mut self, id: usize, match_string: &str) -> bool {
        let rel_author = self.a.attr(id, "rel") == Some("author");
        let itemprop_author = self
            .a
            .attr(id, "itemprop")
            .is_some_and(|p| p.contains("author"));
        if !(rel_author || itemprop_author || is_match(re_byline(), match_string)) {
            return false;
        }
        let text = self.a.inner_text(id);
        let n = text.chars().count();
        if n > 0 && n < 100 {
            self.byline = Some(text);
            return true;
        }
        false
    }

    /// A class, id or ARIA role of page furniture (comments, sidebars, menus …), outside
    /// tables and code.
    fn is_unlikely(&self, id: usize, tag: &str, match_string: &str) -> bool {
        let a = &self.a;
        let role = a.attr(id, "role").unwrap_or("");
        let unlikely = is_match(re_unlikely(), match_string)
            && !is_match(re_maybe(), match_string)
            && a.has_ancestor(id, "table", 64).is_none()
            && a.has_ancestor(id, "code", 64).is_none()
            && tag != "a"
            && tag != "body";
        unlikely || UNLIKELY_ROLES.contains(&role)
    }

    /// A container or heading with no text, holding at most line breaks and rules.
    fn is_empty_container(&self, id: usize, tag: &str) -> bool {
        let a = &self.a;
        matches!(
            tag,
            "div" | "section" | "header" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        ) && a.stats[id].text == 0
            && a.items[id]
                .children
                .iter()
                .all(|&c| matches!(a.tag(c), "br" | "hr" | TEXT))
    }

    /// Notes an element to score; a `<div>` is reshaped first. Returns the node whose
    /// children the walk continues with (a `<div>` may be replaced by its only paragraph).
    fn collect(&mut self, id: usize, tag: &str) -> usize {
        if matches!(
            tag,
            "section" | "h2" | "h3" | "h4" | "h5" | "h6" | "p" | "td" | "pre"
        ) {
            self.to_score.push(id);
        }
        if tag == "div" {
            return self.reshape_div(id);
        }
        id
    }

    /// A `<div>` with blocks gets its inline runs wrapped in paragraphs; one holding a single
    /// paragraph (few links) is replaced by it; one without blocks is scored as a paragraph.
    fn reshape_div(&mut self, id: usize) -> usize {
        self.wrap_phrasing_runs(id);
        let a = &mut self.a;
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
                    self.to_score.push(p);
                    return p;
                }
            }
        } else if a.stats[id].blocks <= 1 {
            a.items[id].tag = DIV_P.into();
            self.to_score.push(id);
        }
        id
    }

    /// Phrasing runs of a `<div>` that also holds blocks become paragraphs.
    fn wrap_phrasing_runs(&mut self, id: usize) {
        let a = &mut self.a;
        let children = a.items[id].children.clone();
        let has_block = a.stats[id].blocks > 1;
        if !(has_block && children.iter().any(|&c| a.is_phrasing(c))) {
            return;
        }
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
}

/// Gives each scored element's ancestors (up to five levels, less the further up) a share of
/// its score, then scales every candidate by `1 - link density`. Returns the candidates in
/// the order they were first scored.
fn score_candidates(a: &mut Arena, to_score: &[usize], flags: Flags) -> Vec<usize> {
    let mut candidates: Vec<usize> = Vec::new();
    for &el in to_score {
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
                a.score[anc] = Some(initial_score(a, anc, flags));
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
    candidates
}

/// A candidate's starting score: a bonus or malus for its tag, plus its class weight.
fn initial_score(a: &Arena, id: usize, flags: Flags) -> f64 {
    let base = match a.tag(id) {
        "div" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    let weight = if flags.weight_classes {
        a.class_weight(id)
    } else {
        0.0
    };
    base + weight
}

/// The best-scoring candidates, best first.
fn top_candidates(a: &Arena, candidates: &[usize]) -> Vec<(usize, f64)> {
    let mut top: Vec<(usize, f64)> = candidates
        .iter()
        .filter_map(|&c| a.score[c].map(|s| (c, s)))
        .collect();
    top.sort_by(|x, y| y.1.partial_cmp(&x.1).unwrap_or(std::cmp::Ordering::Equal));
    top.truncate(N_TOP_CANDIDATES);
    top
}

/// When at least three other top candidates score close to the best one, their nearest
/// ancestor shared by three of them (between `tc` and the body) is the article.
fn shared_ancestor(a: &Arena, top: &[(usize, f64)], tc: usize, tscore: f64, body: usize) -> usize {
    let alternatives: Vec<usize> = top[1..]
        .iter()
        .filter(|&&(_, s)| s / tscore >= 0.75)
        .map(|&(c, _)| c)
        .collect();
    if alternatives.len() < 3 {
        return tc;
    }
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
            return p;
        }
        p = a.items[p].parent;
    }
    tc
}

/// Moves up to a scored ancestor that beats the scores met on the way, stopping when
/// ancestors fall below a third of the candidate's score.
fn climb_while_parent_scores_better(a: &mut Arena, tc: usize, body: usize) -> usize {
    if a.score[tc].is_none() {
        a.score[tc] = Some(0.0);
    }
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
            return p;
        }
        last_score = ps;
        p = a.items[p].parent;
    }
    tc
}

/// Moves up while the candidate is its parent's only (non-blank) child.
fn climb_single_child_chain(a: &Arena, mut tc: usize, body: usize) -> usize {
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
    tc
}

/// Moves the top candidate and its related siblings (scoring well, sharing its class, or
/// paragraphs of prose with few links) into `content`, in page order.
fn gather_siblings(a: &mut Arena, tc: usize, content: usize) {
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
        let append =
            s == tc || (a.tag(s) != TEXT && is_related_sibling(a, s, &tc_class, tscore, threshold));
        if append {
            a.detach(s);
            a.append(content, s);
        }
    }
}

fn is_related_sibling(a: &Arena, s: usize, tc_class: &str, tscore: f64, threshold: f64) -> bool {
    let mut bonus = 0.0;
    if !tc_class.is_empty() && a.attr(s, "class") == Some(tc_class) {
        bonus += tscore * 0.2;
    }
    if a.score[s].is_some_and(|sc| sc + bonus >= threshold) {
        return true;
    }
    if !is_p(a.tag(s)) {
        return false;
    }
    let ld = a.link_density(s);
    let len = a.stats[s].text;
    if len > 80 && ld < 0.25 {
        true
    } else if len < 80 && len > 0 && ld == 0.0 {
        let text = a.inner_text(s);
        is_match(re_sentence_end(), &text)
    } else {
        false
    }
}

impl Arena {
    /// ±25 for a class or id that reads like content or like page furniture.
    pub(super) fn class_weight(&self, id: usize) -> f64 {
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

#[cfg(test)]
mod tests {
    use crate::html::extract_article;

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
}
