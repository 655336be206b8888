//! RTF reader: a small tokenizer of our own (control words, groups, `\'hh` bytes in the
//! document or font code page, `\uN` with `\ucN` fallback skipping, `\binN`), keeping body
//! text and the `\info` title, author and creation date. Destinations that hold no body text
//! (font/colour/style tables, pictures, objects, headers/footers, footnotes, field
//! instructions, and every `\*` destination) are skipped. Group state lives on an explicit
//! stack, so nesting depth costs memory linearly and never recursion; past
//! [`MAX_TRACKED_DEPTH`] groups share their parent's state.

use encoding_rs::Encoding;

use super::plain::{collapse_whitespace, letters_and_digits};
use super::raw::RawDocument;

/// Group depth up to which each group gets its own formatting state.
const MAX_TRACKED_DEPTH: usize = 4_096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    /// Body text.
    Body,
    /// Skipped (tables, pictures, `\*` destinations …).
    Skip,
    /// `\info` group: only its title/author/date children are read.
    Info,
    Title,
    Author,
    /// Inside `\fonttbl`: reads `\fN` and `\fcharsetN` to map fonts to code pages.
    FontTable,
}

#[derive(Debug, Clone, Copy)]
struct State {
    dest: Dest,
    /// `\ucN`: fallback characters that follow each `\uN`.
    uc: usize,
    /// Code page of the current font, if it declares a charset.
    font_encoding: Option<&'static Encoding>,
}

