//! Blocks of text (paragraphs, headings, list items, table rows) collected while the DOCX, ODT
//! and EPUB XHTML readers walk their XML, and the article header and body assembled from them.

use super::raw::RawDocument;

/// What a block of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Para,
    Title,
    Subtitle,
    /// `level` 1 is the top level (`<h1>`, Heading 1).
    Heading {
        level: u8,
    },
    ListItem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub kind: Kind,
    pub text: String,
}

struct OpenPara {
    kind: Kind,
    text: String,
    /// Number of open tables when the paragraph started.
    tables: usize,
    implicit: bool,
}

#[derive(Default)]
struct OpenTable {
    row: Vec<String>,
    cell: Option<String>,
}

/// Turns a stream of paragraph / table / text calls into [`Block`]s.
#[derive(Default)]
pub(crate) struct Collector {
    pub blocks: Vec<Block>,
    paras: Vec<OpenPara>,
    tables: Vec<OpenTable>,
}

/// Collapses whitespace within lines, keeps line breaks and tabs, trims.
fn tidy(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let mut out = String::new();
        let mut pending_space = false;
        for c in line.chars() {
            if c == '\t' {
                out.push('\t');
                pending_space = false;
            } else if c.is_whitespace() && c != '\u{A0}' {
                pending_space = true;
            } else {
                if pending_space && !out.is_empty() && !out.ends_with('\t') {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
        let out = out.trim_matches(|c: char| c.is_whitespace()).to_owned();
        if !out.is_empty() {
            lines.push(out);
        }
    }
    lines.join("\n")
}

impl Collector {
    /// Whether a paragraph is open at the current table depth.
    pub fn in_para(&self) -> bool {
        self.paras
            .last()
            .is_some_and(|p| p.tables == self.tables.len())
    }

    pub fn start_para(&mut self, kind: Kind) {
        self.close_implicit();
        self.paras.push(OpenPara {
            kind,
            text: String::new(),
            tables: self.tables.len(),
            implicit: false,
        });
    }

    /// Changes the kind of the innermost open paragraph.
    pub fn set_kind(&mut self, kind: Kind) {
        if let Some(p) = self.paras.last_mut() {
            p.kind = kind;
        }
    }

    pub fn kind(&self) -> Option<Kind> {
        self.paras.last().map(|p| p.kind)
    }

    /// Emits the text gathered so far in the open paragraph and keeps it open
    /// (used for block elements nested in a paragraph, e.g. `<li><p>`).
    pub fn break_para(&mut self) {
        self.close_implicit();
        if !self.in_para() {
            return;
        }
        let Some(p) = self.paras.last_mut() else {
            return;
        };
        let text = std::mem::take(&mut p.text);
        let kind = p.kind;
        self.emit(kind, &text);
    }

    pub fn end_para(&mut self) {
        self.close_implicit();
        if let Some(p) = self.paras.pop() {
            self.emit(p.kind, &p.text);
        }
    }

    fn emit(&mut self, kind: Kind, text: &str) {
        let text = tidy(text);
        if text.is_empty() {
            return;
        }
        if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(&text.replace(['\n', '\t'], " "));
            return;
        }
        self.blocks.push(Block { kind, text });
    }

    /// Closes an implicit paragraph (loose text outside block elements).
    pub fn close_implicit(&mut self) {
        if self.paras.last().is_some_and(|p| p.implicit) {
            if let Some(p) = self.paras.pop() {
                self.emit(p.kind, &p.text);
            }
        }
    }

    /// Adds text to the open paragraph, else to the open table cell, else to
    /// an implicit paragraph when `loose` (XHTML), else drops it.
    pub fn text(&mut self, text: &str, loose: bool) {
        if self.in_para() {
            if let Some(p) = self.paras.last_mut() {
                p.text.push_str(text);
            }
            return;
        }
        if loose {
            if text.trim().is_empty() {
                if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    cell.push(' ');
                }
                return;
            }
            self.paras.push(OpenPara {
                kind: Kind::Para,
                text: text.to_owned(),
                tables: self.tables.len(),
                implicit: true,
            });
        }
    }

    pub fn start_table(&mut self) {
        self.close_implicit();
        self.tables.push(OpenTable::default());
    }

    pub fn end_table(&mut self) {
        self.close_implicit();
        self.end_row();
        // Paragraphs left open inside the table are closed with it.
        while self
            .paras
            .last()
            .is_some_and(|p| p.tables >= self.tables.len())
        {
            self.end_para();
        }
        self.tables.pop();
    }

    pub fn start_row(&mut self) {
        self.close_implicit();
        self.end_row();
    }

    pub fn end_row(&mut self) {
        self.close_implicit();
        self.end_cell();
        let Some(table) = self.tables.last_mut() else {
            return;
        };
        let cells: Vec<String> = std::mem::take(&mut table.row)
            .into_iter()
            .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|c| !c.is_empty())
            .collect();
        if cells.is_empty() {
            return;
        }
        let row = cells.join(" | ");
        let depth = self.tables.len();
        match self
            .tables
            .get_mut(depth.wrapping_sub(2))
            .and_then(|t| t.cell.as_mut())
        {
            // A nested table's rows go into the enclosing cell.
            Some(cell) if depth >= 2 => {
                if !cell.is_empty() {
                    cell.push(' ');
                }
                cell.push_str(&row);
            }
            _ => self.blocks.push(Block {
                kind: Kind::Para,
                text: row,
            }),
        }
    }

    pub fn start_cell(&mut self) {
        self.close_implicit();
        self.end_cell();
        if let Some(table) = self.tables.last_mut() {
            table.cell = Some(String::new());
        }
    }

    pub fn end_cell(&mut self) {
        self.close_implicit();
        // Paragraphs opened inside this table's cell are closed with it.
        while !self.tables.is_empty()
            && self
                .paras
                .last()
                .is_some_and(|p| p.tables == self.tables.len())
        {
            self.end_para();
        }
        if let Some(table) = self.tables.last_mut() {
            if let Some(cell) = table.cell.take() {
                table.row.push(cell);
            }
        }
    }

    /// Closes whatever is still open and returns the blocks.
    pub fn finish(mut self) -> Vec<Block> {
        while !self.tables.is_empty() {
            self.end_table();
        }
        while !self.paras.is_empty() {
            self.end_para();
        }
        self.blocks
    }
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Whether a paragraph is short enough to be a headline.
fn headline_like(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.chars().count() <= 150
        && word_count(t) <= 20
        && !t.contains('\n')
        && !t.ends_with(['.', ':', ';', ','])
}

