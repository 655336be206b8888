//! Qwen2 / Qwen2.5 decoder for quantized GGUF weights, built for serving one conversation after
//! another on a CPU:
//! - the KV cache is allocated once per layer at full length and written in place (no
//!   concatenation, no copies as the sequence grows);
//! - grouped-query attention runs without repeating K/V: query heads are grouped per KV head;
//! - the cache keeps the tokens it holds, so a new prompt that starts like the previous one
//!   (same instructions) only processes the new part ([`Qwen2::prefix_len`]);
//! - causal masks are built per call and not cached (no memory growth over an app's life).

use std::borrow::Cow;
use std::sync::Arc;

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_transformers::quantized_nn::RmsNorm;
use serde::{Deserialize, Serialize};

/// The architecture's hyper-parameters, read from GGUF metadata (`qwen2.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub context_length: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f32,
}

impl Config {
    pub fn from_gguf(ct: &gguf_file::Content) -> Result<Self> {
        let get = |key: &str| {
            ct.metadata
                .get(key)
                .ok_or_else(|| candle_core::Error::Msg(format!("metadata key `{key}` is missing")))
        };
        Ok(Self {
            hidden_size: get("qwen2.embedding_length")?.to_u32()? as usize,
            num_layers: get("qwen2.block_count")?.to_u32()? as usize,
            num_heads: get("qwen2.attention.head_count")?.to_u32()? as usize,
            num_kv_heads: get("qwen2.attention.head_count_kv")?.to_u32()? as usize,
            context_length: get("qwen2.context_length")?.to_u32()? as usize,
            rms_norm_eps: get("qwen2.attention.layer_norm_rms_epsilon")?.to_f32()? as f64,
            rope_theta: get("qwen2.rope.freq_base")
                .and_then(|v| v.to_f32())
                .unwrap_or(10_000.0),
        })
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_heads
    }
}

/// The token embedding table, kept quantized: rows are dequantized only for the tokens looked
/// up. (Expanded to f32 it would be 0.5–0.9 GB for these models, more than the rest of the
/// weights.)
struct Embeddings {
    table: Arc<QTensor>,
    dtype: GgmlDType,
    rows: usize,
    hidden: usize,
    row_bytes: usize,
}

impl Embeddings {
    fn new(table: Arc<QTensor>) -> Result<Self> {
        let (rows, hidden) = table.shape().dims2()?;
        let dtype = table.dtype();
        if hidden % dtype.block_size() != 0 {
            candle_core::bail!(
                "embedding width {hidden} is not a multiple of the {dtype:?} block size"
            );
        }
        let row_bytes = hidden / dtype.block_size() * dtype.type_size();
        if table.data()?.len() != rows * row_bytes {
            candle_core::bail!("embedding table layout is not the plain GGUF {dtype:?} layout");
        }
        Ok(Self {
            table,
            dtype,
            rows,
            hidden,
            row_bytes,
        })
    }

    /// (n, hidden) f32 rows for `ids`.
    fn lookup(&self, ids: &[u32], device: &Device) -> Result<Tensor> {
        let data = self.table.data()?;
        let mut bytes = Vec::with_capacity(ids.len() * self.row_bytes);
        for &id in ids {
            let id = id as usize;
            if id >= self.rows {
                candle_core::bail!("token id {id} is outside the vocabulary of {}", self.rows);
            }
            bytes.extend_from_slice(&data[id * self.row_bytes..(id + 1) * self.row_bytes]);
        }
        let storage = QStorage::from_data(Cow::Owned(bytes), device, self.dtype)?;
        QTensor::new(storage, (ids.len(), self.hidden))?.dequantize(device)
    }
}

struct Attention {
    q: QMatMul,
    k: QMatMul,
    v: QMatMul,
    q_bias: Tensor,
    k_bias: Tensor,
    v_bias: Tensor,
    out: QMatMul,
}

struct Layer {
    attn_norm: RmsNorm,
    attn: Attention,
    ffn_norm: RmsNorm,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
    /// (1, kv_heads, capacity, head_dim), written in place.
    k_cache: Tensor,
    v_cache: Tensor,
}

