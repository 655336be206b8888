//! The raw document every reader returns: the structure recovered from a source, before
//! sentence splitting, language detection and numbering turn it into a [`crate::Document`].

/// Structure recovered from a source, before sentence splitting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawDocument {
    pub title: String,
    pub subtitle: Option<String>,
    pub dateline: Option<String>,
    pub paragraphs: Vec<String>,
    /// Metadata the format carries, copied to [`crate::Document`].
    pub byline: Option<String>,
    pub published: Option<String>,
    pub site_name: Option<String>,
    /// Lines of a text page outside the article (see `text_page`).
    pub left_out: Vec<crate::LeftOut>,
}
