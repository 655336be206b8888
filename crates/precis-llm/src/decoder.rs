//! The decoder every supported architecture runs on (see [`super::arch`] for the list and for
//! what each one sets), for quantized GGUF weights on a CPU serving one article after another:
//! - weights are memory-mapped from the file; where the CPU has AVX2 the multiplied matrices are
//!   repacked into tiles (read back from a tile cache on later starts), the rest (embeddings,
//!   norms) read in place; our own kernels ([`super::kernels`]) multiply them;
//! - each sequence has its own [`KvCache`], allocated once at the length it needs and written in
//!   place; several sequences run in one [`Decoder::forward_batch`] call, so each weight is read
//!   once per step for all of them (batched translation) and a prompt is processed as a batch of
//!   tokens (prefill);
//! - grouped-query attention reads K/V in place, without repeating heads;
//! - activations live in scratch buffers reused from call to call (no allocation per token).
//!
//! Architectures differ only in the traits of [`Config`]: biases, head norms, the RoPE layout,
//! norms after the blocks, the activation, sliding-window layers, embedding and logit scaling.

use std::io::Cursor;
use std::sync::Arc;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::kernels::{self, ops, QuantMatrix, QuantizedActs, WeightBytes, WeightFormat};

/// How the two halves of each rotated pair sit in a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RopeLayout {
    /// `(x[i], x[i + head_dim/2])`: GPT-NeoX's layout (Qwen, Gemma).
    Halves,
    /// `(x[2i], x[2i+1])`: Llama's, in which llama.cpp's converter stores Q and K weights.
    Pairs,
}

/// The non-linearity of the gated feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// SiLU(gate) * up (Llama, Qwen).
    Silu,
    /// GELU(gate) * up, tanh approximation (Gemma).
    GeluTanh,
}

/// Local attention in most layers (Gemma 3): each position sees only the last `size` positions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlidingWindow {
    pub size: usize,
    /// Every `period`-th layer (1-based) attends globally, the others locally.
    pub period: usize,
    /// RoPE base of the local layers (the global ones use [`Config::rope_theta`]).
    pub rope_theta: f32,
}

impl SlidingWindow {
    pub fn is_local(&self, layer: usize) -> bool {
        !(layer + 1).is_multiple_of(self.period.max(1))
    }
}

/// An architecture's hyper-parameters and traits, read from GGUF metadata by its file in
/// [`super::arch`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// `general.architecture`.
    pub architecture: String,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    /// Width of one attention head (the heads together may be wider than the hidden state).
    pub head_dim: usize,
    pub context_length: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f32,
    /// Positions are divided by this before rotation (linear RoPE scaling; 1 = none).
    pub rope_scale: f32,
    pub rope_layout: RopeLayout,
    /// Q, K and V projections have biases.
    pub qkv_bias: bool,
    /// Each head's query and key are RMS-normalised before RoPE.
    pub qk_norm: bool,
    /// The attention and feed-forward outputs are RMS-normalised before joining the residual.
    pub post_norms: bool,
    pub activation: Activation,
    /// Token embeddings are multiplied by this (Gemma: sqrt(hidden_size)).
    pub embedding_scale: f32,
    /// Attention scores are multiplied by this (usually 1 / sqrt(head_dim)).
    pub attention_scale: f32,
    pub sliding_window: Option<SlidingWindow>,
    /// Logits become `cap * tanh(logits / cap)`.
    pub final_logit_softcap: Option<f32>,
}

/// GGUF metadata of one architecture: keys are read under its prefix (`llama.block_count`).
pub struct Metadata<'a> {
    pub ct: &'a gguf_file::Content,
    pub arch: &'a str,
}

impl Metadata<'_> {
    fn value(&self, key: &str) -> Result<&gguf_file::Value> {
        let key = format!("{}.{key}", self.arch);
        self.ct
            .metadata
            .get(&key)
            .ok_or_else(|| candle_core::Error::Msg(format!("metadata key `{key}` is missing")))
    }

    pub fn has(&self, key: &str) -> bool {
        self.value(key).is_ok()
    }

    pub fn usize(&self, key: &str) -> Result<usize> {
        Ok(self.value(key)?.to_u32()? as usize)
    }

    pub fn f32(&self, key: &str) -> Result<f32> {
        self.value(key)?.to_f32()
    }

    pub fn f32_or(&self, key: &str, default: f32) -> Result<f32> {
        if self.has(key) {
            self.f32(key)
        } else {
            Ok(default)
        }
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.value(key).ok()?.to_string().ok().cloned()
    }
}

