//! PDF export: A4 pages, text laid out line by line with an installed font embedded as a subset
//! (krilla subsets and embeds it, so the PDF shows Chinese on machines without the font).
//!
//! Fonts: `PRECIS_PDF_FONT` if set, else a CJK font from the usual system locations when the
//! text needs one (Noto Sans CJK, Source Han Sans, WenQuanYi, Droid Sans Fallback, Microsoft
//! YaHei, PingFang…), else a Latin font (DejaVu Sans, Noto Sans, Liberation Sans, Arial).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};

use super::Block;
use precis_core::{Error, Result};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 64.0;

/// An installed font chosen for the export: its bytes and the face index inside a collection.
struct ChosenFont {
    data: Arc<Vec<u8>>,
    index: u32,
}

fn needs_cjk(text: &str) -> bool {
    text.chars().any(is_wide)
}

/// Characters set one per "word" when breaking lines (Han, kana, Hangul, full-width forms).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x303F | 0x3040..=0x30FF | 0x3100..=0x31FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF
        | 0x20000..=0x2FA1F)
}

/// Punctuation that must not start a line (kept with the character before it).
fn no_break_before(c: char) -> bool {
    "，。、；：！？）」』】》〉”’…,.;:!?)]}%".contains(c)
}

const CJK_FILES: &[&str] = &[
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansSC-Regular.otf",
    "NotoSansSC-Regular.ttf",
    "SourceHanSans-Regular.ttc",
    "SourceHanSansSC-Regular.otf",
    "NotoSerifCJK-Regular.ttc",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "DroidSansFallbackFull.ttf",
    "msyh.ttc",
    "msyh.ttf",
    "simsun.ttc",
    "PingFang.ttc",
    "Hiragino Sans GB.ttc",
    "STHeiti Light.ttc",
];

const LATIN_FILES: &[&str] = &[
    "DejaVuSans.ttf",
    "NotoSans-Regular.ttf",
    "LiberationSans-Regular.ttf",
    "Arial.ttf",
    "arial.ttf",
    "Helvetica.ttc",
];

fn font_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/share/fonts"),
        PathBuf::from("/usr/local/share/fonts"),
        PathBuf::from("/Library/Fonts"),
        PathBuf::from("/System/Library/Fonts"),
    ];
    if let Some(home) = dirs::home_dir() {
        dirs.push(home.join(".local/share/fonts"));
        dirs.push(home.join(".fonts"));
        dirs.push(home.join("Library/Fonts"));
    }
    if let Some(win) = std::env::var_os("WINDIR") {
        dirs.push(PathBuf::from(win).join("Fonts"));
    }
    dirs
}

/// Font files under `dir`, a few levels deep (font trees are shallow).
fn font_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if depth > 0 {
                font_files(&p, depth - 1, out);
            }
        } else if matches!(
            p.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("ttf" | "otf" | "ttc")
        ) {
            out.push(p);
        }
    }
}

/// The face in a font file that fits `lang` best: in a CJK collection the regional face
/// (SC, TC, JP, KR), otherwise the first face that has a glyph for `probe`.
fn pick_face(data: &[u8], lang: &str, probe: char) -> Option<u32> {
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    let l = lang.to_ascii_lowercase();
    let region = if l.starts_with("zh-hant") || l == "zh-tw" || l == "zh-hk" {
        "TC"
    } else if l.starts_with("ja") {
        "JP"
    } else if l.starts_with("ko") {
        "KR"
    } else {
        "SC"
    };
    let mut first_covering = None;
    for i in 0..count {
        let Ok(face) = ttf_parser::Face::parse(data, i) else {
            continue;
        };
        if face.glyph_index(probe).is_none() {
            continue;
        }
        first_covering.get_or_insert(i);
        let family_matches = face.names().into_iter().any(|n| {
            n.name_id == ttf_parser::name_id::FAMILY
                && n.to_string()
                    .is_some_and(|f| f.ends_with(&format!(" {region}")))
        });
        if family_matches {
            return Some(i);
        }
    }
    first_covering
}

