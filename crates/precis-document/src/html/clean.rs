//! Cleaning the chosen content: data tables marked (and kept), forms, share bars, ads,
//! link lists and other low-value blocks removed, as Readability's `_prepArticle` does.

use super::arena::{is_p, is_textish, Arena, MAX_DEPTH, NONE, TEXT};
use super::is_match;
use super::score::Flags;

regex!(re_share, r"(?i)(\b|_)(share|sharedaddy)(\b|_)");
regex!(
    re_ad_words,
    r"(?i)^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|广告|Реклама|Anuncio)$"
);
regex!(
    re_loading,
    r"(?i)^((loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$"
);

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
                if is_textish(a.tag(c)) {
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

pub(super) fn prep_article(a: &mut Arena, content: usize, flags: Flags) {
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
