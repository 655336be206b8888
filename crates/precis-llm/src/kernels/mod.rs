//! Quantized matrix multiplication for GGUF weights on the CPU.
//!
//! Why our own: candle's CPU kernels re-read (and re-decode) every weight row once per token of
//! the batch, pick SIMD at compile time only, and lack a vectorised Q5_0 dot product. Here:
//! - activations are quantized once per call to 8-bit groups of 32 with an f32 scale and the
//!   group sums (for formats with a minimum or an offset);
//! - where the CPU has AVX2, the model's matrices are repacked at load into 16-row tiles
//!   ([`tile_for_cpu`], `tiled.rs`) that one instruction multiplies 16 (AVX-512) or 8 (AVX2)
//!   rows at a time; other matrices use row kernels on the GGUF layout, where each decoded
//!   weight group serves a block of up to eight activation rows;
//! - AVX-512 VNNI and AVX2/FMA/F16C kernels are chosen at run time ([`cpu`]); other CPUs get
//!   the portable scalar path, which is also the reference the SIMD paths are tested against;
//! - tiles or rows are split across the rayon pool, several products of the same activations
//!   in one parallel step ([`matmul_many`]).
//!
//! Supported weight formats are the ones the Qwen2.5 GGUF files use (Q8_0, Q5_0, Q4_0, Q4_K,
//! Q6_K). The model loader converts any other format to Q8_0 once at load time.

use std::sync::Arc;

// The kernels index several parallel per-row arrays (accumulators, scales) with one counter.
#[allow(clippy::needless_range_loop)]
mod avx2;
#[allow(clippy::needless_range_loop)]
mod avx512;
mod formats;
pub mod ops;
mod tile_cache;
mod tiled;

use rayon::prelude::*;

pub use formats::{quantize_q8_0, WeightFormat};
pub use tile_cache::{model_key, PendingWrite, TileCache};

/// Elements per quantization group of the activations (and of every weight format's groups).
pub const GROUP: usize = 32;

/// What the CPU offers, detected once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuFeatures {
    /// AVX2 + FMA + F16C: the 256-bit integer and float kernels.
    pub avx2: bool,
    /// AVX-VNNI on top: the 256-bit tile kernels use `vpdpbusd`.
    pub avx_vnni: bool,
    /// AVX-512 F/BW/DQ/VL + VNNI: the 512-bit integer kernels.
    pub avx512: bool,
}

pub fn cpu() -> CpuFeatures {
    static FEATURES: std::sync::OnceLock<CpuFeatures> = std::sync::OnceLock::new();
    *FEATURES.get_or_init(|| {
        // PRECIS_SIMD=avxvnni, =avx2 or =none caps what is used (to compare, or to rule a
        // kernel out).
        let cap = std::env::var("PRECIS_SIMD").unwrap_or_default();
        let avx2 = cap != "none" && avx2::available();
        CpuFeatures {
            avx2,
            avx_vnni: avx2 && cap != "avx2" && avx2::vnni_available(),
            avx512: avx2 && !matches!(cap.as_str(), "avx2" | "avxvnni") && avx512::available(),
        }
    })
}

/// Where a weight matrix's bytes live: in the memory-mapped model file (no copy) or in memory
/// (a tensor converted at load time).
pub enum WeightBytes {
    Mapped {
        map: std::sync::Arc<memmap2::Mmap>,
        start: usize,
        len: usize,
    },
    Owned(Vec<u8>),
}

impl WeightBytes {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            WeightBytes::Mapped { map, start, len } => &map[*start..*start + *len],
            WeightBytes::Owned(v) => v,
        }
    }
}

/// A quantized weight matrix of `rows` outputs by `cols` inputs, in GGUF block layout, row by
/// row.
pub struct QuantMatrix {
    format: WeightFormat,
    rows: usize,
    cols: usize,
    row_bytes: usize,
    bytes: WeightBytes,
    /// The same weights repacked for the AVX-512 kernels (Q4_K, Q6_K), when they run.
    tiles: Option<tiled::Tiles>,
}

/// Why a tensor cannot be used as a [`QuantMatrix`].
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("a row of {cols} values is not a whole number of {format:?} blocks")]
    Ragged { format: WeightFormat, cols: usize },
    #[error("the tensor has {have} bytes, its shape needs {need}")]
    Size { have: usize, need: usize },
}