fn load(path: &Path, lang: &str, probe: char) -> Option<ChosenFont> {
    let data = std::fs::read(path).ok()?;
    let index = pick_face(&data, lang, probe)?;
    Some(ChosenFont {
        data: Arc::new(data),
        index,
    })
}

fn find_font(lang: &str, cjk: bool) -> Result<ChosenFont> {
    let probe = if cjk { '中' } else { 'a' };
    if let Some(p) = std::env::var_os("PRECIS_PDF_FONT") {
        return load(Path::new(&p), lang, probe).ok_or_else(|| Error::FontMissing {
            language: format!(
                "{lang} (PRECIS_PDF_FONT={} is not a readable font with those characters)",
                Path::new(&p).display()
            ),
        });
    }
    let mut files = Vec::new();
    for d in font_dirs() {
        font_files(&d, 4, &mut files);
    }
    let wanted: &[&str] = if cjk { CJK_FILES } else { LATIN_FILES };
    for name in wanted {
        if let Some(f) = files
            .iter()
            .filter(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))
            .find_map(|p| load(p, lang, probe))
        {
            return Ok(f);
        }
    }
    // Latin text can also use a CJK font (they carry Latin letters).
    if !cjk {
        if let Ok(f) = find_font(lang, true) {
            return Ok(f);
        }
    }
    Err(Error::FontMissing {
        language: if cjk {
            format!("Chinese/Japanese/Korean ({lang})")
        } else {
            "Latin".into()
        },
    })
}

/// Measures text with the font's advance widths (no kerning: line breaks only need to be safe).
struct Measure<'a> {
    face: ttf_parser::Face<'a>,
    units_per_em: f32,
}

impl Measure<'_> {
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map(f32::from)
                    .unwrap_or(self.units_per_em / 2.0)
            })
            .sum::<f32>()
            * size
            / self.units_per_em
    }
}

/// Splits text into break units: words, single spaces, and single wide characters with any
/// closing punctuation that follows them.
fn segments(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if out.last().map(String::as_str) != Some(" ") {
                out.push(" ".into());
            }
        } else if no_break_before(c) && word.is_empty() && out.last().is_some_and(|s| s != " ") {
            if let Some(last) = out.last_mut() {
                last.push(c);
            }
        } else if is_wide(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Greedy line breaking to `max` points; a unit longer than a line is cut by characters.
fn wrap(text: &str, size: f32, max: f32, m: &Measure) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    for seg in segments(text) {
        if seg == " " {
            if !line.is_empty() {
                line.push(' ');
                width += m.width(" ", size);
            }
            continue;
        }
        let w = m.width(&seg, size);
        if width + w > max && !line.trim_end().is_empty() {
            lines.push(line.trim_end().to_string());
            line.clear();
            width = 0.0;
        }
        if w > max {
            for c in seg.chars() {
                let cw = m.width(&c.to_string(), size);
                if width + cw > max && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    width = 0.0;
                }
                line.push(c);
                width += cw;
            }
        } else {
            line.push_str(&seg);
            width += w;
        }
    }
    if !line.trim_end().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

struct Style {
    size: f32,
    color: (u8, u8, u8),
    indent: f32,
    space_after: f32,
}

fn style(b: &Block) -> Style {
    let s = |size, color, indent, space_after| Style {
        size,
        color,
        indent,
        space_after,
    };
    match b {
        Block::Title { .. } => s(20.0, (0, 0, 0), 0.0, 8.0),
        Block::Subtitle { .. } => s(12.5, (60, 60, 60), 0.0, 8.0),
        Block::Meta { .. } => s(9.5, (80, 80, 80), 0.0, 2.0),
        Block::Heading { .. } => s(14.5, (0, 0, 0), 0.0, 6.0),
        Block::Subheading { .. } => s(13.0, (0, 0, 0), 0.0, 6.0),
        Block::Paragraph { .. } => s(11.0, (0, 0, 0), 0.0, 9.0),
        Block::Source { .. } => s(9.5, (110, 110, 110), 10.0, 3.0),
        Block::Warning { .. } => s(9.5, (170, 102, 0), 0.0, 8.0),
        Block::Remark { .. } => s(9.5, (100, 100, 100), 0.0, 8.0),
        Block::Point { bullet: true, .. } => s(11.0, (0, 0, 0), 12.0, 6.0),
        Block::Point { bullet: false, .. } => s(11.0, (0, 0, 0), 0.0, 9.0),
        Block::Note { .. } => s(9.5, (110, 110, 110), 10.0, 3.0),
    }
}