/// Parses RTF bytes; returns the document and the name of the code page used.
pub(crate) fn parse_rtf(bytes: &[u8]) -> (RawDocument, &'static str) {
    let mut p = Parser::new(bytes);
    p.run();
    let encoding = p.encoding.name();
    (p.finish(), encoding)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    stack: Vec<State>,
    /// Depth beyond the tracked stack.
    untracked: usize,
    state: State,
    encoding: &'static Encoding,
    /// `\fN` → code page, from the font table.
    fonts: Vec<(i64, &'static Encoding)>,
    table_font: Option<i64>,
    /// Fallback characters still to skip after a `\uN`.
    skip: usize,
    /// Undecoded `\'hh` / high bytes, decoded together (multi-byte code pages).
    pending: Vec<u8>,
    high_surrogate: Option<u16>,
    paragraph: String,
    paragraphs: Vec<String>,
    title: String,
    author: String,
    date: (Option<i64>, Option<i64>, Option<i64>),
    in_creatim: bool,
}

impl<'a> Parser<'a> {
    fn new(src: &'a [u8]) -> Self {
        let encoding = encoding_rs::WINDOWS_1252;
        Parser {
            src,
            pos: 0,
            stack: Vec::new(),
            untracked: 0,
            state: State {
                dest: Dest::Body,
                uc: 1,
                font_encoding: None,
            },
            encoding,
            fonts: Vec::new(),
            table_font: None,
            skip: 0,
            pending: Vec::new(),
            high_surrogate: None,
            paragraph: String::new(),
            paragraphs: Vec::new(),
            title: String::new(),
            author: String::new(),
            date: (None, None, None),
            in_creatim: false,
        }
    }

    fn run(&mut self) {
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            self.pos += 1;
            match b {
                b'{' => self.open_group(),
                b'}' => self.close_group(),
                b'\\' => self.control(),
                b'\r' | b'\n' => {}
                _ => self.text_byte(b),
            }
        }
        self.flush_pending();
        self.end_paragraph();
    }

    fn open_group(&mut self) {
        self.flush_pending();
        self.skip = 0;
        if self.stack.len() < MAX_TRACKED_DEPTH {
            self.stack.push(self.state);
        } else {
            self.untracked += 1;
        }
    }

    fn close_group(&mut self) {
        self.flush_pending();
        self.skip = 0;
        if self.untracked > 0 {
            self.untracked -= 1;
        } else if let Some(state) = self.stack.pop() {
            if self.state.dest == Dest::FontTable && state.dest != Dest::FontTable {
                self.table_font = None;
            }
            if self.state.dest == Dest::Info {
                self.in_creatim = false;
            }
            self.state = state;
        }
    }

    fn control(&mut self) {
        let Some(&c) = self.src.get(self.pos) else {
            return;
        };
        if !c.is_ascii_alphabetic() {
            self.pos += 1;
            match c {
                b'\'' => {
                    let hex = self.src.get(self.pos..self.pos + 2);
                    let byte = hex
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    if let Some(byte) = byte {
                        self.pos += 2;
                        if self.skip > 0 {
                            self.skip -= 1;
                        } else if self.wants_text() {
                            self.pending.push(byte);
                        }
                    }
                }
                b'*' => self.state.dest = Dest::Skip,
                b'~' => self.push_char('\u{A0}'),
                b'_' => self.push_char('\u{2011}'),
                b'-' => {} // optional hyphen
                b'\r' | b'\n' => self.paragraph_break(),
                b'\\' | b'{' | b'}' => self.text_byte(c),
                _ => {}
            }
            return;
        }
        let start = self.pos;
        while self.pos < self.src.len()
            && self.src[self.pos].is_ascii_alphabetic()
            && self.pos - start < 32
        {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        let num_start = self.pos;
        if self.src.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        while self.pos < self.src.len()
            && self.src[self.pos].is_ascii_digit()
            && self.pos - num_start < 11
        {
            self.pos += 1;
        }
        let param = std::str::from_utf8(&self.src[num_start..self.pos])
            .ok()
            .and_then(|s| s.parse::<i64>().ok());
        if self.src.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        self.control_word(word, param);
    }

    fn wants_text(&self) -> bool {
        matches!(self.state.dest, Dest::Body | Dest::Title | Dest::Author)
    }

    fn control_word(&mut self, word: &[u8], param: Option<i64>) {
        match word {
            b"bin" => {
                // Raw binary data: skip it whatever it holds (a huge N just ends the file).
                let n = usize::try_from(param.unwrap_or(0).max(0)).unwrap_or(usize::MAX);
                self.pos = self.pos.saturating_add(n).min(self.src.len());
            }
            b"u" => {
                if let Some(n) = param {
                    let unit = (n.rem_euclid(65_536)) as u16;
                    self.push_utf16(unit);
                    self.skip = self.state.uc;
                }
            }
            b"uc" => self.state.uc = usize::try_from(param.unwrap_or(1).clamp(0, 16)).unwrap_or(1),
            b"ansicpg" => {
                if let Some(enc) = param.and_then(code_page) {
                    self.encoding = enc;
                }
            }
            b"mac" => self.encoding = encoding_rs::MACINTOSH,
            b"fonttbl" => self.state.dest = Dest::FontTable,
            b"f" if self.state.dest == Dest::FontTable => self.table_font = param,
            b"fcharset" if self.state.dest == Dest::FontTable => {
                if let (Some(font), Some(enc)) = (self.table_font, param.and_then(charset)) {
                    self.fonts.push((font, enc));
                }
            }
            b"f" => {
                self.flush_pending();
                self.state.font_encoding = param.and_then(|f| {
                    self.fonts
                        .iter()
                        .rev()
                        .find(|(n, _)| *n == f)
                        .map(|(_, e)| *e)
                });
            }
            b"info" => self.state.dest = Dest::Info,
            b"title" if self.state.dest == Dest::Info => self.state.dest = Dest::Title,
            b"author" if self.state.dest == Dest::Info => self.state.dest = Dest::Author,
            b"creatim" if self.state.dest == Dest::Info => self.in_creatim = true,
            b"yr" if self.in_creatim => self.date.0 = param,
            b"mo" if self.in_creatim => self.date.1 = param,
            b"dy" if self.in_creatim => self.date.2 = param,
            b"colortbl"
            | b"stylesheet"
            | b"listtable"
            | b"listoverridetable"
            | b"revtbl"
            | b"rsidtbl"
            | b"generator"
            | b"pict"
            | b"object"
            | b"header"
            | b"headerl"
            | b"headerr"
            | b"headerf"
            | b"footer"
            | b"footerl"
            | b"footerr"
            | b"footerf"
            | b"footnote"
            | b"fldinst"
            | b"xmlnstbl"
            | b"themedata"
            | b"colorschememapping"
            | b"datastore"
            | b"latentstyles"
            | b"pgdsctbl"
            | b"mmathPr"
            | b"nonshppict"
            | b"shpinst"
            | b"filetbl"
            | b"private"
            | b"operator"
            | b"comment"
            | b"doccomm"
            | b"company"
            | b"keywords"
            | b"subject"
            | b"category"
            | b"manager"
            | b"hlinkbase"
            | b"atnid"
            | b"atnauthor"
            | b"annotation"
            | b"template"
            | b"listtext"
            | b"pntext"
            | b"pntxta"
            | b"pntxtb"
            | b"txe"
            | b"xe"
            | b"tc"
            | b"bkmkstart"
            | b"bkmkend"
            | b"userprops"
            | b"objdata"
            | b"blipuid" => {
                self.state.dest = Dest::Skip;
            }
            b"par" | b"sect" | b"page" | b"row" => self.paragraph_break(),
            b"line" | b"tab" | b"cell" | b"emspace" | b"enspace" | b"qmspace" => {
                self.push_char(' ')
            }
            b"emdash" => self.push_char('—'),
            b"endash" => self.push_char('–'),
            b"bullet" => self.push_char('•'),
            b"lquote" => self.push_char('‘'),
            b"rquote" => self.push_char('’'),
            b"ldblquote" => self.push_char('“'),
            b"rdblquote" => self.push_char('”'),
            _ => {}
        }
    }

    fn text_byte(&mut self, b: u8) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        if !self.wants_text() {
            return;
        }
        if b < 0x80 {
            self.flush_pending();
            self.push_char(char::from(b));
        } else {
            self.pending.push(b);
        }
    }

    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let enc = self.state.font_encoding.unwrap_or(self.encoding);
        let (text, _, _) = enc.decode(&self.pending);
        let text = text.into_owned();
        self.pending.clear();
        for c in text.chars() {
            self.push_char(c);
        }
    }

    fn push_utf16(&mut self, unit: u16) {
        self.flush_pending();
        if (0xD800..0xDC00).contains(&unit) {
            self.high_surrogate = Some(unit);
            return;
        }
        let units: Vec<u16> = match self.high_surrogate.take() {
            Some(high) if (0xDC00..0xE000).contains(&unit) => vec![high, unit],
            _ => vec![unit],
        };
        for c in char::decode_utf16(units) {
            self.push_char(c.unwrap_or('\u{FFFD}'));
        }
    }

    fn push_char(&mut self, c: char) {
        if !self.pending.is_empty() {
            self.flush_pending();
        }
        if c == '\0' {
            return;
        }
        let c = if c.is_control() { ' ' } else { c };
        match self.state.dest {
            Dest::Body => self.paragraph.push(c),
            Dest::Title => self.title.push(c),
            Dest::Author => self.author.push(c),
            _ => {}
        }
    }

    fn paragraph_break(&mut self) {
        self.flush_pending();
        if self.state.dest == Dest::Body {
            self.end_paragraph();
        }
    }

    fn end_paragraph(&mut self) {
        let text = collapse_whitespace(&self.paragraph);
        self.paragraph.clear();
        if !text.is_empty() {
            self.paragraphs.push(text);
        }
    }

    fn finish(self) -> RawDocument {
        let meta_title = collapse_whitespace(&self.title);
        let mut paragraphs = self.paragraphs;
        let title = if !meta_title.is_empty() {
            if paragraphs
                .first()
                .is_some_and(|p| same_text(p, &meta_title))
            {
                paragraphs.remove(0);
            }
            meta_title
        } else if paragraphs.len() > 1 && headline_like(&paragraphs[0]) {
            paragraphs.remove(0)
        } else {
            String::new()
        };
        let author = collapse_whitespace(&self.author);
        let published = match self.date {
            (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d) => {
                Some(format!("{y:04}-{m:02}-{d:02}"))
            }
            (Some(y), _, _) if (1000..=9999).contains(&y) => Some(y.to_string()),
            _ => None,
        };
        RawDocument {
            title,
            paragraphs,
            byline: (!author.is_empty()).then_some(author),
            published,
            ..RawDocument::default()
        }
    }
}

