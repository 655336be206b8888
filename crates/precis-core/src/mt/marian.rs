//! Marian encoder-decoder translation models (Helsinki-NLP opus-mt, the models Firefox
//! Translations and translateLocally are built on), from the Hugging Face `model.safetensors`
//! and `config.json`.
//!
//! The layers and weight names are those of candle-transformers' `models::marian`, which the
//! tests use as the reference (same logits on the same file). What this file adds is what
//! translating a whole article needs and that implementation does not have: a padding mask,
//! so sentences of different lengths share one batch; the encoder's keys and values computed
//! once per sentence rather than at every decoded token; caches whose rows can be reordered,
//! so beams share one batched forward; and the output projection for the last position only.

use std::ops::Range;

use candle_core::{DType, Device, IndexOp, Result, Tensor, D};
use candle_nn::{layer_norm, linear, Activation, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

/// `config.json` of a Hugging Face `MarianMTModel`: the fields the forward pass reads. Fields
/// older files leave out default to the opus-mt models' values (512 positions, swish, scaled
/// embeddings, shared vocabulary), not transformers' generic `MarianConfig` defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    #[serde(default)]
    pub decoder_vocab_size: Option<usize>,
    #[serde(default = "default_positions")]
    pub max_position_embeddings: usize,
    pub d_model: usize,
    pub encoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub decoder_layers: usize,
    pub decoder_attention_heads: usize,
    pub decoder_ffn_dim: usize,
    #[serde(default = "default_activation")]
    pub activation_function: Activation,
    #[serde(default = "yes")]
    pub scale_embedding: bool,
    /// Pre-norm layers (`normalize_before`): not used by opus-mt models, refused at load.
    #[serde(default)]
    pub normalize_before: bool,
    #[serde(default = "yes")]
    pub share_encoder_decoder_embeddings: bool,
    pub pad_token_id: u32,
    pub eos_token_id: u32,
    pub decoder_start_token_id: u32,
}

fn default_positions() -> usize {
    512
}
fn default_activation() -> Activation {
    Activation::Swish
}
fn yes() -> bool {
    true
}

impl Config {
    fn target_vocab(&self) -> usize {
        self.decoder_vocab_size.unwrap_or(self.vocab_size)
    }

