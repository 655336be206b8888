//! AVX-512 VNNI kernels (Zen 4/5, Intel Ice Lake and later), chosen at run time.
//!
//! Two groups of 32 go through one 512-bit `vpdpbusd` (unsigned × signed bytes, summed in
//! fours into 32-bit lanes, no saturation). Signed weights meet the activations shifted by
//! +128 (`QuantizedActs::qu`), and `128 · Σw` — computed once per weight pair and shared by
//! every activation row — is taken back off. Q4_K's 4-bit values are already unsigned and use
//! the plain activations. Scales are applied per 32-bit lane in f32.

use std::ops::Range;

use super::tiled::{
    Tiles, Q4K_TILE_BYTES, Q5_0_TILE_BYTES, Q6K_TILE_BYTES, Q8_0_TILE_BYTES, TILE_ROWS,
};
use super::{QuantMatrix, QuantizedActs, WeightFormat, GROUP};

pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        super::avx2::available()
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether these kernels handle `w` (they take groups in pairs).
pub fn handles(w: &QuantMatrix) -> bool {
    w.cols.is_multiple_of(2 * GROUP)
}

#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn rows(w: &QuantMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32) {
    // Never chosen off x86-64 (`available` is false); kept so callers need no cfg.
    super::scalar_rows(w, acts, rows, out)
}

#[cfg(target_arch = "x86_64")]
pub use x86::{expand_scales, rows, tile_rows};

#[cfg(not(target_arch = "x86_64"))]
pub fn expand_scales(_acts: &mut QuantizedActs) {}