fn same_text(a: &str, b: &str) -> bool {
    letters_and_digits(a) == letters_and_digits(b)
}

/// A short first paragraph without final punctuation reads as a headline.
fn headline_like(p: &str) -> bool {
    p.split_whitespace().count() <= 20 && !p.trim_end().ends_with(['.', ',', ';', ':'])
}

/// Windows code page number → encoding.
fn code_page(cp: i64) -> Option<&'static Encoding> {
    let label = match cp {
        437 | 850 | 1252 => "windows-1252",
        874 => "windows-874",
        932 => "shift_jis",
        936 => "gbk",
        949 => "euc-kr",
        950 => "big5",
        1250..=1258 => return Encoding::for_label(format!("windows-{cp}").as_bytes()),
        10000 => "macintosh",
        65001 => "utf-8",
        _ => return None,
    };
    Encoding::for_label(label.as_bytes())
}

/// `\fcharsetN` → encoding.
fn charset(n: i64) -> Option<&'static Encoding> {
    let cp = match n {
        0 => 1252,
        128 => 932,
        129 => 949,
        134 => 936,
        136 => 950,
        161 => 1253,
        162 => 1254,
        163 => 1258,
        177 => 1255,
        178 => 1256,
        186 => 1257,
        204 => 1251,
        222 => 874,
        238 => 1250,
        _ => return None,
    };
    code_page(cp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(rtf: &str) -> RawDocument {
        parse_rtf(rtf.as_bytes()).0
    }

    #[test]
    fn text_escapes_and_destinations() {
        let doc = body(
            r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}{\colortbl;\red1;}{\*\generator X;}
{\info{\title The caf\'e9 story}{\author Ann}{\creatim\yr2024\mo3\dy9}}
\pard The caf\'e9 story\par
\pard Z\u252?rich and \uc2\u8220\'93\'93quoted\u8221??.{\footnote skip me}\par
{\pict\wmetafile8 0102ff}\pard Tab\tab end\line next\par}",
        );
        assert_eq!(doc.title, "The café story");
        assert_eq!(doc.byline.as_deref(), Some("Ann"));
        assert_eq!(doc.published.as_deref(), Some("2024-03-09"));
        assert_eq!(doc.paragraphs, ["Zürich and “quoted”.", "Tab end next"]);
    }

    #[test]
    fn font_charset_and_surrogates() {
        let doc = body(
            "{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\fcharset0 Arial;}{\\f1\\fcharset134 SimSun;}}\
             \\f1 \\'d6\\'d0\\'ce\\'c4\\f0  text \\u-10179?\\u-8704? end\\par}",
        );
        assert_eq!(doc.paragraphs, ["中文 text 😀 end"]);
    }

    #[test]
    fn hostile_input_is_bounded() {
        let deep = format!(
            "{{\\rtf1 {}x{}\\par}}",
            "{".repeat(200_000),
            "}".repeat(200_000)
        );
        assert_eq!(body(&deep).paragraphs, ["x"]);
        let bin = body("{\\rtf1 before\\bin99999999999999999999 after}");
        assert_eq!(bin.paragraphs, ["before"]);
        let unbalanced = body("}}}{\\rtf1 text \\'zz \\u \\ucX\\");
        assert_eq!(unbalanced.paragraphs, ["text zz"]);
    }
}