impl Config {
    /// What every architecture states the same way (`{arch}.block_count`, ...), with the traits
    /// of a plain Llama-style decoder; each architecture's file changes what differs.
    pub fn common(meta: &Metadata) -> Result<Self> {
        let hidden_size = meta.usize("embedding_length")?;
        let num_heads = meta.usize("attention.head_count")?;
        let head_dim = if meta.has("attention.key_length") {
            meta.usize("attention.key_length")?
        } else {
            hidden_size / num_heads.max(1)
        };
        // Partial rotary embedding (some fine-tunes) would rotate only part of each head.
        if meta.has("rope.dimension_count") && meta.usize("rope.dimension_count")? != head_dim {
            candle_core::bail!("RoPE over part of each head is not supported");
        }
        let rope_scale = match meta.string("rope.scaling.type").as_deref() {
            None | Some("none") => 1.0,
            Some("linear") => meta.f32_or("rope.scaling.factor", 1.0)?,
            Some(other) => candle_core::bail!("RoPE scaling `{other}` is not supported"),
        };
        Ok(Self {
            architecture: meta.arch.to_string(),
            hidden_size,
            intermediate_size: meta.usize("feed_forward_length")?,
            num_layers: meta.usize("block_count")?,
            num_heads,
            num_kv_heads: meta.usize("attention.head_count_kv")?,
            head_dim,
            context_length: meta.usize("context_length")?,
            rms_norm_eps: meta.f32("attention.layer_norm_rms_epsilon")? as f64,
            rope_theta: meta.f32_or("rope.freq_base", 10_000.0)?,
            rope_scale: if rope_scale > 0.0 { rope_scale } else { 1.0 },
            rope_layout: RopeLayout::Pairs,
            qkv_bias: false,
            qk_norm: false,
            post_norms: false,
            activation: Activation::Silu,
            embedding_scale: 1.0,
            attention_scale: 1.0 / (head_dim as f32).sqrt(),
            sliding_window: None,
            final_logit_softcap: None,
        })
    }

    /// Rejects shapes the decoder cannot run (a damaged or hostile file).
    pub fn validate(self) -> Result<Self> {
        let heads_ok = self.num_heads > 0
            && self.num_kv_heads > 0
            && self.num_heads.is_multiple_of(self.num_kv_heads)
            && self.head_dim > 0
            && self.head_dim.is_multiple_of(2);
        let window_ok = self
            .sliding_window
            .is_none_or(|w| w.size > 0 && w.period > 0);
        if !heads_ok || !window_ok || self.num_layers == 0 || self.context_length == 0 {
            candle_core::bail!("inconsistent attention shape in the metadata: {self:?}");
        }
        Ok(self)
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim
    }

    /// Width of all query heads together.
    fn q_dim(&self) -> usize {
        self.num_heads * self.head_dim
    }

    fn kv_dim(&self) -> usize {
        self.num_kv_heads * self.head_dim()
    }

    /// The RMS norms' epsilon, as the kernels take it.
    fn eps(&self) -> f32 {
        self.rms_norm_eps as f32
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    q: QuantMatrix,
    k: QuantMatrix,
    v: QuantMatrix,
    /// Biases and head norms: empty where the architecture has none.
    q_bias: Vec<f32>,
    k_bias: Vec<f32>,
    v_bias: Vec<f32>,
    q_norm: Vec<f32>,
    k_norm: Vec<f32>,
    out: QuantMatrix,
    /// Norms after the attention and feed-forward blocks: empty where the architecture has none.
    post_attn_norm: Vec<f32>,
    post_ffn_norm: Vec<f32>,
    ffn_norm: Vec<f32>,
    gate: QuantMatrix,
    up: QuantMatrix,
    down: QuantMatrix,
    /// Index of this layer's rotary table in [`Decoder::ropes`].
    rope: usize,
    /// How many positions back local attention reaches; `None`: all of them.
    window: Option<usize>,
}

/// cos and sin of each rotary angle, `max_positions` rows of `head_dim / 2`.
struct RopeTable {
    cos: Vec<f32>,
    sin: Vec<f32>,
}

/// Keys and values of one sequence, for every layer, at positions `0..len()`.
pub struct KvCache {
    tokens: Vec<u32>,
    capacity: usize,
    kv_dim: usize,
    /// Per layer: (keys, values), each `capacity * kv_dim`, position-major.
    layers: Vec<(Vec<f32>, Vec<f32>)>,
}

impl KvCache {
    /// The tokens whose keys and values are held, in order.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many leading tokens of `prompt` are already held and need no processing. At least
    /// one token is always left to process, so there are logits to sample from.
    pub fn prefix_len(&self, prompt: &[u32]) -> usize {
        let common = self
            .tokens
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count();
        common.min(prompt.len().saturating_sub(1))
    }

    /// Forgets positions from `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.tokens.truncate(len);
    }