impl QuantMatrix {
    pub fn new(
        format: WeightFormat,
        rows: usize,
        cols: usize,
        bytes: WeightBytes,
    ) -> Result<Self, KernelError> {
        if cols == 0 || !cols.is_multiple_of(format.block_elems()) {
            return Err(KernelError::Ragged { format, cols });
        }
        let row_bytes = cols / format.block_elems() * format.block_bytes();
        let have = bytes.as_slice().len();
        if have != rows * row_bytes {
            return Err(KernelError::Size {
                have,
                need: rows * row_bytes,
            });
        }
        Ok(Self {
            format,
            rows,
            cols,
            row_bytes,
            bytes,
            tiles: None,
        })
    }

    /// Whether [`tile_for_cpu`] repacked this matrix.
    pub fn is_tiled(&self) -> bool {
        self.tiles.is_some()
    }

    pub fn format(&self) -> WeightFormat {
        self.format
    }
    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn cols(&self) -> usize {
        self.cols
    }

    fn row(&self, r: usize) -> &[u8] {
        &self.bytes.as_slice()[r * self.row_bytes..(r + 1) * self.row_bytes]
    }

    /// Row `r` as f32 values (embedding lookups, tests).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let row = self.row(r);
        for g in 0..self.cols / GROUP {
            let group = formats::decode_group(self.format, row, g);
            for (j, o) in out[g * GROUP..(g + 1) * GROUP].iter_mut().enumerate() {
                let sub = group.sub[j / 16] as f32;
                *o = group.scale * sub * group.w[j] as f32 - group.min;
            }
        }
    }
}

/// How [`tile_for_cpu`] prepared a model's matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tiling {
    /// Kept in the GGUF layout (no AVX2, nothing tileable, `PRECIS_NO_TILES=1`, no memory).
    None,
    /// Repacked now (and being written to the tile cache, when one was given).
    Repacked,
    /// Read from the tile cache.
    FromCache,
}

/// Repacks the matrices into tiles when this CPU's fastest kernels read them (AVX-512 or
/// AVX2, and Q4_K, Q6_K, Q8_0 or Q5_0 matrices of whole tiles), all in one arena on huge pages;
/// with a `cache`, reads the arena from it when it matches, else starts writing it there after
/// the repack (the [`tile_cache::PendingWrite`] returned). Mapped pages read for the repack are
/// handed back to the page cache, so the process keeps one copy. Rows stay readable
/// ([`QuantMatrix::dequantize_row`] reads the file again). `PRECIS_NO_TILES=1` keeps the GGUF
/// layout (to compare).
pub fn tile_for_cpu(
    matrices: &mut [&mut QuantMatrix],
    cache: Option<&TileCache>,
) -> (Tiling, Option<tile_cache::PendingWrite>) {
    if !cpu().avx2 || std::env::var_os("PRECIS_NO_TILES").is_some_and(|v| v == "1") {
        return (Tiling::None, None);
    }
    let sources: Vec<tiled::Source> = matrices
        .iter()
        .map(|m| (m.format, m.bytes.as_slice(), m.rows, m.cols))
        .collect();
    let layout = tiled::Layout::of(&sources);
    let (arena, tiling, writing) = match cache.and_then(|c| c.load(&layout)) {
        Some(arena) => (Arc::new(arena), Tiling::FromCache, None),
        None => {
            let Some(mut arena) = layout.arena() else {
                return (Tiling::None, None);
            };
            let release = |i: usize| {
                if let WeightBytes::Mapped { map, start, len } = &matrices[i].bytes {
                    // SAFETY: a read-only file mapping: dropped pages read back the same bytes
                    // from the file on next access. Only the resident-memory figure changes.
                    let advice = memmap2::UncheckedAdvice::DontNeed;
                    let _ = unsafe { map.unchecked_advise_range(advice, *start, *len) };
                }
            };
            layout.repack(&sources, &mut arena, release);
            let arena = Arc::new(arena);
            let writing = cache.map(|c| c.store_in_background(&layout, arena.clone()));
            (arena, Tiling::Repacked, writing)
        }
    };
    for (m, tiles) in matrices.iter_mut().zip(layout.tiles(&arena)) {
        if tiles.is_some() {
            m.tiles = tiles;
        }
    }
    (tiling, writing)
}

