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

pub(super) fn grab_article(page: &Html, title: &str, flags: Flags) -> Grab {
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