    /// Replaces this cache's content with the first `len` positions of `other` (a shared prompt
    /// prefix computed once, copied instead of recomputed).
    pub fn copy_prefix(&mut self, other: &KvCache, len: usize) -> Result<()> {
        if len > other.len() || len > self.capacity || self.kv_dim != other.kv_dim {
            candle_core::bail!("cannot copy {len} positions between these caches");
        }
        let n = len * self.kv_dim;
        for ((k, v), (ok, ov)) in self.layers.iter_mut().zip(&other.layers) {
            k[..n].copy_from_slice(&ok[..n]);
            v[..n].copy_from_slice(&ov[..n]);
        }
        self.tokens.clear();
        self.tokens.extend_from_slice(&other.tokens[..len]);
        Ok(())
    }

    /// The shape of what the cache holds per position: (layers, values per key or value).
    pub fn shape(&self) -> (usize, usize) {
        (self.layers.len(), self.kv_dim)
    }

    /// Writes the keys and values of the first `len` positions, layer by layer (keys, then
    /// values), as little-endian f32.
    pub fn write_prefix(&self, len: usize, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let n = len.min(self.len()) * self.kv_dim;
        let mut bytes = Vec::with_capacity(n * 4);
        for (k, v) in &self.layers {
            for part in [&k[..n], &v[..n]] {
                bytes.clear();
                bytes.extend(part.iter().flat_map(|x| x.to_le_bytes()));
                out.write_all(&bytes)?;
            }
        }
        Ok(())
    }

