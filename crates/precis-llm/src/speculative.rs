//! Drafts for speculative decoding, looked up in the prompt.
//!
//! A summary (or a title, or a retry) copies much of what its prompt holds: names, places,
//! figures, whole phrases of the article. When the last few tokens written also occur earlier
//! in the prompt or the answer, the tokens that followed them there are a cheap guess at what
//! comes next. The model checks all guessed tokens in one pass ([`super::decoder::Decoder::forward_all`]):
//! on a CPU a pass over a handful of tokens costs little more than over one (the weights are
//! read once), and every guess that matches the model's own greedy choice is a token gained.
//! The check uses the model's logits alone, so greedy output is exactly that of plain decoding.

/// Prompt-lookup drafting: the tokens that followed the latest earlier occurrence of the
/// context's last `n` tokens, for the longest `n` that occurs (from `max_ngram` down to
/// `min_ngram`).
#[derive(Debug, Clone, Copy)]
pub struct PromptLookup {
    pub max_ngram: usize,
    pub min_ngram: usize,
    /// Most tokens guessed at once.
    pub max_draft: usize,
}

impl Default for PromptLookup {
    fn default() -> Self {
        Self {
            max_ngram: 4,
            min_ngram: 2,
            // Measured on medium summaries of the sample with the 1.5B (BENCHMARKS.md): 3
            // guesses decode fastest; longer guesses are mostly wrong past the third.
            max_draft: 3,
        }
    }
}

impl PromptLookup {
    /// From `PRECIS_DRAFT` (tokens guessed at once; 0 turns drafting off), else the default.
    pub fn from_env() -> Option<Self> {
        let default = Self::default();
        let max_draft = match std::env::var("PRECIS_DRAFT") {
            Ok(v) => v.trim().parse().unwrap_or(default.max_draft),
            Err(_) => default.max_draft,
        };
        (max_draft > 0).then_some(Self {
            max_draft,
            ..default
        })
    }

    /// Fills `draft` with at most `limit` (and `max_draft`) guessed next tokens for `context`
    /// (the prompt and the answer so far); leaves it empty when nothing matches.
    pub fn draft(&self, context: &[u32], limit: usize, draft: &mut Vec<u32>) {
        draft.clear();
        let limit = limit.min(self.max_draft);
        if limit == 0 {
            return;
        }
        let len = context.len();
        for n in (self.min_ngram.max(1)..=self.max_ngram).rev() {
            if len <= n {
                continue;
            }
            let tail = &context[len - n..];
            // Latest earlier occurrence first: it is nearest to what is being written.
            let found = (0..len - n).rev().find(|&i| &context[i..i + n] == tail);
            if let Some(i) = found {
                let from = i + n;
                draft.extend_from_slice(&context[from..(from + limit).min(len)]);
                if !draft.is_empty() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup() -> PromptLookup {
        PromptLookup {
            max_ngram: 3,
            min_ngram: 2,
            max_draft: 4,
        }
    }

    #[test]
    fn guesses_what_followed_the_longest_matching_ngram() {
        let mut d = Vec::new();
        // "... 7 8 9 10 11 ... 1 7 8" -> the bigram 7 8 was followed by 9 10 11.
        lookup().draft(&[5, 7, 8, 9, 10, 11, 3, 1, 7, 8], 10, &mut d);
        assert_eq!(d, [9, 10, 11, 3]);
        // The trigram wins over a later bigram.
        lookup().draft(&[1, 2, 3, 4, 0, 2, 3, 9, 1, 2, 3], 10, &mut d);
        assert_eq!(d, [4, 0, 2, 3]);
        // The latest occurrence of the same n-gram wins.
        lookup().draft(&[2, 3, 4, 2, 3, 5, 6, 2, 3], 2, &mut d);
        assert_eq!(d, [5, 6]);
    }

    #[test]
    fn nothing_to_guess_without_a_match_or_room() {
        let mut d = vec![42];
        lookup().draft(&[1, 2, 3, 4, 5], 4, &mut d);
        assert!(d.is_empty());
        lookup().draft(&[7, 8, 9, 7, 8], 0, &mut d);
        assert!(d.is_empty());
        lookup().draft(&[8], 4, &mut d);
        assert!(d.is_empty());
    }
}