/// Activations quantized to 8 bits in groups of [`GROUP`]: per group an f32 scale and
/// `scale * Σq` (used by formats with a minimum). The buffers are reused between calls.
#[derive(Default)]
pub struct QuantizedActs {
    rows: usize,
    cols: usize,
    /// Values sharing one scale: 32, or 256 for K-quant weights (ggml's Q8_K granularity; the
    /// per-group scales are then equal within each 256).
    block: usize,
    q: Vec<i8>,
    scale: Vec<f32>,
    sum: Vec<f32>,
    /// Σq per 16 values (Q6_K's tiles take their offset of 32 off with it).
    sum16: Vec<i32>,
    /// For the AVX-512 kernels: `q + 128` as unsigned bytes.
    qu: Vec<u8>,
}

impl QuantizedActs {
    /// Quantizes `x`, `rows` rows of `cols` values (`cols` a multiple of [`GROUP`]), one scale
    /// per 32 values.
    pub fn quantize(&mut self, x: &[f32], rows: usize, cols: usize) {
        self.quantize_for(x, rows, cols, None)
    }

    /// As [`Self::quantize`], with the scale granularity that suits `w`'s kernels best: one per
    /// 256 values for K-quant weights (what llama.cpp does too), else one per 32.
    pub fn quantize_for(&mut self, x: &[f32], rows: usize, cols: usize, w: Option<&QuantMatrix>) {
        assert_eq!(x.len(), rows * cols, "activation shape");
        assert_eq!(
            cols % GROUP,
            0,
            "activation width must be a multiple of {GROUP}"
        );
        let k_quant = w.is_some_and(|w| matches!(w.format, WeightFormat::Q4K | WeightFormat::Q6K));
        let block = if k_quant && cols.is_multiple_of(256) {
            256
        } else {
            GROUP
        };
        self.block = block;
        let groups = rows * cols / GROUP;
        self.rows = rows;
        self.cols = cols;
        self.q.resize(rows * cols, 0);
        self.scale.resize(groups, 0.0);
        self.sum.resize(groups, 0.0);
        self.sum16.resize(2 * groups, 0);
        let per = block / GROUP;
        let work = self
            .q
            .par_chunks_mut(block)
            .zip(self.scale.par_chunks_mut(per))
            .zip(self.sum.par_chunks_mut(per))
            .zip(self.sum16.par_chunks_mut(2 * per))
            .zip(x.par_chunks(block));
        work.with_min_len(64 / per)
            .for_each(|((((q, scale), sum), sum16), x)| {
                let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
                let d = amax / 127.0;
                let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
                // Per 32, the scale is kept at f16 precision as ggml's Q8_0 activations have it
                // (Q8_K's per-256 scale is f32).
                let d_used = if block == GROUP {
                    half::f16::from_f32(d).to_f32()
                } else {
                    d
                };
                for (((q, x), (scale, sum)), sum16) in q
                    .chunks_mut(GROUP)
                    .zip(x.chunks(GROUP))
                    .zip(scale.iter_mut().zip(sum.iter_mut()))
                    .zip(sum16.chunks_mut(2))
                {
                    for ((q, x), half) in q.chunks_mut(16).zip(x.chunks(16)).zip(sum16.iter_mut()) {
                        let mut s = 0i32;
                        for (q, v) in q.iter_mut().zip(x) {
                            let v = round_half_away(v * inv);
                            *q = v as i8;
                            s += v;
                        }
                        *half = s;
                    }
                    *scale = d_used;
                    *sum = d_used * (sum16[0] + sum16[1]) as f32;
                }
            });
        if cpu().avx512 {
            avx512::expand_scales(self);
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// `x.round() as i32` (half away from zero) for |x| < 2^23, without the libm call `round` is
/// on baseline x86-64 (2 % of prefill): `x - trunc(x)` is exact, so comparing it with ±0.5
/// decides exactly as `round` does, and the loop around it vectorises.
#[inline(always)]
fn round_half_away(x: f32) -> i32 {
    let whole = x as i32;
    let frac = x - whole as f32;
    whole + i32::from(frac >= 0.5) - i32::from(frac <= -0.5)
}

/// Multiply-adds below which a matmul is not split across threads (measured: waking the
/// pool costs more than the work for a 128 × 896 projection of one token).
const SERIAL_BELOW: usize = 1 << 18;

/// Raw output pointer shared by the tasks of one matmul; each task writes its own columns.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: tasks write disjoint elements (distinct weight rows) and the matmul joins them before
// the buffer is used again.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// `out[i * w.rows + r] = Σ_c acts[i][c] * w[r][c]` for every activation row `i` and weight
/// row `r`: out is (acts.rows, w.rows), row-major.
pub fn matmul(w: &QuantMatrix, acts: &QuantizedActs, out: &mut [f32]) {
    matmul_many(&mut [(w, out)], acts)
}

/// Several products of the same activations (Q, K and V; gate and up) as one parallel step:
/// one fork and join instead of one per matrix. Each pair is (weights, output) as in
/// [`matmul`].
pub fn matmul_many(products: &mut [(&QuantMatrix, &mut [f32])], acts: &QuantizedActs) {
    assert!(
        products.len() <= MAX_PRODUCTS,
        "matmul_many: at most {MAX_PRODUCTS} products"
    );
    let m = acts.rows;
    let mut work = 0;
    for (w, out) in products.iter() {
        assert_eq!(acts.cols, w.cols, "matmul: inner dimensions differ");
        assert_eq!(out.len(), m * w.rows, "matmul: output shape");
        work += m * w.rows * w.cols;
    }
    let threads = rayon::current_num_threads().max(1);
    // Each product is cut into units (tiles of 16 rows, or rows) and the units into chunks:
    // enough chunks to balance the cores, each big enough to amortise its task.
    // (kernel, units, units per chunk, output); fixed-size, so nothing is allocated per call.
    let mut plans = [(Kernel::Portable, 0, 1, OutPtr(std::ptr::null_mut())); MAX_PRODUCTS];
    for (plan, (w, out)) in plans.iter_mut().zip(products.iter_mut()) {
        let kernel = Kernel::for_product(w, acts);
        let units = kernel.units(w);
        let min_chunk = if matches!(kernel, Kernel::Tiled) {
            1
        } else {
            16
        };
        let chunk = units.div_ceil(threads * 8).max(min_chunk);
        *plan = (kernel, units, chunk, OutPtr(out.as_mut_ptr()));
    }
    let plans = &plans[..products.len()];
    let run = |p: usize, chunk: usize| {
        let (kernel, units, size, ptr) = plans[p];
        let range = chunk * size..((chunk + 1) * size).min(units);
        // SAFETY: `Kernel::for_product` picked a kernel this CPU and these activations suit;
        // the range is in bounds and this task alone writes its output columns.
        unsafe { kernel.run(products[p].0, acts, range, ptr.0) }
    };
    // A small product (K/V projections of one token) runs on the calling thread without
    // waking the others.
    if work < SERIAL_BELOW {
        for (p, &(_, units, size, _)) in plans.iter().enumerate() {
            for c in 0..units.div_ceil(size) {
                run(p, c);
            }
        }
        return;
    }
    let total: usize = plans
        .iter()
        .map(|&(_, units, size, _)| units.div_ceil(size))
        .sum();
    (0..total).into_par_iter().for_each(|mut c| {
        for (p, &(_, units, size, _)) in plans.iter().enumerate() {
            let chunks = units.div_ceil(size);
            if c < chunks {
                return run(p, c);
            }
            c -= chunks;
        }
    });
}

/// The most products [`matmul_many`] takes at once.
pub const MAX_PRODUCTS: usize = 4;

/// Which kernel multiplies a given product.
#[derive(Clone, Copy)]
enum Kernel {
    Tiled,
    Avx512,
    Avx2,
    Portable,
}

impl Kernel {
    fn for_product(w: &QuantMatrix, acts: &QuantizedActs) -> Self {
        let features = cpu();
        // K-quant tiles need one activation scale per 256 (the others take either granularity).
        let k_quant = matches!(w.format, WeightFormat::Q4K | WeightFormat::Q6K);
        if w.tiles.is_some() && (!k_quant || acts.block == 256) {
            Kernel::Tiled
        } else if features.avx512 && avx512::handles(w) {
            Kernel::Avx512
        } else if features.avx2 {
            Kernel::Avx2
        } else {
            Kernel::Portable
        }
    }

    /// Units of work: tiles of 16 rows, or rows.
    fn units(self, w: &QuantMatrix) -> usize {
        match self {
            Kernel::Tiled => w.rows / tiled::TILE_ROWS,
            _ => w.rows,
        }
    }

    /// # Safety
    /// `self` from [`Kernel::for_product`] for `w` and `acts`; `units` in bounds; `out` an
    /// (acts.rows, w.rows) buffer whose columns in `units` no one else writes meanwhile.
    unsafe fn run(
        self,
        w: &QuantMatrix,
        acts: &QuantizedActs,
        units: std::ops::Range<usize>,
        out: *mut f32,
    ) {
        match (self, w.tiles.as_ref()) {
            // Tiles exist only where `cpu()` found AVX2 (and maybe AVX-512).
            (Kernel::Tiled, Some(tiles)) if cpu().avx512 => {
                avx512::tile_rows(w, tiles, acts, units, out)
            }
            (Kernel::Tiled, Some(tiles)) => {
                avx2::tile_rows(w, tiles, acts, units, out, cpu().avx_vnni)
            }
            // `cpu()` checked the AVX-512 features and `quantize` expanded the activations
            // for them; `handles` checked the shape.
            (Kernel::Avx512, _) => avx512::rows(w, acts, units, out),
            // `cpu()` checked AVX2, FMA and F16C.
            (Kernel::Avx2, _) => avx2::rows(w, acts, units, out),
            _ => scalar_rows(w, acts, units, out),
        }
    }
}

/// The portable reference: the same groups and the same arithmetic, one value at a time.
#[allow(clippy::needless_range_loop)]
///
/// # Safety
/// `out` must point to an (acts.rows, w.rows) buffer that no one else writes in `rows`.
unsafe fn scalar_rows(
    w: &QuantMatrix,
    acts: &QuantizedActs,
    rows: std::ops::Range<usize>,
    out: *mut f32,
) {
    let groups = w.cols / GROUP;
    for r in rows {
        let row = w.row(r);
        for i in 0..acts.rows {
            let mut total = 0f32;
            for g in 0..groups {
                let group = formats::decode_group(w.format, row, g);
                let a = &acts.q[i * w.cols + g * GROUP..i * w.cols + (g + 1) * GROUP];
                let mut dot = 0i32;
                for j in 0..GROUP {
                    dot += group.w[j] as i32 * a[j] as i32 * group.sub[j / 16] as i32;
                }
                let ag = i * groups + g;
                total += group.scale * acts.scale[ag] * dot as f32 - group.min * acts.sum[ag];
            }
            *out.add(i * w.rows + r) = total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
    use candle_core::{Device, Module, Tensor};

    fn random(n: usize, seed: u64) -> Vec<f32> {
        // xorshift: reproducible, no extra dependency.
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 53) as f64) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    fn matrix(dtype: GgmlDType, rows: usize, cols: usize, seed: u64) -> (QTensor, QuantMatrix) {
        let values =
            Tensor::from_vec(random(rows * cols, seed), (rows, cols), &Device::Cpu).unwrap();
        let qt = QTensor::quantize(&values, dtype).unwrap();
        let bytes = qt.data().unwrap().into_owned();
        let format = WeightFormat::from_ggml(dtype).unwrap();
        let m = QuantMatrix::new(format, rows, cols, WeightBytes::Owned(bytes)).unwrap();
        (qt, m)
    }

    fn ours(w: &QuantMatrix, x: &[f32], m: usize) -> Vec<f32> {
        let mut acts = QuantizedActs::default();
        acts.quantize_for(x, m, w.cols(), Some(w));
        let mut out = vec![0f32; m * w.rows()];
        matmul(w, &acts, &mut out);
        out
    }

    /// candle's quantized matmul of `x` (m rows of `cols`) by `qt`: the reference.
    fn candle_matmul(qt: QTensor, x: &[f32], m: usize, cols: usize) -> Vec<f32> {
        let xt = Tensor::from_vec(x.to_vec(), (m, cols), &Device::Cpu).unwrap();
        let product = QMatMul::from_qtensor(qt).unwrap().forward(&xt).unwrap();
        product.flatten_all().unwrap().to_vec1().unwrap()
    }

    /// Largest difference relative to the largest reference magnitude.
    fn rel_err(a: &[f32], b: &[f32]) -> f32 {
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
            / scale
    }

    const FORMATS: [GgmlDType; 5] = [
        GgmlDType::Q8_0,
        GgmlDType::Q5_0,
        GgmlDType::Q4_0,
        GgmlDType::Q4K,
        GgmlDType::Q6K,
    ];

    #[test]
    fn dequantized_rows_match_candle() {
        for dtype in FORMATS {
            let (qt, w) = matrix(dtype, 3, 512, 7);
            let reference: Vec<Vec<f32>> = qt.dequantize(&Device::Cpu).unwrap().to_vec2().unwrap();
            let mut row = vec![0f32; 512];
            for (r, expected) in reference.iter().enumerate() {
                w.dequantize_row(r, &mut row);
                let err = rel_err(&row, expected);
                assert!(err < 1e-5, "{dtype:?} row {r}: {err}");
            }
        }
    }

    /// Against candle's own quantized matmul (which quantizes activations per 32 or per 256)
    /// and against exact f32 arithmetic on the dequantized weights.
    #[test]
    fn matmul_matches_candle_reference_for_every_format_and_batch() {
        for dtype in FORMATS {
            for m in [1usize, 3, 4, 9] {
                let (rows, cols) = (80, 768);
                let (qt, w) = matrix(dtype, rows, cols, 11);
                let x = random(m * cols, 5 + m as u64);
                let got = ours(&w, &x, m);

                let candle = candle_matmul(qt, &x, m, cols);
                let err = rel_err(&got, &candle);
                assert!(err < 0.02, "{dtype:?} m={m}: vs candle {err}");

                let mut exact = vec![0f32; m * rows];
                let mut row = vec![0f32; cols];
                for r in 0..rows {
                    w.dequantize_row(r, &mut row);
                    for i in 0..m {
                        exact[i * rows + r] =
                            row.iter().zip(&x[i * cols..]).map(|(a, b)| a * b).sum();
                    }
                }
                let err = rel_err(&got, &exact);
                assert!(err < 0.02, "{dtype:?} m={m}: vs f32 {err}");
            }
        }
    }

    #[test]
    fn simd_and_portable_paths_agree() {
        if !cpu().avx2 {
            eprintln!("skipped: this CPU has no AVX2/FMA/F16C, only the portable path runs");
            return;
        }
        for dtype in FORMATS {
            for m in [1usize, 2, 5, 8, 11] {
                let (rows, cols) = (37, 1024);
                let (_, w) = matrix(dtype, rows, cols, 3);
                let x = random(m * cols, 9);
                // Both activation granularities: per 32, and per 256 for K-quants.
                for hint in [None, Some(&w)] {
                    let mut acts = QuantizedActs::default();
                    acts.quantize_for(&x, m, cols, hint);
                    let mut simd = vec![0f32; m * rows];
                    let mut portable = vec![0f32; m * rows];
                    unsafe {
                        avx2::rows(&w, &acts, 0..rows, simd.as_mut_ptr());
                        scalar_rows(&w, &acts, 0..rows, portable.as_mut_ptr());
                    }
                    let err = rel_err(&simd, &portable);
                    assert!(err < 1e-5, "{dtype:?} m={m}: AVX2 {err}");
                    if cpu().avx512 {
                        let mut wide = vec![0f32; m * rows];
                        unsafe { avx512::rows(&w, &acts, 0..rows, wide.as_mut_ptr()) };
                        let err = rel_err(&wide, &portable);
                        assert!(err < 1e-5, "{dtype:?} m={m}: AVX-512 {err}");
                    } else {
                        eprintln!("AVX-512 VNNI not on this CPU: its kernels were not compared");
                    }
                }
            }
        }
    }

    #[test]
    fn tiled_kernels_match_portable_path_and_candle() {
        if !cpu().avx2 {
            eprintln!("skipped: no AVX2 on this CPU, so weights are never tiled here");
            return;
        }
        for dtype in [
            GgmlDType::Q4K,
            GgmlDType::Q6K,
            GgmlDType::Q8_0,
            GgmlDType::Q5_0,
        ] {
            for m in [1usize, 2, 3, 4, 5, 9] {
                let (rows, cols) = (48, 768);
                let (qt, mut w) = matrix(dtype, rows, cols, 21);
                let x = random(m * cols, 13 + m as u64);
                let mut acts = QuantizedActs::default();
                acts.quantize_for(&x, m, cols, Some(&w));
                let mut portable = vec![0f32; m * rows];
                unsafe { scalar_rows(&w, &acts, 0..rows, portable.as_mut_ptr()) };
                let _ = tile_for_cpu(&mut [&mut w], None);
                assert!(w.is_tiled(), "{dtype:?} was not tiled");
                let mut tiled = vec![0f32; m * rows];
                matmul(&w, &acts, &mut tiled);
                let err = rel_err(&tiled, &portable);
                assert!(err < 1e-5, "{dtype:?} m={m}: tiled vs portable {err}");
                // The 256-bit tile kernels too, plain AVX2 and AVX-VNNI where the CPU has it.
                let tiles = w.tiles.as_ref().unwrap();
                for vnni in [false, true] {
                    if vnni && !cpu().avx_vnni {
                        eprintln!("no AVX-VNNI on this CPU: its tile kernels were not compared");
                        continue;
                    }
                    let mut narrow = vec![0f32; m * rows];
                    let out = narrow.as_mut_ptr();
                    unsafe { avx2::tile_rows(&w, tiles, &acts, 0..rows / 16, out, vnni) };
                    let err = rel_err(&narrow, &portable);
                    assert!(err < 1e-5, "{dtype:?} m={m} vnni={vnni}: vs portable {err}");
                }

                let candle = candle_matmul(qt, &x, m, cols);
                let err = rel_err(&tiled, &candle);
                assert!(err < 0.02, "{dtype:?} m={m}: tiled vs candle {err}");
            }
        }
    }

    #[test]
    fn tile_cache_is_read_back_when_it_matches_and_rebuilt_when_stale() {
        if !cpu().avx2 {
            eprintln!("skipped: no AVX2 on this CPU, so weights are never tiled here");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model.gguf");
        std::fs::write(&model, b"GGUF stand-in header").unwrap();
        let cache_path = dir.path().join("tiles").join("model.tiles");
        let fresh = || {
            let (_, q4k) = matrix(GgmlDType::Q4K, 32, 512, 5);
            let (_, q8) = matrix(GgmlDType::Q8_0, 16, 64, 6);
            let (_, q4_0) = matrix(GgmlDType::Q4_0, 16, 64, 7);
            [q4k, q8, q4_0]
        };
        let x = random(3 * 512, 9);
        let tile = |ms: &mut [QuantMatrix; 3]| {
            let cache = TileCache::new(&model, cache_path.clone()).unwrap();
            let [a, b, c] = ms;
            let (tiling, writing) = tile_for_cpu(&mut [a, b, c], Some(&cache));
            if let Some(w) = writing {
                assert!(w.wait(), "the tile cache was not written");
            }
            tiling
        };

        let mut first = fresh();
        assert_eq!(tile(&mut first), Tiling::Repacked);
        assert!(cache_path.is_file());
        let leftovers: Vec<_> = std::fs::read_dir(cache_path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "model.tiles")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let mut second = fresh();
        assert_eq!(tile(&mut second), Tiling::FromCache);
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.is_tiled(), b.is_tiled());
        }
        assert!(!second[2].is_tiled(), "Q4_0 has no tiles");
        assert_eq!(ours(&first[0], &x, 3), ours(&second[0], &x, 3));

        // A different model file (size, mtime, head): the cache is stale and rewritten.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&model, b"GGUF stand-in header, changed").unwrap();
        assert_eq!(tile(&mut fresh()), Tiling::Repacked);
        assert_eq!(tile(&mut fresh()), Tiling::FromCache);
        // A partial file of a process that is gone is cleared by the next write; one of a
        // running process (this one) is left alone.
        let dead = cache_path.with_file_name("model.tiles.partial-4000000000");
        let alive =
            cache_path.with_file_name(format!("model.tiles.partial-{}", std::process::id()));
        std::fs::write(&dead, b"cut short").unwrap();
        std::fs::write(&alive, b"being written").unwrap();
        // A different layout (another shape) misses too.
        let cache = TileCache::new(&model, cache_path.clone()).unwrap();
        let (_, mut other) = matrix(GgmlDType::Q4K, 48, 512, 5);
        let (tiling, writing) = tile_for_cpu(&mut [&mut other], Some(&cache));
        assert_eq!(tiling, Tiling::Repacked);
        assert!(writing.unwrap().wait());
        if std::path::Path::new("/proc/self").exists() {
            assert!(!dead.exists(), "an abandoned partial file was left");
        }
        // This process's own partial name was used for the write (and renamed away).
        assert!(!alive.exists());
        // A damaged cache (cut short, or a byte of its header changed) is repacked, not read.
        let bytes = std::fs::read(&cache_path).unwrap();
        std::fs::write(&cache_path, &bytes[..bytes.len() - 1]).unwrap();
        let (_, mut other) = matrix(GgmlDType::Q4K, 48, 512, 5);
        assert_eq!(
            tile_for_cpu(&mut [&mut other], Some(&cache)).0,
            Tiling::Repacked
        );
        let mut bytes = std::fs::read(&cache_path).unwrap();
        bytes[20] ^= 1;
        std::fs::write(&cache_path, &bytes).unwrap();
        let (_, mut other) = matrix(GgmlDType::Q4K, 48, 512, 5);
        let (tiling, writing) = tile_for_cpu(&mut [&mut other], Some(&cache));
        assert_eq!(tiling, Tiling::Repacked);
        assert!(writing.unwrap().wait());
        let (_, mut other) = matrix(GgmlDType::Q4K, 48, 512, 5);
        assert_eq!(
            tile_for_cpu(&mut [&mut other], Some(&cache)).0,
            Tiling::FromCache
        );
    }

    #[test]
    fn only_whole_tiles_of_k_quants_are_tiled() {
        for (dtype, rows, cols) in [
            (GgmlDType::Q4_0, 32, 256),
            (GgmlDType::Q8_0, 40, 256),
            (GgmlDType::Q4K, 24, 256),
            (GgmlDType::Q6K, 8, 512),
        ] {
            let (_, mut w) = matrix(dtype, rows, cols, 2);
            let _ = tile_for_cpu(&mut [&mut w], None);
            assert!(!w.is_tiled(), "{dtype:?} {rows}x{cols}");
        }
    }

    #[test]
    fn rounding_without_libm_equals_round() {
        let mut x = -130.0f32;
        while x <= 130.0 {
            for v in [x, x.next_up(), x.next_down()] {
                assert_eq!(round_half_away(v), v.round() as i32, "{v}");
            }
            x += 0.125;
        }
        for v in [
            0.49999997f32,
            -0.49999997,
            0.5,
            -0.5,
            126.5,
            -126.5,
            1e-30,
            -0.0,
            f32::NAN,
        ] {
            assert_eq!(round_half_away(v), v.round() as i32, "{v}");
        }
    }

    #[test]
    fn q8_0_conversion_round_trips() {
        let x = random(4 * 64, 1);
        let bytes = quantize_q8_0(&x);
        let w = QuantMatrix::new(WeightFormat::Q8_0, 4, 64, WeightBytes::Owned(bytes)).unwrap();
        let mut row = vec![0f32; 64];
        for r in 0..4 {
            w.dequantize_row(r, &mut row);
            let err = rel_err(&row, &x[r * 64..(r + 1) * 64]);
            assert!(err < 0.01, "row {r}: {err}");
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(matches!(
            QuantMatrix::new(WeightFormat::Q4K, 1, 32, WeightBytes::Owned(vec![0; 18])),
            Err(KernelError::Ragged { .. })
        ));
        assert!(matches!(
            QuantMatrix::new(WeightFormat::Q8_0, 2, 32, WeightBytes::Owned(vec![0; 34])),
            Err(KernelError::Size { .. })
        ));
    }
}
