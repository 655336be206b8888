//! Marian tokenizers from the files every Helsinki-NLP opus-mt repository has: `source.spm` /
//! `target.spm` (SentencePiece unigram models) and `vocab.json` (the model's ids). This is what
//! transformers' MarianTokenizer does — SentencePiece pieces, looked up in vocab.json, `<unk>`
//! for pieces it lacks, `</s>` appended — rebuilt on the `tokenizers` crate: the .spm's
//! normaliser (its precompiled character map), whitespace as `▁`, and its unigram scores.
//!
//! The .spm file is a protocol-buffer `ModelProto`; only the fields needed here are read.

use std::collections::HashMap;
use std::path::Path;

use tokenizers::models::unigram::Unigram;
use tokenizers::normalizers::{Precompiled, Replace, Sequence, Strip};
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::{Normalizer, NormalizerWrapper, Tokenizer};

use crate::{Error, Result};

/// One entry of a SentencePiece model.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub piece: String,
    pub score: f32,
    /// SentencePiece's type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    pub kind: i32,
}

/// What Précis reads of a `.spm` file.
#[derive(Debug, Clone, Default)]
pub struct SpmModel {
    pub pieces: Vec<Piece>,
    /// `TrainerSpec.model_type`: 1 unigram (Marian's), 2 BPE.
    pub model_type: i32,
    pub precompiled_charsmap: Vec<u8>,
    /// `NormalizerSpec.add_dummy_prefix`: a `▁` before the first word (default true).
    pub add_dummy_prefix: bool,
    /// `NormalizerSpec.remove_extra_whitespaces`: trim, and collapse runs of spaces (default
    /// true).
    pub remove_extra_whitespaces: bool,
}

/// A protocol-buffer reader over the few wire types a `ModelProto` uses.
struct Wire<'a> {
    bytes: &'a [u8],
    at: usize,
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    Fixed64,
}

impl<'a> Wire<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }

    /// The next field, `None` at the end; `Err` on damaged input.
    fn next(&mut self) -> std::result::Result<Option<(u64, Field<'a>)>, ()> {
        if self.at == self.bytes.len() {
            return Ok(None);
        }
        let key = self.varint().ok_or(())?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint().ok_or(())?),
            1 => {
                self.take(8).ok_or(())?;
                Field::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint().ok_or(())?).map_err(|_| ())?;
                Field::Bytes(self.take(n).ok_or(())?)
            }
            5 => {
                let b = self.take(4).ok_or(())?;
                Field::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => return Err(()),
        };
        Ok(Some((key >> 3, field)))
    }
}