pub(crate) fn block_lines(b: &Block) -> Vec<String> {
    match b {
        Block::Meta { rows } => rows.iter().map(|(k, v)| format!("{k}: {v}")).collect(),
        Block::Warning { text: w } => vec![format!("⚠ {w}")],
        Block::Remark { text } => vec![format!("✎ {text}")],
        Block::Point {
            text,
            bullet,
            notes,
            ..
        } => {
            let bullet = if *bullet { "• " } else { "" };
            vec![format!("{bullet}{text}{}", super::note_marks(notes))]
        }
        Block::Note {
            number, id, text, ..
        } => vec![format!("[{number}] {text} ({id})")],
        Block::Title { text: t, .. }
        | Block::Subtitle { text: t, .. }
        | Block::Heading { text: t, .. }
        | Block::Subheading { text: t, .. }
        | Block::Paragraph { text: t, .. }
        | Block::Source { text: t, .. } => vec![t.clone()],
    }
}

pub(super) fn render(blocks: &[Block], lang: &str) -> Result<Vec<u8>> {
    let all_text: String = blocks.iter().flat_map(block_lines).collect();
    let chosen = find_font(lang, needs_cjk(&all_text))?;
    let face = ttf_parser::Face::parse(&chosen.data, chosen.index)
        .map_err(|e| Error::Export(format!("PDF font: {e}")))?;
    let measure = Measure {
        units_per_em: f32::from(face.units_per_em()),
        face,
    };
    let font = Font::new(chosen.data.clone().into(), chosen.index)
        .ok_or_else(|| Error::Export("PDF: the font could not be loaded".into()))?;

    // Lay out first (pages of positioned lines), then draw: keeps krilla's borrows simple.
    struct Line {
        x: f32,
        y: f32,
        size: f32,
        color: (u8, u8, u8),
        text: String,
    }
    let mut pages: Vec<Vec<Line>> = vec![Vec::new()];
    let mut y = MARGIN;
    let bottom = PAGE_H - MARGIN;
    for b in blocks {
        let st = style(b);
        if matches!(b, Block::Heading { .. }) && y > MARGIN {
            y += 8.0;
        }
        let leading = st.size
            * if needs_cjk(&block_lines(b).concat()) {
                1.75
            } else {
                1.45
            };
        for text in block_lines(b) {
            for line in wrap(&text, st.size, PAGE_W - 2.0 * MARGIN - st.indent, &measure) {
                if y + leading > bottom {
                    pages.push(Vec::new());
                    y = MARGIN;
                }
                y += leading;
                pages.last_mut().expect("at least one page").push(Line {
                    x: MARGIN + st.indent,
                    y,
                    size: st.size,
                    color: st.color,
                    text: line,
                });
            }
        }
        y += st.space_after;
    }

    let mut doc = krilla::Document::new();
    let title = blocks.iter().find_map(|b| match b {
        Block::Title { text: t, .. } => Some(t.clone()),
        _ => None,
    });
    let mut meta = Metadata::new()
        .creator("Précis".into())
        .language(lang.to_string());
    if let Some(t) = title {
        meta = meta.title(t);
    }
    doc.set_metadata(meta);
    let page_count = pages.len();
    for (n, lines) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| Error::Export("PDF: bad page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut draw = |x: f32, y: f32, size: f32, color: (u8, u8, u8), text: &str| {
            surface.set_fill(Some(Fill {
                paint: rgb::Color::new(color.0, color.1, color.2).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            surface.draw_text(
                Point::from_xy(x, y),
                font.clone(),
                size,
                text,
                false,
                TextDirection::Auto,
            );
        };
        for l in &lines {
            draw(l.x, l.y, l.size, l.color, &l.text);
        }
        if page_count > 1 {
            let label = format!("{} / {page_count}", n + 1);
            let x = (PAGE_W - measure.width(&label, 8.5)) / 2.0;
            draw(x, PAGE_H - MARGIN / 2.0, 8.5, (120, 120, 120), &label);
        }
        surface.finish();
        page.finish();
    }
    doc.finish()
        .map_err(|e| Error::Export(format!("PDF: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::super::{render as export, tests::sample, ExportFormat, ExportOptions};
    use super::*;

    #[test]
    fn line_breaking_keeps_words_and_punctuation_together() {
        assert_eq!(
            segments("Hello  big world"),
            ["Hello", " ", "big", " ", "world"]
        );
        assert_eq!(
            segments("美国，俄罗斯。"),
            ["美", "国，", "俄", "罗", "斯。"]
        );
        assert_eq!(segments("4500万美元"), ["4500", "万", "美", "元"]);
    }

    /// pdftotext (poppler-utils) reads the PDF back; required where PRECIS_REQUIRE_TOOLS=1 (CI).
    fn pdftotext(pdf: &Path) -> Option<String> {
        match std::process::Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(pdf)
            .arg("-")
            .output()
        {
            Ok(out) if out.status.success() => Some(String::from_utf8(out.stdout).unwrap()),
            Ok(out) => panic!("pdftotext failed: {}", String::from_utf8_lossy(&out.stderr)),
            Err(_) if std::env::var_os("PRECIS_REQUIRE_TOOLS").is_some() => {
                panic!("pdftotext is required (apt install poppler-utils)")
            }
            Err(_) => None,
        }
    }

    #[test]
    fn pdf_embeds_a_font_and_reads_back_with_chinese() {
        let opts = ExportOptions {
            include_translation: true,
            processed_at: Some("2026-11-25T10:00:00.000Z".into()),
        };
        let bytes = match export(&sample(), ExportFormat::Pdf, &opts) {
            Err(Error::FontMissing { .. })
                if std::env::var_os("PRECIS_REQUIRE_TOOLS").is_none() =>
            {
                eprintln!("skipped: no CJK font installed (apt install fonts-noto-cjk)");
                return;
            }
            r => r.unwrap(),
        };
        assert!(bytes.starts_with(b"%PDF-"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.pdf");
        std::fs::write(&path, &bytes).unwrap();
        let Some(text) = pdftotext(&path) else {
            eprintln!("skipped the read-back: pdftotext is not installed");
            return;
        };
        let flat: String = text.split_whitespace().collect();
        for needle in [
            "US,Russiatussleover",
            "Source:syria.txt",
            "美俄就叙利亚停火进行角力。",
            "价值4500万美元的援助正在日内瓦等待批准。",
            "Aidworth$45millioniswaitinginGeneva<for>approval&more.",
        ] {
            assert!(flat.contains(needle), "missing {needle:?} in {text}");
        }
        // Subsetted: the PDF is far smaller than the CJK font file.
        assert!(bytes.len() < 400_000, "{} bytes", bytes.len());
    }

    #[test]
    fn long_text_flows_onto_numbered_pages() {
        let mut o = sample();
        let t = o.translation.as_mut().unwrap();
        let p = t.paragraphs[0].clone();
        t.paragraphs = (0..80).map(|_| p.clone()).collect();
        let opts = ExportOptions {
            include_translation: true,
            processed_at: None,
        };
        let bytes = match export(&o, ExportFormat::Pdf, &opts) {
            Err(Error::FontMissing { .. })
                if std::env::var_os("PRECIS_REQUIRE_TOOLS").is_none() =>
            {
                return
            }
            r => r.unwrap(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.pdf");
        std::fs::write(&path, &bytes).unwrap();
        if let Some(text) = pdftotext(&path) {
            let pages = text.matches('\u{c}').count();
            assert!(pages >= 3, "{pages} pages");
            // A paragraph cut by a page break has the page label inside it; all others are whole.
            let flat: String = text.split_whitespace().collect();
            assert!(flat.contains(&format!("2/{pages}")), "{text}");
            let whole = flat
                .matches("美国和俄罗斯周五就停止叙利亚战斗的计划展开角力。")
                .count();
            assert!(
                (80 - pages..=80).contains(&whole),
                "{whole} whole paragraphs"
            );
        }
    }
}
