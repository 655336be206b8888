//! A guard run before parsing: html5ever is quadratic on absurd nesting, so tags nested deeper
//! than [`MAX_SOURCE_DEPTH`] are dropped from the source first.

use std::borrow::Cow;

/// Pre-parse nesting cap (html5ever is quadratic on absurd nesting).
const MAX_SOURCE_DEPTH: usize = 2048;

/// Drops start/end tags nested deeper than [`MAX_SOURCE_DEPTH`] (approximate
/// tag scan; implicitly closed and void elements are not counted). Text is kept.
pub(super) fn limit_nesting(source: &str) -> Cow<'_, str> {
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