#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn tile_rows(
    _w: &QuantMatrix,
    _tiles: &Tiles,
    _acts: &QuantizedActs,
    _range: Range<usize>,
    _out: *mut f32,
) {
    unreachable!("matrices are tiled only where AVX-512 is available")
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    /// Fills `qu` from `q` (see the module doc).
    pub fn expand_scales(acts: &mut QuantizedActs) {
        acts.qu.clear();
        acts.qu.extend(acts.q.iter().map(|&v| (v as u8) ^ 0x80));
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn f16_at(p: *const u8) -> f32 {
        let bits = std::ptr::read_unaligned(p as *const u16);
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn join(lo: __m256i, hi: __m256i) -> __m512i {
        _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn two_scales(a: f32, b: f32) -> __m512 {
        _mm512_insertf32x8(
            _mm512_castps256_ps512(_mm256_set1_ps(a)),
            _mm256_set1_ps(b),
            1,
        )
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn nibbles(p: *const u8) -> __m256i {
        let bytes = _mm_loadu_si128(p as *const __m128i);
        let mask = _mm_set1_epi8(0x0F);
        let lo = _mm_and_si128(bytes, mask);
        let hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
        _mm256_set_m128i(hi, lo)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn q5_0_group(p: *const u8) -> __m256i {
        let qh = std::ptr::read_unaligned(p.add(2) as *const u32);
        // Bit i of qh to byte i (0xFF where set), then nibble - 16 where the bit is clear.
        let set = _mm256_movm_epi8(qh);
        let high = _mm256_andnot_si256(set, _mm256_set1_epi8(0xF0u8 as i8));
        _mm256_or_si256(nibbles(p.add(6)), high)
    }

    /// Signed weights of groups (2 * pair, 2 * pair + 1) and their scales per lane.
    type Pair = (__m512i, __m512);

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn pair_q8_0(row: *const u8, pair: usize) -> Pair {
        let p = row.add(pair * 68);
        let w = join(
            _mm256_loadu_si256(p.add(2) as *const __m256i),
            _mm256_loadu_si256(p.add(36) as *const __m256i),
        );
        (w, two_scales(f16_at(p), f16_at(p.add(34))))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn pair_q4_0(row: *const u8, pair: usize) -> Pair {
        let p = row.add(pair * 36);
        let eight = _mm256_set1_epi8(8);
        let w = join(
            _mm256_sub_epi8(nibbles(p.add(2)), eight),
            _mm256_sub_epi8(nibbles(p.add(20)), eight),
        );
        (w, two_scales(f16_at(p), f16_at(p.add(18))))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn pair_q5_0(row: *const u8, pair: usize) -> Pair {
        let p = row.add(pair * 44);
        let w = join(q5_0_group(p), q5_0_group(p.add(22)));
        (w, two_scales(f16_at(p), f16_at(p.add(22))))
    }

    /// Two consecutive f32 at `p`: the first in lanes 0..8, the second in lanes 8..16.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn scale_pair(p: *const f32) -> __m512 {
        let two = _mm_castpd_ps(_mm_load_sd(p as *const f64));
        let idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
        _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(two))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn hsum256(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }

    /// Eight bytes to eight f32 lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn bytes_to_f32(b: [u8; 8]) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_set_epi64x(
            0,
            i64::from_le_bytes(b),
        )))
    }

    /// Σ over lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn hsum(v: __m512) -> f32 {
        _mm512_reduce_add_ps(v)
    }

    /// One pair of signed-weight groups against MR activation rows.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn signed_pair<const MR: usize, const UNIFORM: bool>(
        w: __m512i,
        wscale: __m512,
        acts: &QuantizedActs,
        i0: usize,
        cols: usize,
        pair: usize,
        acc: &mut [__m512; MR],
    ) {
        // 128 · Σw per lane, shared by all rows.
        let wsum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), w);
        let corr = _mm512_slli_epi32(wsum, 7);
        let groups = cols / GROUP;
        for (t, acc) in acc.iter_mut().enumerate() {
            let i = i0 + t;
            let a = _mm512_loadu_si512(acts.qu.as_ptr().add(i * cols + pair * 64) as *const _);
            let p = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), a, w), corr);
            if UNIFORM {
                // One activation scale per 256 values: applied per super-block by the caller.
                *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), wscale, *acc);
            } else {
                let s = scale_pair(acts.scale.as_ptr().add(i * groups + 2 * pair));
                *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(wscale, s), *acc);
            }
        }
    }

    macro_rules! block_kernel {
        ($name:ident, $pair:ident) => {
            #[inline]
            #[target_feature(
                enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"
            )]
            unsafe fn $name<const MR: usize>(
                row: *const u8,
                acts: &QuantizedActs,
                i0: usize,
                cols: usize,
            ) -> [f32; MR] {
                let mut acc = [_mm512_setzero_ps(); MR];
                for pair in 0..cols / (2 * GROUP) {
                    let (w, wscale) = $pair(row, pair);
                    signed_pair::<MR, false>(w, wscale, acts, i0, cols, pair, &mut acc);
                }
                acc.map(|a| hsum(a))
            }
        };
    }

    block_kernel!(row_q8_0, pair_q8_0);
    block_kernel!(row_q4_0, pair_q4_0);
    block_kernel!(row_q5_0, pair_q5_0);

    /// Q6_K: a half super-block's 64 low-bit bytes load as one register; the high bits are
    /// shifted per half with a variable shift. Sub-scales (one per 16 values = four lanes) are
    /// expanded to lanes once per pair.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn row_q6k<const MR: usize, const UNIFORM: bool>(
        row: *const u8,
        acts: &QuantizedActs,
        i0: usize,
        cols: usize,
    ) -> [f32; MR] {
        let mask = _mm512_set1_epi8(0x0F);
        let three = _mm512_set1_epi8(3);
        let offset = _mm512_set1_epi8(32);
        // Per 16-bit lane: shift 0 (lower 256 bits) or 2 (upper), and 4 or 6.
        let shifts_lo = join(_mm256_set1_epi16(0), _mm256_set1_epi16(2));
        let shifts_hi = join(_mm256_set1_epi16(4), _mm256_set1_epi16(6));
        let lane_of_scale = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
        let mut acc = [_mm512_setzero_ps(); MR];
        for b in 0..cols / 256 {
            let p = row.add(b * 210);
            let d = _mm512_set1_ps(f16_at(p.add(208)));
            let mut sb = [_mm512_setzero_ps(); MR];
            for n in 0..2 {
                let ql = _mm512_loadu_si512(p.add(64 * n) as *const _);
                let qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(
                    p.add(128 + 32 * n) as *const __m256i
                ));
                let planes = [
                    (_mm512_and_si512(ql, mask), shifts_lo),
                    (_mm512_and_si512(_mm512_srli_epi16(ql, 4), mask), shifts_hi),
                ];
                for (half, (low, shifts)) in planes.into_iter().enumerate() {
                    let high = _mm512_slli_epi16(
                        _mm512_and_si512(_mm512_srlv_epi16(qh, shifts), three),
                        4,
                    );
                    let w = _mm512_sub_epi8(_mm512_or_si512(low, high), offset);
                    // Sub-scales sc[8n + 4 half .. + 4] cover these 64 values, 16 each.
                    let sc = std::ptr::read_unaligned(p.add(192 + 8 * n + 4 * half) as *const i32);
                    let sc = _mm512_cvtepi32_ps(_mm512_permutexvar_epi32(
                        lane_of_scale,
                        _mm512_cvtepi8_epi32(_mm_cvtsi32_si128(sc)),
                    ));
                    let pair = b * 4 + 2 * n + half;
                    let target = if UNIFORM { &mut sb } else { &mut acc };
                    signed_pair::<MR, UNIFORM>(
                        w,
                        _mm512_mul_ps(sc, d),
                        acts,
                        i0,
                        cols,
                        pair,
                        target,
                    );
                }
            }
            if UNIFORM {
                let groups = cols / GROUP;
                for t in 0..MR {
                    let da = _mm512_set1_ps(*acts.scale.as_ptr().add((i0 + t) * groups + b * 8));
                    acc[t] = _mm512_fmadd_ps(sb[t], da, acc[t]);
                }
            }
        }
        acc.map(|a| hsum(a))
    }

    /// Q4_K: unsigned 4-bit values against the plain signed activations; the minimum is taken
    /// off with the activation sums, in lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn row_q4k<const MR: usize, const UNIFORM: bool>(
        row: *const u8,
        acts: &QuantizedActs,
        i0: usize,
        cols: usize,
    ) -> [f32; MR] {
        let mask = _mm256_set1_epi8(0x0F);
        let groups = cols / GROUP;
        let mut acc = [_mm512_setzero_ps(); MR];
        let mut minacc = [_mm256_setzero_ps(); MR];
        for b in 0..cols / 256 {
            let p = row.add(b * 144);
            let (d, dmin) = (f16_at(p), f16_at(p.add(2)));
            let packed = std::slice::from_raw_parts(p.add(4), 12);
            let (sc, mn) = crate::kernels::formats::q4k_scales_mins(packed);
            let sc = _mm256_mul_ps(bytes_to_f32(sc), _mm256_set1_ps(d));
            let mn = _mm256_mul_ps(bytes_to_f32(mn), _mm256_set1_ps(dmin));
            // The minimum's share: Σ over the 8 groups of min × activation sum, in one FMA.
            for t in 0..MR {
                let sums = _mm256_loadu_ps(acts.sum.as_ptr().add((i0 + t) * groups + b * 8));
                minacc[t] = _mm256_fmadd_ps(mn, sums, minacc[t]);
            }
            // Lanes 0..8 get group 2pp's scale, 8..16 group 2pp+1's.
            let sc = _mm512_castps256_ps512(sc);
            let mut sb = [_mm512_setzero_ps(); MR];
            for pp in 0..4 {
                let bytes = _mm256_loadu_si256(p.add(16 + 32 * pp) as *const __m256i);
                let w = join(
                    _mm256_and_si256(bytes, mask),
                    _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask),
                );
                let idx = _mm512_set_epi32(
                    2 * pp as i32 + 1,
                    2 * pp as i32 + 1,
                    2 * pp as i32 + 1,
                    2 * pp as i32 + 1,
                    2 * pp as i32 + 1,
                    2 * pp as i32 + 1,
                    2 * pp as i32 + 1,
                    2 * pp as i32 + 1,
                    2 * pp as i32,
                    2 * pp as i32,
                    2 * pp as i32,
                    2 * pp as i32,
                    2 * pp as i32,
                    2 * pp as i32,
                    2 * pp as i32,
                    2 * pp as i32,
                );
                let wscale = _mm512_permutexvar_ps(idx, sc);
                let pair = b * 4 + pp;
                for t in 0..MR {
                    let i = i0 + t;
                    let a =
                        _mm512_loadu_si512(acts.q.as_ptr().add(i * cols + pair * 64) as *const _);
                    let prod =
                        _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, a));
                    if UNIFORM {
                        sb[t] = _mm512_fmadd_ps(prod, wscale, sb[t]);
                    } else {
                        let s = scale_pair(acts.scale.as_ptr().add(i * groups + 2 * pair));
                        acc[t] = _mm512_fmadd_ps(prod, _mm512_mul_ps(wscale, s), acc[t]);
                    }
                }
            }
            if UNIFORM {
                for t in 0..MR {
                    let da = _mm512_set1_ps(*acts.scale.as_ptr().add((i0 + t) * groups + b * 8));
                    acc[t] = _mm512_fmadd_ps(sb[t], da, acc[t]);
                }
            }
        }
        let mut out = [0f32; MR];
        for t in 0..MR {
            out[t] = hsum(acc[t]) - hsum256(minacc[t]);
        }
        out
    }

    /// Writes one weight row's results for activation rows `i..`.
    #[inline(always)]
    unsafe fn put(out: *mut f32, r: usize, i: usize, values: &[f32], n: usize) {
        for (t, v) in values.iter().enumerate() {
            *out.add((i + t) * n + r) = *v;
        }
    }

    macro_rules! variant {
        ($name:ident, $kernel:ident, $uniform:expr) => {
            #[inline]
            #[target_feature(
                enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"
            )]
            unsafe fn $name<const MR: usize>(
                row: *const u8,
                acts: &QuantizedActs,
                i0: usize,
                cols: usize,
            ) -> [f32; MR] {
                $kernel::<MR, $uniform>(row, acts, i0, cols)
            }
        };
    }
    variant!(row_q4k_g32, row_q4k, false);
    variant!(row_q4k_b256, row_q4k, true);
    variant!(row_q6k_g32, row_q6k, false);
    variant!(row_q6k_b256, row_q6k, true);

    macro_rules! all_rows {
        ($kernel:ident, $w:expr, $acts:expr, $rows:expr, $out:expr) => {{
            let (w, acts, out, rows) = ($w, $acts, $out, $rows);
            let base = w.bytes.as_slice().as_ptr();
            let m = acts.rows;
            let put = |out: *mut f32, r: usize, i: usize, v: &[f32]| put(out, r, i, v, w.rows);
            // Activation blocks outside, weight rows inside: a block of 8 activation rows stays
            // in L1 while this task's weight rows stream past it, and each decoded weight group
            // serves the whole block.
            let mut i = 0;
            // One kernel call per weight row for the block of MR activation rows at `i`.
            macro_rules! sweep {
                ($mr:literal) => {
                    for r in rows.clone() {
                        let row = base.add(r * w.row_bytes);
                        put(out, r, i, &$kernel::<$mr>(row, acts, i, w.cols));
                    }
                };
            }
            while i + 8 <= m {
                sweep!(8);
                i += 8;
            }
            match m - i {
                7 => sweep!(7),
                6 => sweep!(6),
                5 => sweep!(5),
                4 => sweep!(4),
                3 => sweep!(3),
                2 => sweep!(2),
                1 => sweep!(1),
                _ => {}
            }
        }};
    }

    /// Four activation bytes at `p`, in every 32-bit lane.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn bcast4(p: *const i8) -> __m512i {
        _mm512_set1_epi32(std::ptr::read_unaligned(p as *const i32))
    }

    /// Sixteen bytes (one per tile row) as f32 lanes: unsigned, or signed.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn u8_lanes(p: *const u8) -> __m512 {
        _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(p as *const __m128i)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn i8_lanes(p: *const u8) -> __m512 {
        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(p as *const __m128i)))
    }

    /// Sixteen f16 values (one per tile row) as f32 lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn f16_lanes(p: *const u8) -> __m512 {
        _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i))
    }

    /// How far ahead in the weights to prefetch: the hardware prefetcher alone does not keep
    /// one core's stream going fast enough (measured on the 1.5B: decode 26 tok/s without, 33
    /// with 24 KiB ahead, 12-36 KiB within noise; prefill, with 4 activation rows per weight,
    /// wants it nearer).
    const fn prefetch_distance(activation_rows: usize) -> usize {
        if activation_rows == 1 {
            24 << 10
        } else {
            10 << 10
        }
    }

    /// Prefetches `lines` cache lines from `p`.
    #[inline(always)]
    unsafe fn prefetch_ahead(p: *const u8, lines: usize) {
        for l in 0..lines {
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64 * l) as *const i8);
        }
    }

    /// One Q4_K tile (16 weight rows) against activation rows `i0..i0 + MR`: lane r of result
    /// t is output (i0 + t, row r). Activations are quantized per 256 (`acts.block == 256`).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn tile_q4k<const MR: usize>(
        tile: *const u8,
        blocks: usize,
        acts: &QuantizedActs,
        i0: usize,
    ) -> [__m512; MR] {
        let cols = acts.cols;
        let groups = cols / GROUP;
        let m4 = _mm512_set1_epi8(0x0F);
        let ahead = prefetch_distance(MR);
        let mut total = [_mm512_setzero_ps(); MR];
        for b in 0..blocks {
            let p = tile.add(b * Q4K_TILE_BYTES);
            let mut sb = [_mm512_setzero_ps(); MR];
            let mut mins = [_mm512_setzero_ps(); MR];
            for g in 0..8 {
                prefetch_ahead(p.wrapping_add(ahead + 320 * g), 5);
                let qs = p.add(320 + 256 * g);
                let mut lo_acc = [_mm512_setzero_si512(); MR];
                let mut hi_acc = [_mm512_setzero_si512(); MR];
                for k in 0..4 {
                    let v = _mm512_loadu_si512(qs.add(64 * k) as *const _);
                    let lo = _mm512_and_si512(v, m4);
                    let hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                    for t in 0..MR {
                        let a = acts
                            .q
                            .as_ptr()
                            .add((i0 + t) * cols + 256 * b + 32 * g + 8 * k);
                        lo_acc[t] = _mm512_dpbusd_epi32(lo_acc[t], lo, bcast4(a));
                        hi_acc[t] = _mm512_dpbusd_epi32(hi_acc[t], hi, bcast4(a.add(4)));
                    }
                }
                let scale = u8_lanes(p.add(64 + 16 * g));
                let min = u8_lanes(p.add(192 + 16 * g));
                for t in 0..MR {
                    let dot = _mm512_cvtepi32_ps(_mm512_add_epi32(lo_acc[t], hi_acc[t]));
                    sb[t] = _mm512_fmadd_ps(dot, scale, sb[t]);
                    // The minimum meets the group's activation sum (scale included).
                    let sum = *acts.sum.as_ptr().add((i0 + t) * groups + 8 * b + g);
                    mins[t] = _mm512_fmadd_ps(min, _mm512_set1_ps(sum), mins[t]);
                }
            }
            let (d, dmin) = (f16_lanes(p), f16_lanes(p.add(32)));
            for t in 0..MR {
                let da = *acts.scale.as_ptr().add((i0 + t) * groups + 8 * b);
                let d = _mm512_mul_ps(d, _mm512_set1_ps(da));
                total[t] = _mm512_fnmadd_ps(dmin, mins[t], _mm512_fmadd_ps(d, sb[t], total[t]));
            }
        }
        total
    }

    /// One Q6_K tile, as [`tile_q4k`]: unsigned 6-bit weights against signed activations, the
    /// offset of 32 taken off per 16 columns with the activations' integer sums.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn tile_q6k<const MR: usize>(
        tile: *const u8,
        blocks: usize,
        acts: &QuantizedActs,
        i0: usize,
    ) -> [__m512; MR] {
        let cols = acts.cols;
        let groups = cols / GROUP;
        let m4 = _mm512_set1_epi8(0x0F);
        let high_bits = _mm512_set1_epi8(0x30);
        let ahead = prefetch_distance(MR);
        let mut total = [_mm512_setzero_ps(); MR];
        for b in 0..blocks {
            let p = tile.add(b * Q6K_TILE_BYTES);
            let mut sb = [_mm512_setzero_ps(); MR];
            for sub in 0..16 {
                prefetch_ahead(p.wrapping_add(ahead + 256 * sub), 4);
                let h = _mm512_loadu_si512(p.add(2336 + 64 * sub) as *const _);
                let mut lo_acc = [_mm512_setzero_si512(); MR];
                let mut hi_acc = [_mm512_setzero_si512(); MR];
                for kk in 0..2 {
                    let (g, k) = (sub / 2, 2 * (sub % 2) + kk);
                    let v = _mm512_loadu_si512(p.add(288 + 256 * g + 64 * k) as *const _);
                    let lo = _mm512_and_si512(v, m4);
                    let hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                    // High bits 2j (j = 2kk for the low nibbles, 2kk + 1 for the high ones)
                    // moved to bits 4..6; 0xF8: lo | (h & 0x30).
                    let (h_lo, h_hi) = if kk == 0 {
                        (_mm512_slli_epi16(h, 4), _mm512_slli_epi16(h, 2))
                    } else {
                        (h, _mm512_srli_epi16(h, 2))
                    };
                    let w_lo = _mm512_ternarylogic_epi32(lo, h_lo, high_bits, 0xF8);
                    let w_hi = _mm512_ternarylogic_epi32(hi, h_hi, high_bits, 0xF8);
                    for t in 0..MR {
                        let a = acts
                            .q
                            .as_ptr()
                            .add((i0 + t) * cols + 256 * b + 32 * g + 8 * k);
                        lo_acc[t] = _mm512_dpbusd_epi32(lo_acc[t], w_lo, bcast4(a));
                        hi_acc[t] = _mm512_dpbusd_epi32(hi_acc[t], w_hi, bcast4(a.add(4)));
                    }
                }
                let scale = i8_lanes(p.add(32 + 16 * sub));
                for t in 0..MR {
                    let sum = *acts
                        .sum16
                        .as_ptr()
                        .add(((i0 + t) * cols + 256 * b) / 16 + sub);
                    let dot = _mm512_sub_epi32(
                        _mm512_add_epi32(lo_acc[t], hi_acc[t]),
                        _mm512_set1_epi32(32 * sum),
                    );
                    sb[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, sb[t]);
                }
            }
            let d = f16_lanes(p);
            for t in 0..MR {
                let da = *acts.scale.as_ptr().add((i0 + t) * groups + 8 * b);
                total[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(da)), sb[t], total[t]);
            }
        }
        total
    }

    /// Formats with one scale per 32 columns, for [`tile_g32`].
    const Q8_0: u8 = 8;
    const Q5_0: u8 = 5;

    /// One Q8_0 or Q5_0 tile, as [`tile_q4k`]; activations per 32 or per 256.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    unsafe fn tile_g32<const MR: usize, const FORMAT: u8>(
        tile: *const u8,
        blocks: usize,
        acts: &QuantizedActs,
        i0: usize,
    ) -> [__m512; MR] {
        let cols = acts.cols;
        let groups = cols / GROUP;
        let (bytes, offset) = if FORMAT == Q8_0 {
            (Q8_0_TILE_BYTES, 128)
        } else {
            (Q5_0_TILE_BYTES, 16)
        };
        let m4 = _mm512_set1_epi8(0x0F);
        let high_bit = _mm512_set1_epi8(0x10);
        let ahead = prefetch_distance(MR);
        let mut total = [_mm512_setzero_ps(); MR];
        for g in 0..blocks {
            let p = tile.add(g * bytes);
            prefetch_ahead(p.wrapping_add(ahead), bytes.div_ceil(64));
            let h = if FORMAT == Q5_0 {
                _mm512_loadu_si512(p.add(288) as *const _)
            } else {
                _mm512_setzero_si512()
            };
            let mut lo_acc = [_mm512_setzero_si512(); MR];
            let mut hi_acc = [_mm512_setzero_si512(); MR];
            for k in 0..4 {
                // Columns 8k..8k+4 and 8k+4..8k+8 of the 16 rows.
                let (w_lo, w_hi) = if FORMAT == Q8_0 {
                    (
                        _mm512_loadu_si512(p.add(32 + 128 * k) as *const _),
                        _mm512_loadu_si512(p.add(96 + 128 * k) as *const _),
                    )
                } else {
                    let v = _mm512_loadu_si512(p.add(32 + 64 * k) as *const _);
                    let lo = _mm512_and_si512(v, m4);
                    let hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                    // High bit j = 2k (low nibbles) or 2k + 1 moved to bit 4.
                    let at4 = |j: usize| match j {
                        0 => _mm512_slli_epi16(h, 4),
                        1 => _mm512_slli_epi16(h, 3),
                        2 => _mm512_slli_epi16(h, 2),
                        3 => _mm512_slli_epi16(h, 1),
                        4 => h,
                        5 => _mm512_srli_epi16(h, 1),
                        6 => _mm512_srli_epi16(h, 2),
                        _ => _mm512_srli_epi16(h, 3),
                    };
                    (
                        _mm512_ternarylogic_epi32(lo, at4(2 * k), high_bit, 0xF8),
                        _mm512_ternarylogic_epi32(hi, at4(2 * k + 1), high_bit, 0xF8),
                    )
                };
                for t in 0..MR {
                    let a = acts.q.as_ptr().add((i0 + t) * cols + 32 * g + 8 * k);
                    lo_acc[t] = _mm512_dpbusd_epi32(lo_acc[t], w_lo, bcast4(a));
                    hi_acc[t] = _mm512_dpbusd_epi32(hi_acc[t], w_hi, bcast4(a.add(4)));
                }
            }
            let d = f16_lanes(p);
            for t in 0..MR {
                let at = (i0 + t) * groups + g;
                let sum = *acts.sum16.as_ptr().add(2 * at) + *acts.sum16.as_ptr().add(2 * at + 1);
                let dot = _mm512_sub_epi32(
                    _mm512_add_epi32(lo_acc[t], hi_acc[t]),
                    _mm512_set1_epi32(offset * sum),
                );
                let scale = _mm512_mul_ps(d, _mm512_set1_ps(*acts.scale.as_ptr().add(at)));
                total[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, total[t]);
            }
        }
        total
    }

    /// Outputs of tiles `range` for every activation row, from a tiled Q4_K or Q6_K matrix.
    ///
    /// # Safety
    /// The CPU must have the features [`available`] checks; `acts` quantized per 256 for `w`;
    /// `out` must point to an (acts.rows, w.rows) buffer whose columns in these tiles no one
    /// else writes meanwhile.
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    pub unsafe fn tile_rows(
        w: &QuantMatrix,
        tiles: &Tiles,
        acts: &QuantizedActs,
        range: Range<usize>,
        out: *mut f32,
    ) {
        let (m, n) = (acts.rows, w.rows);
        let per_tile = tiles.blocks * tiles.tile_bytes;
        let mut i = 0;
        macro_rules! sweep {
            ($mr:literal) => {
                for t in range.clone() {
                    let p = tiles.as_ptr().add(t * per_tile);
                    let res = match w.format {
                        WeightFormat::Q4K => tile_q4k::<$mr>(p, tiles.blocks, acts, i),
                        WeightFormat::Q6K => tile_q6k::<$mr>(p, tiles.blocks, acts, i),
                        WeightFormat::Q8_0 => tile_g32::<$mr, Q8_0>(p, tiles.blocks, acts, i),
                        _ => tile_g32::<$mr, Q5_0>(p, tiles.blocks, acts, i),
                    };
                    for (u, v) in res.iter().enumerate() {
                        _mm512_storeu_ps(out.add((i + u) * n + TILE_ROWS * t), *v);
                    }
                }
            };
        }
        while i + 4 <= m {
            sweep!(4);
            i += 4;
        }
        match m - i {
            3 => sweep!(3),
            2 => sweep!(2),
            1 => sweep!(1),
            _ => {}
        }
    }

    /// # Safety
    /// The CPU must have the features [`available`] checks; `acts` must have been expanded
    /// ([`expand_scales`]); `handles(w)`; `out` must point to an (acts.rows, w.rows) buffer
    /// whose columns `rows` no one else writes meanwhile.
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")]
    pub unsafe fn rows(w: &QuantMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32) {
        match w.format {
            WeightFormat::Q8_0 => all_rows!(row_q8_0, w, acts, rows, out),
            WeightFormat::Q4_0 => all_rows!(row_q4_0, w, acts, rows, out),
            WeightFormat::Q5_0 => all_rows!(row_q5_0, w, acts, rows, out),
            // Activations quantized per 256 (as ggml's Q8_K) let a super-block accumulate
            // before the activation scale is applied.
            WeightFormat::Q4K if acts.block == 256 => all_rows!(row_q4k_b256, w, acts, rows, out),
            WeightFormat::Q4K => all_rows!(row_q4k_g32, w, acts, rows, out),
            WeightFormat::Q6K if acts.block == 256 => all_rows!(row_q6k_b256, w, acts, rows, out),
            WeightFormat::Q6K => all_rows!(row_q6k_g32, w, acts, rows, out),
        }
    }
}