    /// The cases this implementation does not cover, as a sentence for the user.
    pub fn unsupported(&self) -> Option<String> {
        if self.normalize_before {
            return Some("pre-norm Marian models (normalize_before) are not supported".into());
        }
        if !self.share_encoder_decoder_embeddings || self.target_vocab() != self.vocab_size {
            return Some(
                "Marian models with separate source and target vocabularies are not supported"
                    .into(),
            );
        }
        let heads = [self.encoder_attention_heads, self.decoder_attention_heads];
        if heads
            .iter()
            .any(|&h| h == 0 || !self.d_model.is_multiple_of(h))
        {
            return Some("d_model is not a multiple of the attention heads".into());
        }
        // Tables are built in memory and sizes multiplied: a damaged config must not ask for
        // terabytes or overflow. (opus-mt: 512 positions, d_model 512 or 1024, 6 layers.)
        let sizes_ok = (8..=4096).contains(&self.max_position_embeddings)
            && (2..=4096).contains(&self.d_model)
            && self.d_model.is_multiple_of(2)
            && (4..=1_000_000).contains(&self.vocab_size)
            && self.encoder_layers <= 64
            && self.decoder_layers <= 64
            && self.encoder_ffn_dim <= 65_536
            && self.decoder_ffn_dim <= 65_536;
        if !sizes_ok {
            return Some(format!(
                "implausible sizes (vocab_size {}, d_model {}, max_position_embeddings {}, layers {}+{}, feed-forward {}/{})",
                self.vocab_size, self.d_model, self.max_position_embeddings, self.encoder_layers,
                self.decoder_layers, self.encoder_ffn_dim, self.decoder_ffn_dim
            ));
        }
        let ids = [
            self.pad_token_id,
            self.eos_token_id,
            self.decoder_start_token_id,
        ];
        if ids.iter().any(|&id| id as usize >= self.vocab_size) {
            return Some("pad, end or decoder start token outside the vocabulary".into());
        }
        None
    }
}

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(d_model: usize, heads: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            q: linear(d_model, d_model, vb.pp("q_proj"))?,
            k: linear(d_model, d_model, vb.pp("k_proj"))?,
            v: linear(d_model, d_model, vb.pp("v_proj"))?,
            out: linear(d_model, d_model, vb.pp("out_proj"))?,
            heads,
            head_dim: d_model / heads,
        })
    }

    /// `[rows, len, d_model]` → `[rows, heads, len, head_dim]`.
    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (rows, len, _) = x.dims3()?;
        x.reshape((rows, len, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    fn keys_values(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((
            self.split_heads(&x.apply(&self.k)?)?,
            self.split_heads(&x.apply(&self.v)?)?,
        ))
    }

    /// Attention of `x`'s positions over `keys`/`values`; `bias` (0 or -inf, broadcast to
    /// `[rows, heads, len, keys]`) hides padding.
    fn attend(
        &self,
        x: &Tensor,
        keys: &Tensor,
        values: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (rows, len, d_model) = x.dims3()?;
        let scale = (self.head_dim as f64).powf(-0.5);
        let q = self.split_heads(&(x.apply(&self.q)? * scale)?)?;
        let mut weights = q.matmul(&keys.t()?)?;
        if let Some(bias) = bias {
            weights = weights.broadcast_add(bias)?;
        }
        candle_nn::ops::softmax_last_dim(&weights)?
            .matmul(values)?
            .transpose(1, 2)?
            .reshape((rows, len, d_model))?
            .apply(&self.out)
    }
}

struct FeedForward {
    fc1: Linear,
    fc2: Linear,
    activation: Activation,
}

impl FeedForward {
    fn new(cfg: &Config, ffn_dim: usize, vb: &VarBuilder) -> Result<Self> {
        Ok(Self {
            fc1: linear(cfg.d_model, ffn_dim, vb.pp("fc1"))?,
            fc2: linear(ffn_dim, cfg.d_model, vb.pp("fc2"))?,
            activation: cfg.activation_function,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.apply(&self.fc1)?
            .apply(&self.activation)?
            .apply(&self.fc2)
    }
}

fn norm(cfg: &Config, vb: VarBuilder) -> Result<LayerNorm> {
    layer_norm(cfg.d_model, 1e-5, vb)
}

struct EncoderLayer {
    self_attn: Attention,
    self_attn_norm: LayerNorm,
    ffn: FeedForward,
    final_norm: LayerNorm,
}

struct DecoderLayer {
    self_attn: Attention,
    self_attn_norm: LayerNorm,
    cross_attn: Attention,
    cross_attn_norm: LayerNorm,
    ffn: FeedForward,
    final_norm: LayerNorm,
}

/// Sentences encoded together: `[rows, source_len, d_model]` and the padding bias
/// `[rows, 1, 1, source_len]`.
pub struct Encoded {
    pub states: Tensor,
    pub padding: Tensor,
}

/// One decoding batch: per layer, the self-attention cache and the encoder's keys and
/// values, one row per hypothesis.
pub struct DecoderState {
    self_kv: Vec<Option<(Tensor, Tensor)>>,
    cross_kv: Vec<(Tensor, Tensor)>,
    padding: Tensor,
    /// Tokens decoded so far (the next token's position).
    pub len: usize,
}

impl DecoderState {
    /// Keeps the rows `rows` (in that order, repeats allowed): beams that survive a step,
    /// copied from their parents, and sentences that are finished dropped.
    pub fn select_rows(&mut self, rows: &[u32]) -> Result<()> {
        let unchanged = rows.len() == self.padding.dim(0)?
            && rows.iter().enumerate().all(|(i, &r)| r as usize == i);
        if unchanged {
            return Ok(());
        }
        let device = self.padding.device().clone();
        let index = Tensor::new(rows, &device)?;
        let pick = |t: &Tensor| t.index_select(&index, 0);
        for kv in self.self_kv.iter_mut().flatten() {
            *kv = (pick(&kv.0)?, pick(&kv.1)?);
        }
        for kv in self.cross_kv.iter_mut() {
            *kv = (pick(&kv.0)?, pick(&kv.1)?);
        }
        self.padding = pick(&self.padding)?;
        Ok(())
    }
}

pub struct Marian {
    pub cfg: Config,
    embeddings: Tensor,
    positions: Tensor,
    embed_scale: f64,
    encoder: Vec<EncoderLayer>,
    decoder: Vec<DecoderLayer>,
    output: Linear,
    final_logits_bias: Tensor,
    device: Device,
}

/// The sinusoidal position table Marian uses: sines in the first half, cosines in the second.
fn sinusoidal_positions(positions: usize, dim: usize, device: &Device) -> Result<Tensor> {
    let half = dim / 2;
    let mut table = vec![0f32; positions * dim];
    for pos in 0..positions {
        for i in 0..half {
            let angle = pos as f64 / 10000f64.powf((2 * i) as f64 / dim as f64);
            table[pos * dim + i] = angle.sin() as f32;
            table[pos * dim + half + i] = angle.cos() as f32;
        }
    }
    Tensor::from_vec(table, (positions, dim), device)
}

impl Marian {
    pub fn new(cfg: Config, vb: VarBuilder) -> Result<Self> {
        if let Some(reason) = cfg.unsupported() {
            candle_core::bail!("{reason}");
        }
        let device = vb.device().clone();
        let embeddings = vb
            .pp("model.shared")
            .get((cfg.vocab_size, cfg.d_model), "weight")?;
        let final_logits_bias = vb
            .get((1, cfg.target_vocab()), "final_logits_bias")?
            .squeeze(0)?;
        let encoder = (0..cfg.encoder_layers)
            .map(|i| {
                let vb = vb.pp(format!("model.encoder.layers.{i}"));
                Ok(EncoderLayer {
                    self_attn: Attention::new(
                        cfg.d_model,
                        cfg.encoder_attention_heads,
                        vb.pp("self_attn"),
                    )?,
                    self_attn_norm: norm(&cfg, vb.pp("self_attn_layer_norm"))?,
                    ffn: FeedForward::new(&cfg, cfg.encoder_ffn_dim, &vb)?,
                    final_norm: norm(&cfg, vb.pp("final_layer_norm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let decoder = (0..cfg.decoder_layers)
            .map(|i| {
                let vb = vb.pp(format!("model.decoder.layers.{i}"));
                Ok(DecoderLayer {
                    self_attn: Attention::new(
                        cfg.d_model,
                        cfg.decoder_attention_heads,
                        vb.pp("self_attn"),
                    )?,
                    self_attn_norm: norm(&cfg, vb.pp("self_attn_layer_norm"))?,
                    cross_attn: Attention::new(
                        cfg.d_model,
                        cfg.decoder_attention_heads,
                        vb.pp("encoder_attn"),
                    )?,
                    cross_attn_norm: norm(&cfg, vb.pp("encoder_attn_layer_norm"))?,
                    ffn: FeedForward::new(&cfg, cfg.decoder_ffn_dim, &vb)?,
                    final_norm: norm(&cfg, vb.pp("final_layer_norm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            positions: sinusoidal_positions(cfg.max_position_embeddings, cfg.d_model, &device)?,
            embed_scale: if cfg.scale_embedding {
                (cfg.d_model as f64).sqrt()
            } else {
                1.0
            },
            output: Linear::new(embeddings.clone(), None),
            embeddings,
            final_logits_bias,
            encoder,
            decoder,
            cfg,
            device,
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Token embeddings, scaled, plus the positions from `start`: `[rows, len, d_model]`.
    fn embed(&self, ids: &Tensor, start: usize) -> Result<Tensor> {
        let (rows, len) = ids.dims2()?;
        let tokens = self
            .embeddings
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((rows, len, self.cfg.d_model))?;
        (tokens * self.embed_scale)?
            .broadcast_add(&self.positions.narrow(0, start, len)?.unsqueeze(0)?)
    }

    /// Encodes sentences of token ids, padded to the longest with the pad token.
    pub fn encode(&self, sentences: &[Vec<u32>]) -> Result<Encoded> {
        let len = sentences.iter().map(Vec::len).max().unwrap_or(0);
        if sentences.iter().any(Vec::is_empty) || len > self.cfg.max_position_embeddings {
            candle_core::bail!(
                "a sentence of {len} tokens (this model takes 1 to {})",
                self.cfg.max_position_embeddings
            );
        }
        let rows = sentences.len();
        let mut ids = Vec::with_capacity(rows * len);
        let mut bias = Vec::with_capacity(rows * len);
        for s in sentences {
            ids.extend_from_slice(s);
            ids.extend(std::iter::repeat_n(self.cfg.pad_token_id, len - s.len()));
            bias.extend(std::iter::repeat_n(0f32, s.len()));
            bias.extend(std::iter::repeat_n(f32::NEG_INFINITY, len - s.len()));
        }
        let ids = Tensor::from_vec(ids, (rows, len), &self.device)?;
        let padding = Tensor::from_vec(bias, (rows, 1, 1, len), &self.device)?;
        let mut x = self.embed(&ids, 0)?;
        for layer in &self.encoder {
            let (k, v) = layer.self_attn.keys_values(&x)?;
            let h = layer.self_attn.attend(&x, &k, &v, Some(&padding))?;
            x = (x + h)?.apply(&layer.self_attn_norm)?;
            let h = layer.ffn.forward(&x)?;
            x = (x + h)?.apply(&layer.final_norm)?;
        }
        Ok(Encoded { states: x, padding })
    }

    /// A decoder batch with one row per encoded sentence, nothing decoded yet.
    pub fn start(&self, encoded: &Encoded) -> Result<DecoderState> {
        Ok(DecoderState {
            self_kv: vec![None; self.decoder.len()],
            cross_kv: self
                .decoder
                .iter()
                .map(|l| l.cross_attn.keys_values(&encoded.states))
                .collect::<Result<_>>()?,
            padding: encoded.padding.clone(),
            len: 0,
        })
    }

    /// Feeds one token per row and returns the next-token logits, `[rows, target_vocab]`.
    pub fn step(&self, state: &mut DecoderState, tokens: &[u32]) -> Result<Tensor> {
        if state.len >= self.cfg.max_position_embeddings {
            candle_core::bail!(
                "the translation reached the model's {} positions",
                self.cfg.max_position_embeddings
            );
        }
        let ids = Tensor::from_slice(tokens, (tokens.len(), 1), &self.device)?;
        let mut x = self.embed(&ids, state.len)?;
        for (i, layer) in self.decoder.iter().enumerate() {
            let (k, v) = layer.self_attn.keys_values(&x)?;
            let (k, v) = match &state.self_kv[i] {
                Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
                None => (k, v),
            };
            // One query position that may see every earlier one: no causal mask needed.
            let h = layer.self_attn.attend(&x, &k, &v, None)?;
            state.self_kv[i] = Some((k, v));
            x = (x + h)?.apply(&layer.self_attn_norm)?;
            let (ck, cv) = &state.cross_kv[i];
            let h = layer.cross_attn.attend(&x, ck, cv, Some(&state.padding))?;
            x = (x + h)?.apply(&layer.cross_attn_norm)?;
            let h = layer.ffn.forward(&x)?;
            x = (x + h)?.apply(&layer.final_norm)?;
        }
        state.len += 1;
        x.i((.., 0, ..))?
            .apply(&self.output)?
            .broadcast_add(&self.final_logits_bias)
    }
}

/// Every tensor of a Hugging Face Marian `model.safetensors` this implementation reads, with
/// its shape (rows are outputs), for writing random weights of a given shape (tests, the
/// benchmark).
pub fn weight_shapes(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let d = cfg.d_model;
    let mut shapes = vec![
        ("model.shared.weight".to_string(), vec![cfg.vocab_size, d]),
        ("final_logits_bias".to_string(), vec![1, cfg.target_vocab()]),
    ];
    let sides = [
        (
            "encoder",
            cfg.encoder_layers,
            cfg.encoder_ffn_dim,
            &["self_attn"][..],
        ),
        (
            "decoder",
            cfg.decoder_layers,
            cfg.decoder_ffn_dim,
            &["self_attn", "encoder_attn"][..],
        ),
    ];
    for (side, layers, ffn, attentions) in sides {
        for l in 0..layers {
            let p = format!("model.{side}.layers.{l}");
            let mut linear = |name: String, out: usize, inp: usize| {
                shapes.push((format!("{name}.weight"), vec![out, inp]));
                shapes.push((format!("{name}.bias"), vec![out]));
            };
            for a in attentions {
                for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                    linear(format!("{p}.{a}.{proj}"), d, d);
                }
            }
            linear(format!("{p}.fc1"), ffn, d);
            linear(format!("{p}.fc2"), d, ffn);
            let norms = attentions.iter().map(|a| format!("{a}_layer_norm"));
            for norm in norms.chain(["final_layer_norm".to_string()]) {
                shapes.push((format!("{p}.{norm}.weight"), vec![d]));
                shapes.push((format!("{p}.{norm}.bias"), vec![d]));
            }
        }
    }
    shapes
}

/// One finished translation of a sentence: target ids (without the start and end tokens)
/// and the length-normalised log-probability the search ranked it by.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    pub tokens: Vec<u32>,
    pub score: f32,
}

/// How to search: `beam` 1 is greedy decoding.
#[derive(Debug, Clone, Copy)]
pub struct Search {
    pub beam: usize,
    /// Hypotheses are ranked by log-probability / length^`length_penalty` (transformers'
    /// default, 1.0, as the opus-mt generation configs use).
    pub length_penalty: f32,
}

struct Live {
    sentence: usize,
    tokens: Vec<u32>,
    score: f32,
}

/// The `k` best entries of `row` (index, value), best first.
fn top_k(row: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut idx: Vec<u32> = (0..row.len() as u32).collect();
    let k = k.min(idx.len());
    if k < idx.len() {
        idx.select_nth_unstable_by(k, |a, b| row[*b as usize].total_cmp(&row[*a as usize]));
        idx.truncate(k);
    }
    idx.sort_by(|a, b| row[*b as usize].total_cmp(&row[*a as usize]));
    idx.into_iter().map(|i| (i, row[i as usize])).collect()
}

impl Search {
    /// The score a hypothesis is ranked by: log-probability / length^`length_penalty`.
    fn normalised(&self, score: f32, len: usize) -> f32 {
        score / (len.max(1) as f32).powf(self.length_penalty)
    }
}

/// A continuation of a live row: its total log-probability, the row (an index into the live
/// rows) and the token.
type Candidate = (f32, usize, u32);

/// The candidate continuations of the live rows `rows` (one sentence's beams): each row's
/// `2 * beam` most likely next tokens, scored by the row's log-probability plus the token's,
/// banned tokens dropped, best first.
fn continuations(
    live: &[Live],
    rows: Range<usize>,
    logp: &[Vec<f32>],
    beam: usize,
) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = rows
        .flat_map(|r| {
            top_k(&logp[r], 2 * beam)
                .into_iter()
                .map(move |(tok, lp)| (live[r].score + lp, r, tok))
        })
        .filter(|c| c.0.is_finite())
        .collect();
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    candidates
}

/// Goes through a sentence's candidates best first: an end among the beam's best completes a
/// hypothesis (into `finished`); up to `beam` others are kept to continue, best first.
fn keep_best(
    candidates: &[Candidate],
    live: &[Live],
    search: Search,
    eos: u32,
    finished: &mut Vec<Hypothesis>,
) -> Vec<Candidate> {
    let beam = search.beam;
    let mut kept = Vec::new();
    for (rank, &(score, r, tok)) in candidates.iter().enumerate() {
        if tok == eos {
            // An end among the beam's best candidates completes a hypothesis.
            if rank < beam {
                finished.push(Hypothesis {
                    tokens: live[r].tokens.clone(),
                    score: search.normalised(score, live[r].tokens.len() + 1),
                });
            }
        } else if kept.len() < beam {
            kept.push((score, r, tok));
        }
        if kept.len() == beam {
            break;
        }
    }
    kept
}

/// A live row's tokens with `tok` appended.
fn extended(row: &Live, tok: u32) -> Vec<u32> {
    let mut tokens = row.tokens.clone();
    tokens.push(tok);
    tokens
}

/// Each sentence's best hypothesis (an empty one scored -∞ if it has none).
fn best_of_each(finished: Vec<Vec<Hypothesis>>) -> Vec<Hypothesis> {
    finished
        .into_iter()
        .map(|mut hyps| {
            hyps.sort_by(|a, b| b.score.total_cmp(&a.score));
            hyps.into_iter().next().unwrap_or(Hypothesis {
                tokens: Vec::new(),
                score: f32::NEG_INFINITY,
            })
        })
        .collect()
}

impl Marian {
    /// Translates a batch of tokenized sentences (each ending with the end token): beam search
    /// over all sentences' beams in one batched forward per step. A sentence is done once
    /// `beam` hypotheses have ended (transformers' `early_stopping=True`), or at `max_new(i)`
    /// tokens, where unfinished hypotheses compete too. `keep_going` is asked before every
    /// step (false cancels: `Ok(None)`).
    pub fn translate(
        &self,
        sentences: &[Vec<u32>],
        search: Search,
        max_new: &dyn Fn(usize) -> usize,
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<Option<Vec<Hypothesis>>> {
        let beam = search.beam.max(1);
        let search = Search { beam, ..search };
        let eos = self.cfg.eos_token_id;
        let encoded = self.encode(sentences)?;
        let mut state = self.start(&encoded)?;
        let mut live: Vec<Live> = (0..sentences.len())
            .map(|sentence| Live {
                sentence,
                tokens: Vec::new(),
                score: 0.0,
            })
            .collect();
        let mut last = vec![self.cfg.decoder_start_token_id; sentences.len()];
        let mut finished: Vec<Vec<Hypothesis>> = vec![Vec::new(); sentences.len()];
        while !live.is_empty() {
            if !keep_going() {
                return Ok(None);
            }
            let logp = self.next_log_probs(&mut state, &last)?;
            let mut next_live = Vec::new();
            let mut parents = Vec::new();
            let mut i = 0;
            while i < live.len() {
                let sentence = live[i].sentence;
                let end = i + live[i..]
                    .iter()
                    .take_while(|l| l.sentence == sentence)
                    .count();
                let candidates = continuations(&live, i..end, &logp, beam);
                let done = &mut finished[sentence];
                let kept = keep_best(&candidates, &live, search, eos, done);
                let out_of_room =
                    state.len >= max_new(sentence) || state.len >= self.cfg.max_position_embeddings;
                if done.len() >= beam || kept.is_empty() || out_of_room {
                    if done.is_empty() || out_of_room {
                        // Cut at the length limit: the best unfinished hypotheses compete too.
                        for &(score, r, tok) in &kept {
                            let tokens = extended(&live[r], tok);
                            let score = search.normalised(score, tokens.len());
                            done.push(Hypothesis { tokens, score });
                        }
                    }
                } else {
                    for (score, r, tok) in kept {
                        let tokens = extended(&live[r], tok);
                        next_live.push(Live {
                            sentence,
                            tokens,
                            score,
                        });
                        parents.push(r as u32);
                    }
                }
                i = end;
            }
            if next_live.is_empty() {
                break;
            }
            state.select_rows(&parents)?;
            last = next_live
                .iter()
                .map(|l| *l.tokens.last().unwrap_or(&eos))
                .collect();
            live = next_live;
        }
        Ok(Some(best_of_each(finished)))
    }

    /// One decoder step for the rows' `last` tokens: log-probabilities of the next token,
    /// one row per live hypothesis, with the pad token banned.
    fn next_log_probs(&self, state: &mut DecoderState, last: &[u32]) -> Result<Vec<Vec<f32>>> {
        let logits = self.step(state, last)?;
        let mut logp = candle_nn::ops::log_softmax(&logits.to_dtype(DType::F32)?, D::Minus1)?
            .to_vec2::<f32>()?;
        // The pad token is never an output (the opus-mt configs ban it).
        let pad = self.cfg.pad_token_id as usize;
        for row in logp.iter_mut() {
            row[pad] = f32::NEG_INFINITY;
        }
        Ok(logp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_is_sorted_and_bounded() {
        let row = [0.1, 3.0, -1.0, 2.0, 2.5];
        assert_eq!(top_k(&row, 3), vec![(1, 3.0), (4, 2.5), (3, 2.0)]);
        assert_eq!(top_k(&row, 9).len(), 5);
    }

    #[test]
    fn positions_are_sines_then_cosines() {
        let t = sinusoidal_positions(3, 4, &Device::Cpu)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(t[0], vec![0.0, 0.0, 1.0, 1.0]);
        assert!((t[2][0] - 2f32.sin()).abs() < 1e-6);
        assert!((t[2][1] - (2f64 / 100f64).sin() as f32).abs() < 1e-6);
        assert!((t[2][3] - (2f64 / 100f64).cos() as f32).abs() < 1e-6);
    }
}
