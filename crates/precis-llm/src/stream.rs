//! Incremental detokenisation: turns generated token ids into text pieces as they arrive,
//! holding back bytes until they form complete UTF-8 characters.

use tokenizers::Tokenizer;

pub struct TokenStream<'t> {
    tokenizer: &'t Tokenizer,
    tokens: Vec<u32>,
    prev_index: usize,
    current_index: usize,
}

impl<'t> TokenStream<'t> {
    pub fn new(tokenizer: &'t Tokenizer) -> Self {
        Self {
            tokenizer,
            tokens: Vec::new(),
            prev_index: 0,
            current_index: 0,
        }
    }

    fn decode(&self, tokens: &[u32]) -> String {
        self.tokenizer.decode(tokens, true).unwrap_or_default()
    }

    /// Adds a token; returns the new text it completes, if any.
    pub fn push(&mut self, token: u32) -> Option<String> {
        let prev_text = self.decode(&self.tokens[self.prev_index..self.current_index]);
        self.tokens.push(token);
        let text = self.decode(&self.tokens[self.prev_index..]);
        if text.len() > prev_text.len() && !text.ends_with('\u{FFFD}') {
            let piece = text.get(prev_text.len()..).map(str::to_string);
            self.prev_index = self.current_index;
            self.current_index = self.tokens.len();
            piece
        } else {
            None
        }
    }

    /// The text still held back (an incomplete character at the very end), once no more
    /// tokens will come.
    pub fn finish(&mut self) -> Option<String> {
        let prev_text = self.decode(&self.tokens[self.prev_index..self.current_index]);
        let text = self.decode(&self.tokens[self.prev_index..]);
        self.prev_index = self.tokens.len();
        self.current_index = self.tokens.len();
        text.get(prev_text.len()..)
            .filter(|rest| !rest.is_empty())
            .map(str::to_string)
    }
}