    /// Replaces the content with `tokens` and their keys and values read as
    /// [`Self::write_prefix`] wrote them.
    pub fn read_prefix(
        &mut self,
        tokens: &[u32],
        input: &mut impl std::io::Read,
    ) -> std::io::Result<()> {
        if tokens.len() > self.capacity {
            return Err(std::io::Error::other(
                "the stored prompt does not fit the cache",
            ));
        }
        self.tokens.clear();
        let n = tokens.len() * self.kv_dim;
        let mut bytes = vec![0u8; n * 4];
        for (k, v) in &mut self.layers {
            for part in [&mut k[..n], &mut v[..n]] {
                input.read_exact(&mut bytes)?;
                for (x, b) in part.iter_mut().zip(bytes.chunks_exact(4)) {
                    *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
        }
        self.tokens.extend_from_slice(tokens);
        Ok(())
    }
}

/// Buffers reused across forward calls.
#[derive(Default)]
struct Scratch {
    x: Vec<f32>,
    h: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    att: Vec<f32>,
    tmp: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    acts: QuantizedActs,
    /// (sequence, position) of each row of the batch.
    rows: Vec<(usize, usize)>,
    logits: Vec<f32>,
}

fn resize(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    buf.resize(len, 0.0);
    &mut buf[..len]
}

/// A decoder-only transformer with the traits of its [`Config`].
pub struct Decoder {
    config: Config,
    embeddings: QuantMatrix,
    layers: Vec<Layer>,
    norm: Vec<f32>,
    /// `None`: tied to the embedding table.
    lm_head: Option<QuantMatrix>,
    /// Rotary tables: the global one, then the local layers' one where it differs.
    ropes: Vec<RopeTable>,
    max_positions: usize,
    vocab: usize,
    tiling: kernels::Tiling,
    /// The tile cache being written after a repack (waited for when the decoder is dropped).
    _tile_cache_write: Option<kernels::PendingWrite>,
    scratch: Scratch,
}

impl Decoder {
    /// Maps the GGUF file and prepares the weights; positions are limited to `max_positions`
    /// (at most the model's context).
    pub fn from_gguf(
        ct: &gguf_file::Content,
        file: &std::fs::File,
        max_positions: usize,
    ) -> Result<Self> {
        Self::from_gguf_cached(ct, file, max_positions, None)
    }

    /// [`Self::from_gguf`], with the tiled weights read from (or written to) `tile_cache`.
    pub fn from_gguf_cached(
        ct: &gguf_file::Content,
        file: &std::fs::File,
        max_positions: usize,
        tile_cache: Option<&kernels::TileCache>,
    ) -> Result<Self> {
        // SAFETY: the file is opened read-only and not modified by Précis while mapped; like
        // llama.cpp and candle, we rely on model files not being rewritten under a running app.
        let map = Arc::new(unsafe { memmap2::Mmap::map(file)? });
        let config = super::arch::config(ct)?;
        let max_positions = max_positions.min(config.context_length).max(1);
        let loader = Loader { ct, map: &map };
        let embeddings = loader.embeddings(&config)?;
        let vocab = embeddings.rows();
        let mut lm_head = if ct.tensor_infos.contains_key("output.weight") {
            Some(loader.matrix("output.weight")?)
        } else {
            None
        };
        let mut layers = Vec::with_capacity(config.num_layers);
        for i in 0..config.num_layers {
            layers.push(loader.layer(&config, i)?);
        }
        let (tiling, tile_cache_write) = tile_multiplied(&mut layers, lm_head.as_mut(), tile_cache);
        let norm = loader.vector("output_norm.weight", config.hidden_size)?;
        let ropes = loader.rope_tables(&config, max_positions)?;
        Ok(Self {
            config,
            embeddings,
            layers,
            norm,
            lm_head,
            ropes,
            max_positions,
            vocab,
            tiling,
            _tile_cache_write: tile_cache_write,
            scratch: Scratch::default(),
        })
    }

    /// How the weights were prepared at load (repacked, read from the tile cache, or neither).
    pub fn tiling(&self) -> kernels::Tiling {
        self.tiling
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// An empty cache for up to `capacity` positions. Its memory is reserved, not touched: pages
    /// are committed as positions are written.
    pub fn new_cache(&self, capacity: usize) -> KvCache {
        let capacity = capacity.clamp(1, self.max_positions);
        let kv_dim = self.config.kv_dim();
        KvCache {
            tokens: Vec::with_capacity(capacity),
            capacity,
            kv_dim,
            layers: (0..self.config.num_layers)
                .map(|_| (vec![0f32; capacity * kv_dim], vec![0f32; capacity * kv_dim]))
                .collect(),
        }
    }

    /// Runs `tokens` at the end of `cache`; returns the logits of the last one.
    pub fn forward(&mut self, cache: &mut KvCache, tokens: &[u32]) -> Result<&[f32]> {
        self.forward_batch(&mut [cache], &[tokens])
    }

    /// Runs `tokens[i]` at the end of `caches[i]` for every sequence at once. Returns the logits
    /// of each sequence's last token: (sequences, vocab), row-major.
    pub fn forward_batch(
        &mut self,
        caches: &mut [&mut KvCache],
        tokens: &[&[u32]],
    ) -> Result<&[f32]> {
        // The whole pass runs on a pool thread: its ~200 parallel steps per token then fork
        // and join inside the pool, instead of each one waking the pool from outside and
        // putting the caller to sleep (measured: that round trip cost ~15% of decoding).
        rayon::scope(|_| self.forward_in_pool(caches, tokens, false))
    }

    /// Runs `tokens` at the end of `cache`; returns the logits of every one of them: (tokens,
    /// vocab), row-major. Each row equals, bit for bit, what [`Self::forward`] gives for that
    /// token alone (every step is computed row by row), so checking drafted tokens this way
    /// cannot change a greedy choice.
    pub fn forward_all(&mut self, cache: &mut KvCache, tokens: &[u32]) -> Result<&[f32]> {
        rayon::scope(|_| self.forward_in_pool(&mut [cache], &[tokens], true))
    }

    fn forward_in_pool(
        &mut self,
        caches: &mut [&mut KvCache],
        tokens: &[&[u32]],
        every_position: bool,
    ) -> Result<&[f32]> {
        self.check_batch(caches, tokens)?;
        let cfg = &self.config;
        let s = &mut self.scratch;
        s.embed(cfg, &self.embeddings, caches, tokens);
        for (l, layer) in self.layers.iter().enumerate() {
            s.attention_block(cfg, l, layer, &self.ropes[layer.rope], caches);
            s.feed_forward_block(cfg, layer);
        }
        for (cache, toks) in caches.iter_mut().zip(tokens) {
            cache.tokens.extend_from_slice(toks);
        }
        let head = self.lm_head.as_ref().unwrap_or(&self.embeddings);
        Ok(s.logits(cfg, &self.norm, head, self.vocab, tokens, every_position))
    }

    /// Rejects a batch this model cannot run: not one token list per cache, an empty list, more
    /// tokens than a cache has room for, a cache of another model, a token outside the
    /// vocabulary.
    fn check_batch(&self, caches: &[&mut KvCache], tokens: &[&[u32]]) -> Result<()> {
        if caches.len() != tokens.len() || caches.is_empty() {
            candle_core::bail!("forward_batch needs one token list per cache");
        }
        for (cache, toks) in caches.iter().zip(tokens) {
            if toks.is_empty() || cache.len() + toks.len() > cache.capacity {
                candle_core::bail!(
                    "{} tokens at position {} do not fit the {}-position cache",
                    toks.len(),
                    cache.len(),
                    cache.capacity
                );
            }
            if cache.kv_dim != self.config.kv_dim() || cache.layers.len() != self.layers.len() {
                candle_core::bail!("the cache belongs to another model");
            }
            if let Some(&bad) = toks.iter().find(|&&t| t as usize >= self.vocab) {
                candle_core::bail!("token id {bad} is outside the vocabulary of {}", self.vocab);
            }
        }
        Ok(())
    }
}

/// The steps of a forward pass, each over every row of the batch: `x` is the residual stream
/// (rows of `hidden_size`), `rows` says which sequence and position each row is.
impl Scratch {
    /// Lays out the batch (each sequence's tokens after what its cache holds) and puts each
    /// token's embedding into `x`.
    fn embed(
        &mut self,
        cfg: &Config,
        embeddings: &QuantMatrix,
        caches: &[&mut KvCache],
        tokens: &[&[u32]],
    ) {
        let hid = cfg.hidden_size;
        self.rows.clear();
        for (seq, (cache, toks)) in caches.iter().zip(tokens).enumerate() {
            self.rows
                .extend((0..toks.len()).map(|i| (seq, cache.len() + i)));
        }
        let x = resize(&mut self.x, self.rows.len() * hid);
        for (row, &tok) in x.chunks_mut(hid).zip(tokens.iter().flat_map(|t| t.iter())) {
            embeddings.dequantize_row(tok as usize, row);
            if cfg.embedding_scale != 1.0 {
                row.iter_mut().for_each(|v| *v *= cfg.embedding_scale);
            }
        }
    }

    /// Layer `l`'s attention block, added to the residual; each row's key and value are written
    /// into its sequence's cache at its position first.
    fn attention_block(
        &mut self,
        cfg: &Config,
        l: usize,
        layer: &Layer,
        rope: &RopeTable,
        caches: &mut [&mut KvCache],
    ) {
        let (m, hid, q_dim) = (self.rows.len(), cfg.hidden_size, cfg.q_dim());
        self.project_qkv(cfg, layer);
        self.rotate_and_cache(cfg, l, layer, rope, caches);
        self.attend(cfg, l, layer.window, caches);
        self.acts
            .quantize_for(&self.att[..m * q_dim], m, q_dim, Some(&layer.out));
        let tmp = resize(&mut self.tmp, m * hid);
        kernels::matmul(&layer.out, &self.acts, tmp);
        add_normed(
            &mut self.x,
            tmp,
            &layer.post_attn_norm,
            cfg.eps(),
            &mut self.h,
        );
    }

    /// `q`, `k` and `v`: the normalised residual times the three projections, in one parallel
    /// step.
    fn project_qkv(&mut self, cfg: &Config, layer: &Layer) {
        let (m, hid) = (self.rows.len(), cfg.hidden_size);
        let h = resize(&mut self.h, m * hid);
        ops::rms_norm(&self.x, &layer.attn_norm, cfg.eps(), h);
        self.acts.quantize_for(
            h,
            m,
            hid,
            Some(granularity_for(&[&layer.q, &layer.k, &layer.v])),
        );
        let q = resize(&mut self.q, m * cfg.q_dim());
        let k = resize(&mut self.k, m * cfg.kv_dim());
        let v = resize(&mut self.v, m * cfg.kv_dim());
        kernels::matmul_many(
            &mut [(&layer.q, q), (&layer.k, k), (&layer.v, v)],
            &self.acts,
        );
    }

    /// Row by row: biases and head norms (where the architecture has them) and the rotation of
    /// its position on the query and key; the key and value then go into layer `l` of the row's
    /// sequence's cache.
    fn rotate_and_cache(
        &mut self,
        cfg: &Config,
        l: usize,
        layer: &Layer,
        table: &RopeTable,
        caches: &mut [&mut KvCache],
    ) {
        let (q_dim, kv_dim, hd, eps) = (cfg.q_dim(), cfg.kv_dim(), cfg.head_dim(), cfg.eps());
        let half = hd / 2;
        let rope: fn(&mut [f32], usize, &[f32], &[f32]) = match cfg.rope_layout {
            RopeLayout::Halves => ops::rope,
            RopeLayout::Pairs => ops::rope_pairs,
        };
        for (r, &(seq, pos)) in self.rows.iter().enumerate() {
            let (cos, sin) = (
                &table.cos[pos * half..][..half],
                &table.sin[pos * half..][..half],
            );
            let qr = &mut self.q[r * q_dim..][..q_dim];
            add(qr, &layer.q_bias);
            norm_heads(qr, &layer.q_norm, eps);
            rope(qr, hd, cos, sin);
            let kr = &mut self.k[r * kv_dim..][..kv_dim];
            add(kr, &layer.k_bias);
            norm_heads(kr, &layer.k_norm, eps);
            rope(kr, hd, cos, sin);
            let vr = &mut self.v[r * kv_dim..][..kv_dim];
            add(vr, &layer.v_bias);
            let (kc, vc) = &mut caches[seq].layers[l];
            kc[pos * kv_dim..][..kv_dim].copy_from_slice(kr);
            vc[pos * kv_dim..][..kv_dim].copy_from_slice(vr);
        }
    }

    /// `att`: each row's query heads attending over layer `l` of its sequence's cache, up to its
    /// own position (the last `window` positions in a local layer).
    fn attend(&mut self, cfg: &Config, l: usize, window: Option<usize>, caches: &[&mut KvCache]) {
        let (q_dim, kv_dim, hd) = (cfg.q_dim(), cfg.kv_dim(), cfg.head_dim());
        let (n_heads, n_rep) = (cfg.num_heads, cfg.num_heads / cfg.num_kv_heads);
        let att = resize(&mut self.att, self.rows.len() * q_dim);
        let (scale, rows, q) = (cfg.attention_scale, &self.rows, &self.q[..]);
        // One task per (row, KV head): the query heads sharing a KV head read each cached
        // key and value once.
        let n_kv = n_heads / n_rep;
        att.par_chunks_mut(n_rep * hd)
            .enumerate()
            .for_each(|(idx, out)| {
                let (r, kv_head) = (idx / n_kv, idx % n_kv);
                let (seq, pos) = rows[r];
                let (kc, vc) = &caches[seq].layers[l];
                let qs = &q[r * q_dim + kv_head * n_rep * hd..][..n_rep * hd];
                let off = kv_head * hd;
                // Local layers see the last `window` positions, this one included.
                let first = window.map_or(0, |w| (pos + 1).saturating_sub(w));
                let (kc, vc) = (&kc[first * kv_dim..], &vc[first * kv_dim..]);
                let len = pos + 1 - first;
                SCORES.with_borrow_mut(|scores| {
                    ops::attend_heads(qs, hd, kc, vc, len, kv_dim, off, scale, scores, out)
                });
            });
    }

    /// The layer's feed-forward block (gated: activation(gate) * up, then down), added to the
    /// residual.
    fn feed_forward_block(&mut self, cfg: &Config, layer: &Layer) {
        let (m, hid, inter, eps) = (
            self.rows.len(),
            cfg.hidden_size,
            cfg.intermediate_size,
            cfg.eps(),
        );
        let h = resize(&mut self.h, m * hid);
        ops::rms_norm(&self.x, &layer.ffn_norm, eps, h);
        self.acts
            .quantize_for(h, m, hid, Some(granularity_for(&[&layer.gate, &layer.up])));
        let gate = resize(&mut self.gate, m * inter);
        let up = resize(&mut self.up, m * inter);
        kernels::matmul_many(
            &mut [(&layer.gate, &mut *gate), (&layer.up, &mut *up)],
            &self.acts,
        );
        match cfg.activation {
            Activation::Silu => ops::silu_mul(gate, up),
            Activation::GeluTanh => ops::gelu_tanh_mul(gate, up),
        }
        self.acts.quantize_for(gate, m, inter, Some(&layer.down));
        let tmp = resize(&mut self.tmp, m * hid);
        kernels::matmul(&layer.down, &self.acts, tmp);
        add_normed(&mut self.x, tmp, &layer.post_ffn_norm, eps, &mut self.h);
    }

    /// The final norm and the output `head`: logits, `vocab` per row, of each sequence's last
    /// token, or of every row with `every_position`.
    fn logits(
        &mut self,
        cfg: &Config,
        norm: &[f32],
        head: &QuantMatrix,
        vocab: usize,
        tokens: &[&[u32]],
        every_position: bool,
    ) -> &[f32] {
        let (hid, eps) = (cfg.hidden_size, cfg.eps());
        // Only each sequence's last token needs logits, unless all were asked for.
        let n = if every_position {
            self.rows.len()
        } else {
            tokens.len()
        };
        let h = resize(&mut self.h, n * hid);
        if every_position {
            for (x, h) in self.x.chunks(hid).zip(h.chunks_mut(hid)) {
                ops::rms_norm(x, norm, eps, h);
            }
        } else {
            let mut end = 0;
            for (i, toks) in tokens.iter().enumerate() {
                end += toks.len();
                ops::rms_norm(
                    &self.x[(end - 1) * hid..][..hid],
                    norm,
                    eps,
                    &mut h[i * hid..][..hid],
                );
            }
        }
        self.acts.quantize_for(h, n, hid, Some(head));
        let logits = resize(&mut self.logits, n * vocab);
        kernels::matmul(head, &self.acts, logits);
        if let Some(cap) = cfg.final_logit_softcap {
            logits.iter_mut().for_each(|v| *v = cap * (*v / cap).tanh());
        }
        logits
    }
}

/// In place: each head (`weight.len()` values) RMS-normalised and scaled by `weight`; nothing
/// when the architecture has no head norm (`weight` empty).
fn norm_heads(x: &mut [f32], weight: &[f32], eps: f32) {
    if weight.is_empty() {
        return;
    }
    for head in x.chunks_mut(weight.len()) {
        let mean_sq = head.iter().map(|v| v * v).sum::<f32>() / weight.len() as f32;
        let inv = 1.0 / (mean_sq + eps).sqrt();
        for (v, w) in head.iter_mut().zip(weight) {
            *v *= inv * w;
        }
    }
}

/// `x += rms_norm(y) * weight` (a block's output joining the residual through a post-norm,
/// normalised into `scratch`), or `x += y` when the architecture has no post-norm (`weight`
/// empty).
fn add_normed(x: &mut [f32], y: &[f32], weight: &[f32], eps: f32, scratch: &mut Vec<f32>) {
    if weight.is_empty() {
        return add(x, y);
    }
    let normed = resize(scratch, y.len());
    ops::rms_norm(y, weight, eps, normed);
    add(x, normed);
}

/// `x += y`; nothing when `y` is empty (a bias the architecture lacks).
fn add(x: &mut [f32], y: &[f32]) {
    for (x, y) in x.iter_mut().zip(y) {
        *x += y;
    }
}

thread_local! {
    /// Attention scores, one buffer per pool thread (no allocation per token).
    static SCORES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The matrix whose needs decide how activations shared by `products` are quantized: a
/// K-quant one if any (its tiles need one scale per 256, which every other kernel also reads).
fn granularity_for<'a>(products: &[&'a QuantMatrix]) -> &'a QuantMatrix {
    let k_quant = |w: &QuantMatrix| matches!(w.format(), WeightFormat::Q4K | WeightFormat::Q6K);
    products
        .iter()
        .copied()
        .find(|w| k_quant(w))
        .unwrap_or(products[0])
}

/// cos and sin of each rotary angle, `head_dim / 2` per position, for positions divided by
/// `scale` and frequencies divided by `factors` (when given, one per angle).
fn rope_table(head_dim: usize, theta: f32, scale: f32, factors: &[f32], len: usize) -> RopeTable {
    let half = head_dim / 2;
    let mut cos = Vec::with_capacity(len * half);
    let mut sin = Vec::with_capacity(len * half);
    for pos in 0..len {
        for i in 0..half {
            let factor = factors.get(i).copied().unwrap_or(1.0);
            let inv_freq = 1.0 / theta.powf(2.0 * i as f32 / head_dim as f32) / factor;
            let angle = pos as f32 / scale * inv_freq;
            cos.push(angle.cos());
            sin.push(angle.sin());
        }
    }
    RopeTable { cos, sin }
}

/// Puts everything multiplied (not the embeddings, read a row at a time) into tiles where this
/// CPU's fastest kernels want them, read from or written to `tile_cache`.
fn tile_multiplied(
    layers: &mut [Layer],
    lm_head: Option<&mut QuantMatrix>,
    tile_cache: Option<&kernels::TileCache>,
) -> (kernels::Tiling, Option<kernels::PendingWrite>) {
    let mut multiplied: Vec<&mut QuantMatrix> = layers
        .iter_mut()
        .flat_map(|l| {
            [
                &mut l.q,
                &mut l.k,
                &mut l.v,
                &mut l.out,
                &mut l.gate,
                &mut l.up,
                &mut l.down,
            ]
        })
        .chain(lm_head)
        .collect();
    kernels::tile_for_cpu(&mut multiplied, tile_cache)
}

/// Reads tensors out of the mapped file.
struct Loader<'a> {
    ct: &'a gguf_file::Content,
    map: &'a Arc<memmap2::Mmap>,
}