/// Text a block contributes to the body.
pub(crate) fn block_text(block: &Block) -> String {
    match block.kind {
        Kind::ListItem => format!("• {}", block.text),
        _ => block.text.clone(),
    }
}

fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

/// Builds the header and body from blocks. `meta_title` (from document
/// metadata) wins; otherwise the first Title block, else the first level-1
/// heading, else the first paragraph if it is short.
pub(crate) fn assemble(mut blocks: Vec<Block>, meta_title: Option<String>) -> RawDocument {
    let meta_title = meta_title
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && !looks_like_file_name(t));
    let title_index = blocks
        .iter()
        .position(|b| b.kind == Kind::Title)
        .or_else(|| {
            blocks
                .iter()
                .position(|b| b.kind == Kind::Heading { level: 1 })
        });
    let title = match meta_title {
        Some(title) => {
            // Drop the in-body copy of the title.
            if let Some(i) = title_index.filter(|&i| same_text(&blocks[i].text, &title)) {
                blocks.remove(i);
            } else if blocks.first().is_some_and(|b| same_text(&b.text, &title)) {
                blocks.remove(0);
            }
            title
        }
        None => match title_index {
            Some(i) => blocks.remove(i).text,
            None if blocks.len() > 1
                && matches!(blocks[0].kind, Kind::Para | Kind::Heading { .. })
                && headline_like(&blocks[0].text) =>
            {
                blocks.remove(0).text
            }
            None => String::new(),
        },
    };
    let subtitle = blocks
        .iter()
        .position(|b| b.kind == Kind::Subtitle)
        .map(|i| blocks.remove(i).text);
    RawDocument {
        title: title.replace(['\n', '\t'], " "),
        subtitle,
        paragraphs: blocks.iter().map(block_text).collect(),
        ..RawDocument::default()
    }
}

fn looks_like_file_name(title: &str) -> bool {
    let lower = title.to_lowercase();
    [".doc", ".docx", ".odt", ".rtf", ".dot", ".dotx"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || lower.starts_with("microsoft word - ")
}
