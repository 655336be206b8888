//! The ChatML prompt format used by Qwen2/2.5 instruct models, built as token ids so that text
//! from an article can never inject control tokens.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

pub const IM_START: &str = "<|im_start|>";
pub const IM_END: &str = "<|im_end|>";
pub const END_OF_TEXT: &str = "<|endoftext|>";
/// Qwen3's thinking block delimiters (special tokens in its vocabulary).
pub const THINK_START: &str = "<think>";
pub const THINK_END: &str = "</think>";

/// The prompt as a sequence of pieces: control tokens and plain text, ending with the open
/// assistant turn the model completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Control(&'static str),
    Text(String),
}

pub fn render(messages: &[Message]) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(messages.len() * 3 + 2);
    for m in messages {
        pieces.push(Piece::Control(IM_START));
        pieces.push(Piece::Text(format!("{}\n{}", m.role.as_str(), m.content)));
        pieces.push(Piece::Control(IM_END));
        pieces.push(Piece::Text("\n".into()));
    }
    pieces.push(Piece::Control(IM_START));
    pieces.push(Piece::Text("assistant\n".into()));
    pieces
}

/// The rendered prompt as text (for logs and tests).
pub fn render_text(messages: &[Message]) -> String {
    render(messages)
        .into_iter()
        .map(|p| match p {
            Piece::Control(s) => s.to_string(),
            Piece::Text(t) => t,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_layout_matches_qwen_template() {
        let text = render_text(&[Message::system("Be brief."), Message::user("Hi")]);
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }
}