pub struct Qwen2 {
    config: Config,
    embeddings: Embeddings,
    layers: Vec<Layer>,
    norm: RmsNorm,
    lm_head: QMatMul,
    cos: Tensor,
    sin: Tensor,
    /// The tokens whose keys and values are in the cache, in order.
    cached: Vec<u32>,
    capacity: usize,
    device: Device,
}

impl Qwen2 {
    /// Loads the weights; the KV cache holds `capacity` positions (at most the model's context).
    pub fn from_gguf<R: std::io::Read + std::io::Seek>(
        ct: &gguf_file::Content,
        reader: &mut R,
        capacity: usize,
        device: &Device,
    ) -> Result<Self> {
        let config = Config::from_gguf(ct)?;
        let capacity = capacity.min(config.context_length).max(1);
        let mut tensor = |name: &str| ct.tensor(reader, name, device);
        let table = Arc::new(tensor("token_embd.weight")?);
        let embeddings = Embeddings::new(table.clone())?;
        let norm = RmsNorm::from_qtensor(tensor("output_norm.weight")?, config.rms_norm_eps)?;
        let lm_head = match tensor("output.weight") {
            Ok(w) => QMatMul::from_qtensor(w)?,
            // Tied embeddings: the output layer shares the quantized embedding table.
            Err(_) => QMatMul::from_arc(table)?,
        };
        let (hd, kv) = (config.head_dim(), config.num_kv_heads);
        let mut layers = Vec::with_capacity(config.num_layers);
        for i in 0..config.num_layers {
            let mut t = |suffix: &str| tensor(&format!("blk.{i}.{suffix}"));
            let attn = Attention {
                q: QMatMul::from_qtensor(t("attn_q.weight")?)?,
                k: QMatMul::from_qtensor(t("attn_k.weight")?)?,
                v: QMatMul::from_qtensor(t("attn_v.weight")?)?,
                q_bias: t("attn_q.bias")?.dequantize(device)?,
                k_bias: t("attn_k.bias")?.dequantize(device)?,
                v_bias: t("attn_v.bias")?.dequantize(device)?,
                out: QMatMul::from_qtensor(t("attn_output.weight")?)?,
            };
            layers.push(Layer {
                attn_norm: RmsNorm::from_qtensor(t("attn_norm.weight")?, config.rms_norm_eps)?,
                attn,
                ffn_norm: RmsNorm::from_qtensor(t("ffn_norm.weight")?, config.rms_norm_eps)?,
                gate: QMatMul::from_qtensor(t("ffn_gate.weight")?)?,
                up: QMatMul::from_qtensor(t("ffn_up.weight")?)?,
                down: QMatMul::from_qtensor(t("ffn_down.weight")?)?,
                k_cache: Tensor::zeros((1, kv, capacity, hd), DType::F32, device)?,
                v_cache: Tensor::zeros((1, kv, capacity, hd), DType::F32, device)?,
            });
        }
        let (cos, sin) = rope_tables(hd, config.rope_theta, capacity, device)?;
        Ok(Self {
            config,
            embeddings,
            layers,
            norm,
            lm_head,
            cos,
            sin,
            cached: Vec::new(),
            capacity,
            device: device.clone(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many leading tokens of `prompt` are already in the cache and need no processing.
    /// At least one token is always left to process, so there are logits to sample from.
    pub fn prefix_len(&self, prompt: &[u32]) -> usize {
        let common = self
            .cached
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count();
        common.min(prompt.len().saturating_sub(1))
    }

    /// Forgets cached positions from `len` on.
    pub fn truncate_cache(&mut self, len: usize) {
        self.cached.truncate(len);
    }

    /// Runs `tokens` at the end of the cache and returns the logits of the last one, shape
    /// (vocab,). The cache grows by `tokens.len()`.
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Tensor> {
        let pos = self.cached.len();
        let seq = tokens.len();
        if seq == 0 || pos + seq > self.capacity {
            candle_core::bail!(
                "{} tokens at position {pos} do not fit the {}-token cache",
                seq,
                self.capacity
            );
        }
        let (n_heads, n_kv, hd) = (
            self.config.num_heads,
            self.config.num_kv_heads,
            self.config.head_dim(),
        );
        let n_rep = n_heads / n_kv;
        let mut x = self.embeddings.lookup(tokens, &self.device)?.unsqueeze(0)?; // (1, seq, hidden)
        let cos = self.cos.narrow(0, pos, seq)?;
        let sin = self.sin.narrow(0, pos, seq)?;
        let mask = if seq > 1 {
            Some(causal_mask(seq, pos, &self.device)?)
        } else {
            None
        };
        let total = pos + seq;
        for layer in &mut self.layers {
            let residual = &x;
            let h = layer.attn_norm.forward(&x)?;
            let a = &layer.attn;
            let q = a.q.forward(&h)?.broadcast_add(&a.q_bias)?;
            let k = a.k.forward(&h)?.broadcast_add(&a.k_bias)?;
            let v = a.v.forward(&h)?.broadcast_add(&a.v_bias)?;
            let q = q
                .reshape((1, seq, n_heads, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let k = k
                .reshape((1, seq, n_kv, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let v = v
                .reshape((1, seq, n_kv, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let q = candle_nn::rotary_emb::rope(&q, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope(&k, &cos, &sin)?;
            layer.k_cache.slice_set(&k, 2, pos)?;
            layer.v_cache.slice_set(&v, 2, pos)?;
            // Decoding reads the cache in place; a prefill is faster on compact copies (the
            // matmul kernels prefer contiguous operands, and the copy is small next to it).
            let (keys, values) = if seq == 1 {
                (
                    layer.k_cache.narrow(2, 0, total)?,
                    layer.v_cache.narrow(2, 0, total)?,
                )
            } else {
                (
                    layer.k_cache.narrow(2, 0, total)?.contiguous()?,
                    layer.v_cache.narrow(2, 0, total)?.contiguous()?,
                )
            };
            // Group the query heads that share a KV head: (1, kv, rep*seq, hd).
            let q = q.reshape((1, n_kv, n_rep * seq, hd))?;
            let scores = (q.matmul(&keys.t()?)? * (1.0 / (hd as f64).sqrt()))?;
            let scores = match &mask {
                Some(m) => scores
                    .reshape((1, n_kv, n_rep, seq, total))?
                    .broadcast_add(m)?
                    .reshape((1, n_kv, n_rep * seq, total))?,
                None => scores,
            };
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let y = probs.matmul(&values)?; // (1, kv, rep*seq, hd)
            let y = y
                .reshape((1, n_heads, seq, hd))?
                .transpose(1, 2)?
                .reshape((1, seq, n_heads * hd))?;
            let x1 = (a.out.forward(&y)? + residual)?;
            let h = layer.ffn_norm.forward(&x1)?;
            let gated =
                (candle_nn::ops::silu(&layer.gate.forward(&h)?)? * layer.up.forward(&h)?)?;
            x = (layer.down.forward(&gated)? + x1)?;
        }
        self.cached.extend_from_slice(tokens);
        let last = x.narrow(1, seq - 1, 1)?;
        let last = self.norm.forward(&last)?;
        self.lm_head.forward(&last)?.flatten_all()
    }
}

fn rope_tables(
    head_dim: usize,
    theta: f32,
    len: usize,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let inv_freq: Vec<f32> = (0..head_dim / 2)
        .map(|i| 1.0 / theta.powf(2.0 * i as f32 / head_dim as f32))
        .collect();
    let inv_freq = Tensor::new(inv_freq.as_slice(), device)?.reshape((1, head_dim / 2))?;
    let positions = Tensor::arange(0u32, len as u32, device)?
        .to_dtype(DType::F32)?
        .reshape((len, 1))?;
    let angles = positions.matmul(&inv_freq)?;
    Ok((angles.cos()?, angles.sin()?))
}

/// Additive mask (seq, pos+seq): query i (at position pos+i) sees keys 0..=pos+i.
fn causal_mask(seq: usize, pos: usize, device: &Device) -> Result<Tensor> {
    let total = pos + seq;
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..total).map(move |j| if j > pos + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (seq, total), device)
}

/// Greedy argmax over logits (shape (vocab,)).
pub fn argmax(logits: &Tensor) -> Result<u32> {
    logits.argmax(D::Minus1)?.to_scalar::<u32>()
}
