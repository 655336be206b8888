//! AVX2 + FMA + F16C kernels, compiled for every x86-64 build and used only when the CPU has
//! them (checked at run time in [`super::cpu`]).
//!
//! Per weight group: decode 32 values into one register (`w`), then for each of up to four
//! activation rows: `maddubs(|w|, sign(a, w))` (exact 8-bit products summed in pairs), `madd`
//! with the sub-scales (or ones), convert, and fused-multiply-add with `scale_w * scale_a`.

use std::ops::Range;

use super::tiled::{
    Tiles, Q4K_TILE_BYTES, Q5_0_TILE_BYTES, Q6K_TILE_BYTES, Q8_0_TILE_BYTES, TILE_ROWS,
};
use super::{QuantMatrix, QuantizedActs, WeightFormat, GROUP};

/// Whether the CPU has AVX-VNNI (256-bit `vpdpbusd` without AVX-512).
pub fn vnni_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avxvnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn rows(w: &QuantMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32) {
    // Never chosen off x86-64 (`available` is false); kept so callers need no cfg.
    super::scalar_rows(w, acts, rows, out)
}

#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn tile_rows(
    _w: &QuantMatrix,
    _tiles: &Tiles,
    _acts: &QuantizedActs,
    _range: Range<usize>,
    _out: *mut f32,
    _vnni: bool,
) {
    unreachable!("matrices are tiled only where AVX2 is available")
}