impl SpmModel {
    pub fn parse(bytes: &[u8]) -> std::result::Result<Self, String> {
        let damaged = |_| "not a SentencePiece model (damaged protocol buffer)".to_string();
        let mut model = SpmModel {
            model_type: 1,
            add_dummy_prefix: true,
            remove_extra_whitespaces: true,
            ..SpmModel::default()
        };
        let mut wire = Wire::new(bytes);
        while let Some((tag, field)) = wire.next().map_err(damaged)? {
            match (tag, field) {
                (1, Field::Bytes(b)) => {
                    let mut piece = Piece {
                        piece: String::new(),
                        score: 0.0,
                        kind: 1,
                    };
                    let mut w = Wire::new(b);
                    while let Some((t, f)) = w.next().map_err(damaged)? {
                        match (t, f) {
                            (1, Field::Bytes(s)) => {
                                piece.piece = String::from_utf8(s.to_vec())
                                    .map_err(|_| "a piece is not UTF-8".to_string())?
                            }
                            (2, Field::Fixed32(v)) => piece.score = f32::from_bits(v),
                            (3, Field::Varint(v)) => piece.kind = v as i32,
                            _ => {}
                        }
                    }
                    model.pieces.push(piece);
                }
                (2, Field::Bytes(b)) => {
                    let mut w = Wire::new(b);
                    while let Some((t, f)) = w.next().map_err(damaged)? {
                        if let (3, Field::Varint(v)) = (t, f) {
                            model.model_type = v as i32;
                        }
                    }
                }
                (3, Field::Bytes(b)) => {
                    let mut w = Wire::new(b);
                    while let Some((t, f)) = w.next().map_err(damaged)? {
                        match (t, f) {
                            (2, Field::Bytes(map)) => model.precompiled_charsmap = map.to_vec(),
                            (3, Field::Varint(v)) => model.add_dummy_prefix = v != 0,
                            (4, Field::Varint(v)) => model.remove_extra_whitespaces = v != 0,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if model.pieces.is_empty() {
            return Err("not a SentencePiece model (no pieces)".into());
        }
        if !model.precompiled_charsmap.is_empty() && !charsmap_is_sound(&model.precompiled_charsmap)
        {
            return Err("damaged normaliser in the SentencePiece model".into());
        }
        Ok(model)
    }
}

/// Whether a precompiled character map is laid out as SentencePiece writes it: a 4-byte
/// little-endian trie size, a non-empty trie of 4-byte units, then the normalised strings.
/// (The crate that reads it trusts the size field; a damaged one would ask for gigabytes.)
fn charsmap_is_sound(map: &[u8]) -> bool {
    let Some(size) = map
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    else {
        return false;
    };
    size > 0 && size % 4 == 0 && size <= map.len() - 4
}

/// The SentencePiece side of a Marian tokenizer: the unigram model over vocab.json's ids,
/// with the .spm's own pieces that vocab.json lacks appended (ids ≥ `vocab_len`, mapped to
/// `<unk>` after encoding, so segmentation stays SentencePiece's).
pub struct MarianTokenizer {
    pub tokenizer: Tokenizer,
    pub vocab_len: usize,
    pub unk: u32,
    /// vocab.json's pieces by id, for decoding.
    pieces: Vec<String>,
    vocab: HashMap<String, u32>,
}

impl MarianTokenizer {
    /// Marian ids for `text` (no `</s>`: the caller adds it). A span the .spm does not know
    /// is looked up in vocab.json by its text, as MarianTokenizer does (SentencePiece returns
    /// unknown spans as their text, and the other language's pieces may name them).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        // The normaliser's trie comes from the model file and its reader indexes it unchecked:
        // a damaged file must fail this text, not bring the app down.
        let encoding = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.tokenizer.encode(text, false)
        }))
        .map_err(|_| Error::Inference("the SentencePiece model's normaliser is damaged".into()))?
        .map_err(|e| Error::Inference(format!("tokenizer: {e}")))?;
        let ids = encoding
            .get_ids()
            .iter()
            .zip(encoding.get_offsets())
            .map(|(&id, &(start, end))| {
                if id == self.unk {
                    return self.vocab_id_of_span(text.get(start..end).unwrap_or(""));
                }
                if id as usize >= self.vocab_len {
                    self.unk
                } else {
                    id
                }
            })
            .collect();
        Ok(ids)
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    /// Every piece of vocab.json.
    pub fn vocabulary(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().map(String::as_str)
    }

    fn vocab_id_of_span(&self, span: &str) -> u32 {
        let mut normalized = tokenizers::NormalizedString::from(span);
        if let Some(n) = self.tokenizer.get_normalizer() {
            if n.normalize(&mut normalized).is_err() {
                return self.unk;
            }
        }
        self.vocab
            .get(normalized.get())
            .copied()
            .unwrap_or(self.unk)
    }

    /// Text for Marian ids: pieces joined, `▁` as spaces (what SentencePiece's decoder does);
    /// `<…>` and `>>…<<` control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut text = String::new();
        for &id in ids {
            let Some(piece) = self.pieces.get(id as usize) else {
                continue;
            };
            let control = (piece.starts_with('<') && piece.ends_with('>') && piece.len() > 2)
                || (piece.starts_with(">>") && piece.ends_with("<<"));
            if !control {
                text.push_str(piece);
            }
        }
        text.replace('▁', " ").trim_start().to_string()
    }
}

/// Builds a Marian tokenizer from a `.spm` file and the model's `vocab.json`.
pub fn marian_tokenizer(spm_path: &Path, vocab_path: &Path) -> Result<MarianTokenizer> {
    let invalid = |path: &Path, reason: String| Error::ModelInvalid {
        path: path.to_path_buf(),
        reason,
    };
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let spm = SpmModel::parse(&read(spm_path)?).map_err(|r| invalid(spm_path, r))?;
    if spm.model_type != 1 {
        return Err(invalid(
            spm_path,
            "only SentencePiece unigram models are supported (Marian's kind)".into(),
        ));
    }
    let vocab: HashMap<String, u32> = serde_json::from_slice(&read(vocab_path)?)
        .map_err(|e| invalid(vocab_path, format!("not a vocab.json ({e})")))?;
    // Ids exactly 0..n, each once: anything else is not a Marian vocabulary (and a huge id
    // must not size an allocation).
    let vocab_len = vocab.len();
    let mut seen = vec![false; vocab_len];
    for &id in vocab.values() {
        match seen.get_mut(id as usize) {
            Some(s) if !*s => *s = true,
            _ => {
                return Err(invalid(
                    vocab_path,
                    format!(
                        "vocab.json ids must be 0 to {} with none repeated",
                        vocab_len.saturating_sub(1)
                    ),
                ))
            }
        }
    }
    let unk = *vocab
        .get("<unk>")
        .ok_or_else(|| invalid(vocab_path, "vocab.json has no <unk>".into()))?;
    // Scores by piece; control and unknown pieces are never chosen by the segmentation.
    let scores: HashMap<&str, f64> = spm
        .pieces
        .iter()
        .filter(|p| matches!(p.kind, 1 | 4))
        .map(|p| (p.piece.as_str(), f64::from(p.score)))
        .collect();
    let min = scores.values().copied().fold(0.0, f64::min);
    // vocab.json's pieces this .spm does not have (the other language's, control tokens) keep
    // their ids under names no text can produce (a space never reaches the model: it is `▁`
    // by then), so the segmentation is the .spm's alone. Their score is the .spm's lowest, so
    // unknown characters cost what they cost SentencePiece (lowest − 10).
    let mut entries: Vec<(String, f64)> = (0..vocab_len)
        .map(|i| (format!("<not in this spm {i}>"), min))
        .collect();
    let mut pieces = vec![String::new(); vocab_len];
    for (piece, &id) in &vocab {
        pieces[id as usize] = piece.clone();
        if let Some(&score) = scores.get(piece.as_str()) {
            entries[id as usize] = (piece.clone(), score);
        }
    }
    let mut extra: Vec<(&str, f64)> = scores
        .iter()
        .filter(|(p, _)| !vocab.contains_key(**p))
        .map(|(p, s)| (*p, *s))
        .collect();
    extra.sort_by(|a, b| a.0.cmp(b.0));
    entries.extend(extra.into_iter().map(|(p, s)| (p.to_string(), s)));
    let model = Unigram::from(entries, Some(unk as usize), false)
        .map_err(|e| invalid(spm_path, format!("cannot build the unigram model ({e})")))?;
    let mut tokenizer = Tokenizer::new(model);
    // SentencePiece's normalisation: its character map (nmt_nfkc), then whitespace trimmed and
    // runs of spaces collapsed (remove_extra_whitespaces).
    let mut normalizers: Vec<NormalizerWrapper> = Vec::new();
    if !spm.precompiled_charsmap.is_empty() {
        let map = Precompiled::from(&spm.precompiled_charsmap)
            .map_err(|e| invalid(spm_path, format!("unreadable normaliser ({e})")))?;
        normalizers.push(map.into());
    }
    if spm.remove_extra_whitespaces {
        normalizers.push(Strip::new(true, true).into());
        normalizers.push(
            Replace::new(
                tokenizers::normalizers::replace::ReplacePattern::Regex(" {2,}".into()),
                " ",
            )
            .map_err(|e| Error::Inference(e.to_string()))?
            .into(),
        );
    }
    tokenizer
        .with_normalizer(Some(Sequence::new(normalizers)))
        .map_err(|e| invalid(spm_path, format!("cannot build the normaliser ({e})")))?;
    let prepend = if spm.add_dummy_prefix {
        PrependScheme::Always
    } else {
        PrependScheme::Never
    };
    tokenizer.with_pre_tokenizer(Some(Metaspace::new('▁', prepend, true)));
    Ok(MarianTokenizer {
        tokenizer,
        vocab_len,
        unk,
        pieces,
        vocab,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_models_are_errors_not_panics() {
        for bytes in [
            &b""[..],
            b"\x0a",
            b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x0f\x00",
            b"\x0a\x05ab",
        ] {
            assert!(SpmModel::parse(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn damaged_character_maps_are_refused() {
        assert!(charsmap_is_sound(&[4, 0, 0, 0, 1, 2, 3, 4, b'a']));
        for map in [
            &[1u8, 0, 0][..],
            &[0, 0, 0, 0, 1],
            &[6, 0, 0, 0, 1, 2, 3, 4, 5, 6],
            &[0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4],
        ] {
            assert!(!charsmap_is_sound(map), "{map:?}");
        }
        // ModelProto { pieces: [{piece: "a"}], normalizer_spec: {precompiled_charsmap: <size 2^31>} }
        let proto = [
            0x0a, 3, 0x0a, 1, b'a', 0x1a, 10, 0x12, 8, 0, 0, 0, 0x80, 1, 2, 3, 4,
        ];
        assert!(SpmModel::parse(&proto).unwrap_err().contains("normaliser"));
    }

    #[test]
    fn pieces_scores_and_types_are_read() {
        // ModelProto { pieces: [{piece: "▁a", score: -1.5, type: 1}], trainer_spec: {model_type: 1} }
        let mut piece = vec![0x0a, 4];
        piece.extend("▁a".as_bytes());
        piece.push(0x15);
        piece.extend((-1.5f32).to_le_bytes());
        piece.extend([0x18, 1]);
        let mut proto = vec![0x0a, piece.len() as u8];
        proto.extend(&piece);
        proto.extend([0x12, 2, 0x18, 1]);
        let m = SpmModel::parse(&proto).unwrap();
        assert_eq!(
            m.pieces,
            vec![Piece {
                piece: "▁a".into(),
                score: -1.5,
                kind: 1
            }]
        );
        assert_eq!(m.model_type, 1);
    }
}
