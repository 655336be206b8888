//! AVX2 + FMA + F16C kernels, compiled for every x86-64 build and used only when the CPU has
//! them (checked at run time in [`super::cpu`]).
//!
//! Per weight group: decode 32 values into one register (`w`), then for each of up to four
//! activation rows: `maddubs(|w|, sign(a, w))` (exact 8-bit products summed in pairs), `madd`
//! with the sub-scales (or ones), convert, and fused-multiply-add with `scale_w * scale_a`.

use std::ops::Range;

use super::{QuantMatrix, QuantizedActs, WeightFormat, GROUP};

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

#[cfg(target_arch = "x86_64")]
pub use x86::rows;

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
            let (sc, mn) = crate::llm::kernels::formats::q4k_scales_mins(packed);
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
}