#[cfg(target_arch = "x86_64")]
pub use x86::{rows, tile_rows};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    /// One decoded group of a 32-value block format: signed values and scale.
    type Decoded = (__m256i, f32);

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn f16_at(p: *const u8) -> f32 {
        let bits = std::ptr::read_unaligned(p as *const u16);
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
    }

    /// 16 packed bytes to 32 nibbles: low nibbles first, then high nibbles (ggml order).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn nibbles(p: *const u8) -> __m256i {
        let bytes = _mm_loadu_si128(p as *const __m128i);
        let mask = _mm_set1_epi8(0x0F);
        let lo = _mm_and_si128(bytes, mask);
        let hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
        _mm256_set_m128i(hi, lo)
    }

    /// Bit i of `bits` to byte i: 0xFF where set.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn bytes_from_bits(bits: u32) -> __m256i {
        let spread = _mm256_shuffle_epi8(
            _mm256_set1_epi32(bits as i32),
            _mm256_set_epi64x(
                0x0303030303030303,
                0x0202020202020202,
                0x0101010101010101,
                0x0000000000000000,
            ),
        );
        let probe = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
        _mm256_cmpeq_epi8(probe, _mm256_set1_epi64x(-1))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn load_q8_0(row: *const u8, g: usize) -> Decoded {
        let p = row.add(g * 34);
        let w = _mm256_loadu_si256(p.add(2) as *const __m256i);
        (w, f16_at(p))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn load_q4_0(row: *const u8, g: usize) -> Decoded {
        let p = row.add(g * 18);
        let w = _mm256_sub_epi8(nibbles(p.add(2)), _mm256_set1_epi8(8));
        (w, f16_at(p))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn load_q5_0(row: *const u8, g: usize) -> Decoded {
        let p = row.add(g * 22);
        let qh = std::ptr::read_unaligned(p.add(2) as *const u32);
        // Where the fifth bit is clear the value is nibble - 16: set the byte's high nibble.
        let high = _mm256_andnot_si256(bytes_from_bits(qh), _mm256_set1_epi8(0xF0u8 as i8));
        let w = _mm256_or_si256(nibbles(p.add(6)), high);
        (w, f16_at(p))
    }

    /// Bits `shift..shift + 2` of each byte of `qh`, moved to bits 4..6.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn q6_high(qh: __m256i, shift: i32, three: __m256i) -> __m256i {
        let h = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(shift)), three);
        _mm256_slli_epi16(h, 4)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }

    macro_rules! row_kernel {
        ($name:ident, $load:ident) => {
            /// Dot products of one weight row with activation rows `i0..i0 + MR`.
            #[inline]
            #[target_feature(enable = "avx2,fma,f16c")]
            unsafe fn $name<const MR: usize>(
                row: *const u8,
                acts: &QuantizedActs,
                i0: usize,
                cols: usize,
            ) -> [f32; MR] {
                let groups = cols / GROUP;
                let ones = _mm256_set1_epi16(1);
                let q = acts.q.as_ptr();
                let scales = acts.scale.as_ptr();
                let mut acc = [_mm256_setzero_ps(); MR];
                for g in 0..groups {
                    let (w, scale) = $load(row, g);
                    let absw = _mm256_sign_epi8(w, w);
                    for t in 0..MR {
                        let i = i0 + t;
                        let a = _mm256_loadu_si256(q.add(i * cols + g * GROUP) as *const __m256i);
                        let p16 = _mm256_maddubs_epi16(absw, _mm256_sign_epi8(a, w));
                        let p32 = _mm256_madd_epi16(p16, ones);
                        let k = _mm256_set1_ps(scale * *scales.add(i * groups + g));
                        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), k, acc[t]);
                    }
                }
                let mut out = [0f32; MR];
                for t in 0..MR {
                    out[t] = hsum(acc[t]);
                }
                out
            }
        };
    }

    row_kernel!(row_q8_0, load_q8_0);
    row_kernel!(row_q4_0, load_q4_0);
    row_kernel!(row_q5_0, load_q5_0);

    /// Q4_K: per super-block of 256, the eight 6-bit (scale, min) pairs are decoded once; the
    /// 4-bit values are unsigned, so they multiply the activations directly.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn row_q4k<const MR: usize>(
        row: *const u8,
        acts: &QuantizedActs,
        i0: usize,
        cols: usize,
    ) -> [f32; MR] {
        let groups = cols / GROUP;
        let ones = _mm256_set1_epi16(1);
        let mask = _mm256_set1_epi8(0x0F);
        let (q, scales, sums) = (acts.q.as_ptr(), acts.scale.as_ptr(), acts.sum.as_ptr());
        let mut acc = [_mm256_setzero_ps(); MR];
        let mut minacc = [0f32; MR];
        for b in 0..cols / 256 {
            let p = row.add(b * 144);
            let (d, dmin) = (f16_at(p), f16_at(p.add(2)));
            let packed = std::slice::from_raw_parts(p.add(4), 12);
            let (sc, mn) = crate::kernels::formats::q4k_scales_mins(packed);
            let scale = sc.map(|s| d * s as f32);
            let min = mn.map(|m| dmin * m as f32);
            for pair in 0..4 {
                let bytes = _mm256_loadu_si256(p.add(16 + 32 * pair) as *const __m256i);
                let halves = [
                    _mm256_and_si256(bytes, mask),
                    _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask),
                ];
                for (h, w) in halves.into_iter().enumerate() {
                    let j = 2 * pair + h;
                    let g = b * 8 + j;
                    for t in 0..MR {
                        let i = i0 + t;
                        let a = _mm256_loadu_si256(q.add(i * cols + g * GROUP) as *const __m256i);
                        let p32 = _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), ones);
                        let k = _mm256_set1_ps(scale[j] * *scales.add(i * groups + g));
                        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), k, acc[t]);
                        minacc[t] += min[j] * *sums.add(i * groups + g);
                    }
                }
            }
        }
        let mut out = [0f32; MR];
        for t in 0..MR {
            out[t] = hsum(acc[t]) - minacc[t];
        }
        out
    }

    /// Q6_K: per half super-block, the low and high bit planes are loaded once and give four
    /// groups of 32; each group's two 16-value scales go into `madd`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn row_q6k<const MR: usize>(
        row: *const u8,
        acts: &QuantizedActs,
        i0: usize,
        cols: usize,
    ) -> [f32; MR] {
        let groups = cols / GROUP;
        let mask = _mm256_set1_epi8(0x0F);
        let three = _mm256_set1_epi8(3);
        let offset = _mm256_set1_epi8(32);
        let (q, scales) = (acts.q.as_ptr(), acts.scale.as_ptr());
        let mut acc = [_mm256_setzero_ps(); MR];
        for b in 0..cols / 256 {
            let p = row.add(b * 210);
            let d = f16_at(p.add(208));
            let sc = p.add(192);
            for n in 0..2 {
                let ql0 = _mm256_loadu_si256(p.add(64 * n) as *const __m256i);
                let ql1 = _mm256_loadu_si256(p.add(64 * n + 32) as *const __m256i);
                let qh = _mm256_loadu_si256(p.add(128 + 32 * n) as *const __m256i);
                let planes = [
                    _mm256_or_si256(_mm256_and_si256(ql0, mask), q6_high(qh, 0, three)),
                    _mm256_or_si256(_mm256_and_si256(ql1, mask), q6_high(qh, 2, three)),
                    _mm256_or_si256(
                        _mm256_and_si256(_mm256_srli_epi16(ql0, 4), mask),
                        q6_high(qh, 4, three),
                    ),
                    _mm256_or_si256(
                        _mm256_and_si256(_mm256_srli_epi16(ql1, 4), mask),
                        q6_high(qh, 6, three),
                    ),
                ];
                for (k, plane) in planes.into_iter().enumerate() {
                    let w = _mm256_sub_epi8(plane, offset);
                    let absw = _mm256_sign_epi8(w, w);
                    let s = sc.add(8 * n + 2 * k);
                    let sub = _mm256_set_m128i(
                        _mm_set1_epi16(*s.add(1) as i8 as i16),
                        _mm_set1_epi16(*s as i8 as i16),
                    );
                    let g = b * 8 + 4 * n + k;
                    for t in 0..MR {
                        let i = i0 + t;
                        let a = _mm256_loadu_si256(q.add(i * cols + g * GROUP) as *const __m256i);
                        let p16 = _mm256_maddubs_epi16(absw, _mm256_sign_epi8(a, w));
                        let p32 = _mm256_madd_epi16(p16, sub);
                        let k = _mm256_set1_ps(d * *scales.add(i * groups + g));
                        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), k, acc[t]);
                    }
                }
            }
        }
        let mut out = [0f32; MR];
        for t in 0..MR {
            out[t] = hsum(acc[t]);
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

    macro_rules! all_rows {
        ($kernel:ident, $w:expr, $acts:expr, $rows:expr, $out:expr) => {{
            let (w, acts, out, rows) = ($w, $acts, $out, $rows);
            let base = w.bytes.as_slice().as_ptr();
            let m = acts.rows;
            let put = |out: *mut f32, r: usize, i: usize, v: &[f32]| put(out, r, i, v, w.rows);
            // Activation blocks outside, weight rows inside: a block of 4 activation rows stays
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
        }};
    }

    /// # Safety
    /// The CPU must have AVX2, FMA and F16C; `out` must point to an (acts.rows, w.rows) buffer
    /// whose columns `rows` no one else writes meanwhile.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn rows(w: &QuantMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32) {
        match w.format {
            WeightFormat::Q8_0 => all_rows!(row_q8_0, w, acts, rows, out),
            WeightFormat::Q4_0 => all_rows!(row_q4_0, w, acts, rows, out),
            WeightFormat::Q5_0 => all_rows!(row_q5_0, w, acts, rows, out),
            WeightFormat::Q4K => all_rows!(row_q4k, w, acts, rows, out),
            WeightFormat::Q6K => all_rows!(row_q6k, w, acts, rows, out),
        }
    }

    // Tiled weights (see `tiled.rs`): a tile's 16 rows are taken as two halves of 8, one per
    // 256-bit register; each 64-byte vector of the layout gives 32 bytes to each half.

    /// Prefetches `lines` cache lines at `p` (distance as in the AVX-512 kernels).
    #[inline(always)]
    unsafe fn prefetch(p: *const u8, lines: usize) {
        for l in 0..lines {
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64 * l) as *const i8);
        }
    }

    /// Bytes ahead to prefetch: the first half's pass brings a tile in, the second finds it
    /// in cache.
    const fn prefetch_distance(activation_rows: usize, half: usize) -> Option<usize> {
        if half == 1 {
            None
        } else if activation_rows == 1 {
            Some(24 << 10)
        } else {
            Some(10 << 10)
        }
    }

    /// Sixteen bits of ones per lane pair, for `madd` to sum pairs of 16-bit products.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn ones16() -> __m256i {
        _mm256_set1_epi16(1)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn bcast4(p: *const i8) -> __m256i {
        _mm256_set1_epi32(std::ptr::read_unaligned(p as *const i32))
    }

    /// Eight unsigned bytes (one per row of the half) as f32 lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn u8_lanes(p: *const u8) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p as *const __m128i)))
    }

    /// Eight f16 values as f32 lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn f16_lanes(p: *const u8) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
    }

    /// Picks the VNNI or the plain AVX2 form of a step, by the `true`/`false` token.
    macro_rules! select {
        (true, $vnni:block, $plain:block) => {
            $vnni
        };
        (false, $vnni:block, $plain:block) => {
            $plain
        };
    }

    /// The K-quant tile kernels, stamped out twice: plain AVX2 (`maddubs` + `madd`) and with
    /// AVX-VNNI (Intel Alder Lake and later, AMD Zen 5), where one `vpdpbusd` does both.
    macro_rules! k_quant_tiles {
        ($q4k:ident, $q6k:ident, $features:literal, $vnni:tt) => {
            /// Q4_K tile halves `first..first + H` against activation rows `i0..i0 + MR` (per-256
            /// activations); one pass over both halves (H = 2) when decoding a single row, so the
            /// activations are broadcast once. Unsigned 4-bit weights × signed activations stay exact
            /// in `maddubs`, and a whole group's eight products fit 16 bits (8 · 2 · 15 · 127 < 2^15),
            /// so one `madd` per group, which also applies the group's 6-bit scale (integer sums,
            /// converted once per block).
            #[inline]
            #[target_feature(enable = $features)]
            unsafe fn $q4k<const MR: usize, const H: usize>(
                tile: *const u8,
                blocks: usize,
                acts: &QuantizedActs,
                i0: usize,
                first: usize,
            ) -> [[__m256; H]; MR] {
                let cols = acts.cols;
                let groups = cols / GROUP;
                let m4 = _mm256_set1_epi8(0x0F);
                let mut total = [[_mm256_setzero_ps(); H]; MR];
                for b in 0..blocks {
                    let p = tile.add(b * Q4K_TILE_BYTES);
                    // The block's scaled group sums: i32 (exact) where `madd` applies the 6-bit
                    // scales, f32 after `vpdpbusd`.
                    let mut sb = select!($vnni, { [[_mm256_setzero_ps(); H]; MR] }, {
                        [[_mm256_setzero_si256(); H]; MR]
                    });
                    let mut mins = [[_mm256_setzero_ps(); H]; MR];
                    for g in 0..8 {
                        if let Some(ahead) = prefetch_distance(MR, first) {
                            prefetch(p.wrapping_add(ahead + 320 * g), 5);
                        }
                        let mut acc = [[_mm256_setzero_si256(); H]; MR];
                        for k in 0..4 {
                            let a_at = |t: usize| {
                                acts.q
                                    .as_ptr()
                                    .add((i0 + t) * cols + 256 * b + 32 * g + 8 * k)
                            };
                            let a: [(__m256i, __m256i); MR] =
                                std::array::from_fn(|t| (bcast4(a_at(t)), bcast4(a_at(t).add(4))));
                            for h in 0..H {
                                let at = p.add(320 + 256 * g + 64 * k + 32 * (first + h));
                                let v = _mm256_loadu_si256(at as *const __m256i);
                                let lo = _mm256_and_si256(v, m4);
                                let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                                for t in 0..MR {
                                    acc[t][h] = select!(
                                        $vnni,
                                        {
                                            let lo_sums =
                                                _mm256_dpbusd_avx_epi32(acc[t][h], lo, a[t].0);
                                            _mm256_dpbusd_avx_epi32(lo_sums, hi, a[t].1)
                                        },
                                        {
                                            let pair = _mm256_add_epi16(
                                                _mm256_maddubs_epi16(lo, a[t].0),
                                                _mm256_maddubs_epi16(hi, a[t].1),
                                            );
                                            _mm256_add_epi16(acc[t][h], pair)
                                        }
                                    );
                                }
                            }
                        }
                        for h in 0..H {
                            let scale = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
                                p.add(64 + 16 * g + 8 * (first + h)) as *const __m128i,
                            ));
                            let min = u8_lanes(p.add(192 + 16 * g + 8 * (first + h)));
                            for t in 0..MR {
                                select!(
                                    $vnni,
                                    {
                                        let dot = _mm256_cvtepi32_ps(acc[t][h]);
                                        let scale = _mm256_cvtepi32_ps(scale);
                                        sb[t][h] = _mm256_fmadd_ps(dot, scale, sb[t][h]);
                                    },
                                    {
                                        // The scale in both 16-bit halves of its row's lane:
                                        // one `madd` widens the pairs and scales them, and a
                                        // block's eight groups stay far inside i32 (8 · 2 ·
                                        // 30480 · 63 < 2^31).
                                        let scale2 =
                                            _mm256_or_si256(scale, _mm256_slli_epi32(scale, 16));
                                        sb[t][h] = _mm256_add_epi32(
                                            sb[t][h],
                                            _mm256_madd_epi16(acc[t][h], scale2),
                                        );
                                    }
                                );
                                let sum = *acts.sum.as_ptr().add((i0 + t) * groups + 8 * b + g);
                                mins[t][h] = _mm256_fmadd_ps(min, _mm256_set1_ps(sum), mins[t][h]);
                            }
                        }
                    }
                    for h in 0..H {
                        let d = f16_lanes(p.add(16 * (first + h)));
                        let dmin = f16_lanes(p.add(32 + 16 * (first + h)));
                        for t in 0..MR {
                            let da = *acts.scale.as_ptr().add((i0 + t) * groups + 8 * b);
                            let d = _mm256_mul_ps(d, _mm256_set1_ps(da));
                            let sb = select!($vnni, { sb[t][h] }, { _mm256_cvtepi32_ps(sb[t][h]) });
                            total[t][h] = _mm256_fnmadd_ps(
                                dmin,
                                mins[t][h],
                                _mm256_fmadd_ps(d, sb, total[t][h]),
                            );
                        }
                    }
                }
                total
            }

            /// Q6_K tile halves, as [`tile_q4k`]: unsigned 6-bit weights (a pair of `maddubs` results
            /// fits 16 bits), the offset of 32 taken off per 16 columns with the activation sums.
            /// Without VNNI the signed 8-bit scales ride on the `madd` that widens the pairs, and
            /// the block is summed exactly in i32.
            #[inline]
            #[target_feature(enable = $features)]
            // Each form (VNNI or not) leaves the other's accumulators unused.
            #[allow(unused_mut, unused_variables)]
            unsafe fn $q6k<const MR: usize, const H: usize>(
                tile: *const u8,
                blocks: usize,
                acts: &QuantizedActs,
                i0: usize,
                first: usize,
            ) -> [[__m256; H]; MR] {
                let cols = acts.cols;
                let groups = cols / GROUP;
                let m4 = _mm256_set1_epi8(0x0F);
                let high_bits = _mm256_set1_epi8(0x30);
                let mut total = [[_mm256_setzero_ps(); H]; MR];
                for b in 0..blocks {
                    let p = tile.add(b * Q6K_TILE_BYTES);
                    let mut sb = [[_mm256_setzero_ps(); H]; MR];
                    // Without VNNI: the block's scaled sums and offsets, exact in i32 (scaled
                    // pairs: 16 · 2 · 2 · 32004 · 128 < 2^31), converted once per block.
                    let mut scaled = [[_mm256_setzero_si256(); H]; MR];
                    let mut offsets = [[_mm256_setzero_si256(); H]; MR];
                    for sub in 0..16 {
                        if let Some(ahead) = prefetch_distance(MR, first) {
                            prefetch(p.wrapping_add(ahead + 256 * sub), 4);
                        }
                        // The sub-block's signed scale per row, in both 16-bit halves of the
                        // row's lane: `madd` widens a pair of products and scales it at once.
                        let scales: [__m256i; H] = std::array::from_fn(|h| {
                            _mm256_cvtepi8_epi32(_mm_loadl_epi64(
                                p.add(32 + 16 * sub + 8 * (first + h)) as *const __m128i,
                            ))
                        });
                        let scales16: [__m256i; H] = std::array::from_fn(|h| {
                            _mm256_or_si256(
                                _mm256_and_si256(scales[h], _mm256_set1_epi32(0xFFFF)),
                                _mm256_slli_epi32(scales[h], 16),
                            )
                        });
                        let mut acc = [[_mm256_setzero_si256(); H]; MR];
                        for kk in 0..2 {
                            let (g, k) = (sub / 2, 2 * (sub % 2) + kk);
                            let a_at = |t: usize| {
                                acts.q
                                    .as_ptr()
                                    .add((i0 + t) * cols + 256 * b + 32 * g + 8 * k)
                            };
                            let a: [(__m256i, __m256i); MR] =
                                std::array::from_fn(|t| (bcast4(a_at(t)), bcast4(a_at(t).add(4))));
                            for h in 0..H {
                                let half = first + h;
                                let hb = _mm256_loadu_si256(
                                    p.add(2336 + 64 * sub + 32 * half) as *const __m256i
                                );
                                let v = _mm256_loadu_si256(
                                    p.add(288 + 256 * g + 64 * k + 32 * half) as *const __m256i,
                                );
                                let lo = _mm256_and_si256(v, m4);
                                let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                                let (h_lo, h_hi) = if kk == 0 {
                                    (_mm256_slli_epi16(hb, 4), _mm256_slli_epi16(hb, 2))
                                } else {
                                    (hb, _mm256_srli_epi16(hb, 2))
                                };
                                let w_lo = _mm256_or_si256(lo, _mm256_and_si256(h_lo, high_bits));
                                let w_hi = _mm256_or_si256(hi, _mm256_and_si256(h_hi, high_bits));
                                for t in 0..MR {
                                    acc[t][h] = select!(
                                        $vnni,
                                        {
                                            let lo_sums =
                                                _mm256_dpbusd_avx_epi32(acc[t][h], w_lo, a[t].0);
                                            _mm256_dpbusd_avx_epi32(lo_sums, w_hi, a[t].1)
                                        },
                                        {
                                            let pair = _mm256_add_epi16(
                                                _mm256_maddubs_epi16(w_lo, a[t].0),
                                                _mm256_maddubs_epi16(w_hi, a[t].1),
                                            );
                                            _mm256_add_epi32(
                                                acc[t][h],
                                                _mm256_madd_epi16(pair, scales16[h]),
                                            )
                                        }
                                    );
                                }
                            }
                        }
                        for h in 0..H {
                            for t in 0..MR {
                                let sum = *acts
                                    .sum16
                                    .as_ptr()
                                    .add(((i0 + t) * cols + 256 * b) / 16 + sub);
                                select!(
                                    $vnni,
                                    {
                                        let scale = _mm256_cvtepi32_ps(scales[h]);
                                        let dot = _mm256_sub_epi32(
                                            acc[t][h],
                                            _mm256_set1_epi32(32 * sum),
                                        );
                                        sb[t][h] = _mm256_fmadd_ps(
                                            _mm256_cvtepi32_ps(dot),
                                            scale,
                                            sb[t][h],
                                        );
                                    },
                                    {
                                        scaled[t][h] = _mm256_add_epi32(scaled[t][h], acc[t][h]);
                                        offsets[t][h] = _mm256_add_epi32(
                                            offsets[t][h],
                                            _mm256_mullo_epi32(scales[h], _mm256_set1_epi32(sum)),
                                        );
                                    }
                                );
                            }
                        }
                    }
                    for h in 0..H {
                        let d = f16_lanes(p.add(16 * (first + h)));
                        for t in 0..MR {
                            let da = *acts.scale.as_ptr().add((i0 + t) * groups + 8 * b);
                            let d = _mm256_mul_ps(d, _mm256_set1_ps(da));
                            let sb = select!($vnni, { sb[t][h] }, {
                                _mm256_cvtepi32_ps(_mm256_sub_epi32(
                                    scaled[t][h],
                                    _mm256_slli_epi32(offsets[t][h], 5),
                                ))
                            });
                            total[t][h] = _mm256_fmadd_ps(d, sb, total[t][h]);
                        }
                    }
                }
                total
            }
        };
    }
    k_quant_tiles!(tile_q4k, tile_q6k, "avx2,fma,f16c", false);
    k_quant_tiles!(tile_q4k_vnni, tile_q6k_vnni, "avx2,fma,f16c,avxvnni", true);

    const Q8_0: u8 = 8;
    const Q5_0: u8 = 5;

    /// Q8_0 or Q5_0 tile half. Q8_0's bytes are turned back to signed and multiplied as
    /// `maddubs(|w|, sign(a, w))` (exact); Q5_0's unsigned 5-bit values need no trick and lose
    /// their offset of 16 with the activation sums.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn tile_g32<const MR: usize, const FORMAT: u8>(
        tile: *const u8,
        blocks: usize,
        acts: &QuantizedActs,
        i0: usize,
        half: usize,
    ) -> [__m256; MR] {
        let cols = acts.cols;
        let groups = cols / GROUP;
        let bytes = if FORMAT == Q8_0 {
            Q8_0_TILE_BYTES
        } else {
            Q5_0_TILE_BYTES
        };
        let m4 = _mm256_set1_epi8(0x0F);
        let high_bit = _mm256_set1_epi8(0x10);
        let flip = _mm256_set1_epi8(0x80u8 as i8);
        let mut total = [_mm256_setzero_ps(); MR];
        for g in 0..blocks {
            let p = tile.add(g * bytes);
            if let Some(ahead) = prefetch_distance(MR, half) {
                prefetch(p.wrapping_add(ahead), bytes.div_ceil(64));
            }
            let h = if FORMAT == Q5_0 {
                _mm256_loadu_si256(p.add(288 + 32 * half) as *const __m256i)
            } else {
                _mm256_setzero_si256()
            };
            let mut acc = [_mm256_setzero_si256(); MR];
            for k in 0..4 {
                let a_at = |t: usize| acts.q.as_ptr().add((i0 + t) * cols + 32 * g + 8 * k);
                if FORMAT == Q8_0 {
                    for (j, off) in [(0usize, 0usize), (1, 4)] {
                        let v = _mm256_loadu_si256(
                            p.add(32 + 128 * k + 64 * j + 32 * half) as *const __m256i
                        );
                        let w = _mm256_xor_si256(v, flip);
                        let magnitude = _mm256_sign_epi8(w, w);
                        for t in 0..MR {
                            let a = _mm256_sign_epi8(bcast4(a_at(t).add(off)), w);
                            let prod =
                                _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, a), ones16());
                            acc[t] = _mm256_add_epi32(acc[t], prod);
                        }
                    }
                } else {
                    let v = _mm256_loadu_si256(p.add(32 + 64 * k + 32 * half) as *const __m256i);
                    let lo = _mm256_and_si256(v, m4);
                    let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                    let at4 = |j: usize| match j {
                        0 => _mm256_slli_epi16(h, 4),
                        1 => _mm256_slli_epi16(h, 3),
                        2 => _mm256_slli_epi16(h, 2),
                        3 => _mm256_slli_epi16(h, 1),
                        4 => h,
                        5 => _mm256_srli_epi16(h, 1),
                        6 => _mm256_srli_epi16(h, 2),
                        _ => _mm256_srli_epi16(h, 3),
                    };
                    let w_lo = _mm256_or_si256(lo, _mm256_and_si256(at4(2 * k), high_bit));
                    let w_hi = _mm256_or_si256(hi, _mm256_and_si256(at4(2 * k + 1), high_bit));
                    for t in 0..MR {
                        let pair = _mm256_add_epi16(
                            _mm256_maddubs_epi16(w_lo, bcast4(a_at(t))),
                            _mm256_maddubs_epi16(w_hi, bcast4(a_at(t).add(4))),
                        );
                        acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(pair, ones16()));
                    }
                }
            }
            let d = f16_lanes(p.add(16 * half));
            for t in 0..MR {
                let at = (i0 + t) * groups + g;
                let dot = if FORMAT == Q5_0 {
                    let sum =
                        *acts.sum16.as_ptr().add(2 * at) + *acts.sum16.as_ptr().add(2 * at + 1);
                    _mm256_sub_epi32(acc[t], _mm256_set1_epi32(16 * sum))
                } else {
                    acc[t]
                };
                let scale = _mm256_mul_ps(d, _mm256_set1_ps(*acts.scale.as_ptr().add(at)));
                total[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, total[t]);
            }
        }
        total
    }

    /// Outputs of tiles `range` for every activation row; `vnni`: use the AVX-VNNI kernels.
    ///
    /// # Safety
    /// The CPU must have AVX2, FMA and F16C (and AVX-VNNI if `vnni`); `acts` with the
    /// granularity the format needs
    /// (per 256 for K-quants); `out` an (acts.rows, w.rows) buffer whose columns in these
    /// tiles no one else writes meanwhile.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn tile_rows(
        w: &QuantMatrix,
        tiles: &Tiles,
        acts: &QuantizedActs,
        range: Range<usize>,
        out: *mut f32,
        vnni: bool,
    ) {
        let (m, n) = (acts.rows, w.rows);
        let per_tile = tiles.blocks * tiles.tile_bytes;
        let mut i = 0;
        // K-quant halves: both in one pass for a single activation row (decoding), one per
        // pass for blocks of rows (registers run out otherwise).
        macro_rules! k_quant {
            ($kernel:ident, $p:expr, $t:expr, $mr:literal, $h:literal) => {
                for first in (0..2).step_by($h) {
                    let res = $kernel::<$mr, $h>($p, tiles.blocks, acts, i, first);
                    for (u, halves) in res.iter().enumerate() {
                        for (h, v) in halves.iter().enumerate() {
                            let col = TILE_ROWS * $t + 8 * (first + h);
                            _mm256_storeu_ps(out.add((i + u) * n + col), *v);
                        }
                    }
                }
            };
        }
        macro_rules! sweep {
            ($mr:literal, $h:literal) => {
                for t in range.clone() {
                    let p = tiles.as_ptr().add(t * per_tile);
                    match w.format {
                        WeightFormat::Q4K if vnni => k_quant!(tile_q4k_vnni, p, t, $mr, $h),
                        WeightFormat::Q6K if vnni => k_quant!(tile_q6k_vnni, p, t, $mr, $h),
                        WeightFormat::Q4K => k_quant!(tile_q4k, p, t, $mr, $h),
                        WeightFormat::Q6K => k_quant!(tile_q6k, p, t, $mr, $h),
                        _ => {
                            for half in 0..2 {
                                let res = if w.format == WeightFormat::Q8_0 {
                                    tile_g32::<$mr, Q8_0>(p, tiles.blocks, acts, i, half)
                                } else {
                                    tile_g32::<$mr, Q5_0>(p, tiles.blocks, acts, i, half)
                                };
                                for (u, v) in res.iter().enumerate() {
                                    let col = TILE_ROWS * t + 8 * half;
                                    _mm256_storeu_ps(out.add((i + u) * n + col), *v);
                                }
                            }
                        }
                    }
                }
            };
        }
        while i + 4 <= m {
            sweep!(4, 1);
            i += 4;
        }
        match m - i {
            3 => sweep!(3, 1),
            2 => sweep!(2, 1),
            1 => sweep!(1, 2),
            _ => {}
        }
    }
}