impl Loader<'_> {
    fn info(&self, name: &str) -> Result<&gguf_file::TensorInfo> {
        self.ct
            .tensor_infos
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("tensor `{name}` is missing")))
    }

    /// The token embeddings, checked against the width of the hidden state.
    fn embeddings(&self, config: &Config) -> Result<QuantMatrix> {
        let embeddings = self.matrix("token_embd.weight")?;
        let hidden = embeddings.cols();
        if hidden != config.hidden_size {
            candle_core::bail!(
                "token_embd.weight has width {hidden}, expected {}",
                config.hidden_size
            );
        }
        Ok(embeddings)
    }

    /// Layer `i`'s weights, each checked against the shape `config` gives it; the optional ones
    /// (biases, head norms, post-norms) only where the architecture has them.
    fn layer(&self, config: &Config, i: usize) -> Result<Layer> {
        let (h, qd, kv, hd, inter) = (
            config.hidden_size,
            config.q_dim(),
            config.kv_dim(),
            config.head_dim(),
            config.intermediate_size,
        );
        let local = config.sliding_window.is_some_and(|w| w.is_local(i));
        let name = |suffix: &str| format!("blk.{i}.{suffix}");
        let m = |suffix: &str, rows: usize, cols: usize| -> Result<QuantMatrix> {
            let w = self.matrix(&name(suffix))?;
            if (w.rows(), w.cols()) != (rows, cols) {
                candle_core::bail!(
                    "{} has shape ({}, {}), expected ({rows}, {cols})",
                    name(suffix),
                    w.rows(),
                    w.cols()
                );
            }
            Ok(w)
        };
        let v = |suffix: &str, len: usize| self.vector(&name(suffix), len);
        let v_if = |present: bool, suffix: &str, len: usize| {
            if present {
                v(suffix, len)
            } else {
                Ok(Vec::new())
            }
        };
        Ok(Layer {
            attn_norm: v("attn_norm.weight", h)?,
            q: m("attn_q.weight", qd, h)?,
            k: m("attn_k.weight", kv, h)?,
            v: m("attn_v.weight", kv, h)?,
            q_bias: v_if(config.qkv_bias, "attn_q.bias", qd)?,
            k_bias: v_if(config.qkv_bias, "attn_k.bias", kv)?,
            v_bias: v_if(config.qkv_bias, "attn_v.bias", kv)?,
            q_norm: v_if(config.qk_norm, "attn_q_norm.weight", hd)?,
            k_norm: v_if(config.qk_norm, "attn_k_norm.weight", hd)?,
            out: m("attn_output.weight", h, qd)?,
            post_attn_norm: v_if(config.post_norms, "post_attention_norm.weight", h)?,
            post_ffn_norm: v_if(config.post_norms, "post_ffw_norm.weight", h)?,
            ffn_norm: v("ffn_norm.weight", h)?,
            gate: m("ffn_gate.weight", inter, h)?,
            up: m("ffn_up.weight", inter, h)?,
            down: m("ffn_down.weight", h, inter)?,
            rope: usize::from(local),
            window: local
                .then(|| config.sliding_window.map(|w| w.size))
                .flatten(),
        })
    }

    /// The rotary tables for `max_positions` positions: the global one, then the local layers'
    /// one where the architecture has local layers ([`Layer::rope`] indexes them).
    fn rope_tables(&self, config: &Config, max_positions: usize) -> Result<Vec<RopeTable>> {
        // Llama 3's long-context frequency factors, where the file has them.
        let factors = if self.ct.tensor_infos.contains_key("rope_freqs.weight") {
            self.vector("rope_freqs.weight", config.head_dim() / 2)?
        } else {
            Vec::new()
        };
        let table = |theta: f32, scale: f32| {
            rope_table(config.head_dim(), theta, scale, &factors, max_positions)
        };
        let mut ropes = vec![table(config.rope_theta, config.rope_scale)];
        if let Some(w) = config.sliding_window {
            // Local layers are not scaled: they never see far positions.
            ropes.push(table(w.rope_theta, 1.0));
        }
        Ok(ropes)
    }

    /// A weight matrix: mapped in place when our kernels read its format, otherwise converted
    /// once to Q8_0.
    fn matrix(&self, name: &str) -> Result<QuantMatrix> {
        let info = self.info(name)?;
        let (rows, cols) = info.shape.dims2()?;
        let bad =
            |e: kernels::KernelError| candle_core::Error::Msg(format!("tensor `{name}`: {e}"));
        match WeightFormat::from_ggml(info.ggml_dtype) {
            Some(format) => {
                let start =
                    usize::try_from(self.ct.tensor_data_offset + info.offset).map_err(|_| {
                        candle_core::Error::Msg(format!("tensor `{name}` is out of range"))
                    })?;
                let len = rows * cols / format.block_elems() * format.block_bytes();
                if cols % format.block_elems() != 0
                    || start
                        .checked_add(len)
                        .is_none_or(|end| end > self.map.len())
                {
                    candle_core::bail!("tensor `{name}` lies beyond the end of the file");
                }
                let bytes = WeightBytes::Mapped {
                    map: self.map.clone(),
                    start,
                    len,
                };
                QuantMatrix::new(format, rows, cols, bytes).map_err(bad)
            }
            None => {
                if cols % kernels::GROUP != 0 {
                    candle_core::bail!("tensor `{name}` has rows of {cols}, not a multiple of 32");
                }
                let values = self.dense(name)?;
                let bytes = WeightBytes::Owned(kernels::quantize_q8_0(&values));
                QuantMatrix::new(WeightFormat::Q8_0, rows, cols, bytes).map_err(bad)
            }
        }
    }

    /// A small tensor (norm weights, biases) as f32 values.
    fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        let v = self.dense(name)?;
        if v.len() != len {
            candle_core::bail!("tensor `{name}` has {} values, expected {len}", v.len());
        }
        Ok(v)
    }

    fn dense(&self, name: &str) -> Result<Vec<f32>> {
        let mut reader = Cursor::new(&self.map[..]);
        let t = self.ct.tensor(&mut reader, name, &Device::Cpu)?;
        t.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1()
    }
}

/// Greedy choice: the index of the largest logit.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in logits.iter().enumerate() {
        if *v > logits[best] {
            best = i;
        }
    }
    best as u32
}
