//! Small f32 vector operations of the decoder, with AVX2/FMA versions of the two that
//! attention spends its time in (dot products with keys, sums of values).

use super::cpu;

/// Σ a[i] * b[i].
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if cpu().avx2 {
        // SAFETY: the CPU has AVX2 and FMA (checked by `cpu`).
        return unsafe { x86::dot(a, b) };
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// y[i] += alpha * x[i].
#[inline]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    debug_assert_eq!(x.len(), y.len());
    #[cfg(target_arch = "x86_64")]
    if cpu().avx2 {
        // SAFETY: as above.
        return unsafe { x86::axpy(alpha, x, y) };
    }
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// RMS normalisation of each `weight.len()`-wide row of `x` into `out`.
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let n = weight.len();
    for (x, out) in x.chunks(n).zip(out.chunks_mut(n)) {
        let mean_sq = x.iter().map(|v| v * v).sum::<f32>() / n as f32;
        let inv = 1.0 / (mean_sq + eps).sqrt();
        for ((o, v), w) in out.iter_mut().zip(x).zip(weight) {
            *o = v * inv * w;
        }
    }
}

/// In place: the softmax of `x`.
pub fn softmax(x: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if cpu().avx2 {
        // SAFETY: the CPU has AVX2 and FMA (checked by `cpu`).
        return unsafe { x86::softmax(x) };
    }
    let max = x.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let mut sum = 0f32;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// gate[i] = silu(gate[i]) * up[i].
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

/// Rotary position embedding on each `head_dim`-wide head of `x` (the "rotate half" form
/// Qwen2 uses), with precomputed cos/sin rows of `head_dim / 2` for this position.
pub fn rope(x: &mut [f32], head_dim: usize, cos: &[f32], sin: &[f32]) {
    let half = head_dim / 2;
    for head in x.chunks_mut(head_dim) {
        let (a, b) = head.split_at_mut(half);
        for i in 0..half {
            let (x0, x1) = (a[i], b[i]);
            a[i] = x0 * cos[i] - x1 * sin[i];
            b[i] = x0 * sin[i] + x1 * cos[i];
        }
    }
}

/// Rotary position embedding in Llama's layout: the pairs `(x[2i], x[2i+1])` of each head
/// are rotated by angle `i` (llama.cpp's "normal" RoPE).
pub fn rope_pairs(x: &mut [f32], head_dim: usize, cos: &[f32], sin: &[f32]) {
    for head in x.chunks_mut(head_dim) {
        for (pair, (c, s)) in head.chunks_exact_mut(2).zip(cos.iter().zip(sin)) {
            let (x0, x1) = (pair[0], pair[1]);
            pair[0] = x0 * c - x1 * s;
            pair[1] = x0 * s + x1 * c;
        }
    }
}

/// `gate = gelu(gate) * up`, GELU in its tanh approximation (what Gemma was trained with).
pub fn gelu_tanh_mul(gate: &mut [f32], up: &[f32]) {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    for (g, u) in gate.iter_mut().zip(up) {
        let x = *g;
        let inner = SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x);
        *g = 0.5 * x * (1.0 + inner.tanh()) * u;
    }
}

/// Attention of the query heads in `queries` (each `hd` wide) that share one KV head, over
/// the first `len` cached positions; the head's keys and values start at `off` in each
/// `stride`-wide cache row. `scores` is scratch space; `out` gets one `hd` row per head.
#[allow(clippy::too_many_arguments)]
pub fn attend_heads(
    queries: &[f32],
    hd: usize,
    keys: &[f32],
    values: &[f32],
    len: usize,
    stride: usize,
    off: usize,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let heads = queries.len() / hd;
    assert_eq!(out.len(), heads * hd, "attention output shape");
    assert!(len >= 1 && (len - 1) * stride + off + hd <= keys.len().min(values.len()));
    // Every score is written below: grow the scratch, never clear it.
    if scores.len() < heads * len {
        scores.resize(heads * len, 0.0);
    }
    let scores = &mut scores[..heads * len];
    #[cfg(target_arch = "x86_64")]
    if cpu().avx2 && hd.is_multiple_of(32) {
        // SAFETY: AVX2 and FMA checked by `cpu`; shapes checked above.
        unsafe {
            x86::scores(queries, hd, keys, len, stride, off, scale, scores);
            for head_scores in scores.chunks_mut(len) {
                softmax(head_scores);
            }
            x86::weighted_values(scores, hd, values, len, stride, off, out);
        }
        return;
    }
    for t in 0..len {
        let key = &keys[t * stride + off..][..hd];
        for (h, q) in queries.chunks(hd).enumerate() {
            scores[h * len + t] = dot(q, key) * scale;
        }
    }
    for head_scores in scores.chunks_mut(len) {
        softmax(head_scores);
    }
    out.fill(0.0);
    for t in 0..len {
        let value = &values[t * stride + off..][..hd];
        for (h, o) in out.chunks_mut(hd).enumerate() {
            axpy(scores[h * len + t], value, o);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let mut i = 0;
        while i + 16 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            acc1 = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
                acc1,
            );
            i += 16;
        }
        if i + 8 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            i += 8;
        }
        let v = _mm256_add_ps(acc0, acc1);
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let mut total = _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
        while i < n {
            total += a[i] * b[i];
            i += 1;
        }
        total
    }

    /// Σ of each of the four vectors' lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum4(a: __m256, b: __m256, c: __m256, d: __m256) -> __m128 {
        let ab = _mm256_hadd_ps(a, b);
        let cd = _mm256_hadd_ps(c, d);
        let abcd = _mm256_hadd_ps(ab, cd);
        _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1))
    }

    /// `scores[h * len + t] = scale · q_h · k_t`, four positions at a time (one load of a
    /// query chunk serves four keys, one reduction gives four scores). `hd` a multiple of 8.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn scores(
        queries: &[f32],
        hd: usize,
        keys: &[f32],
        len: usize,
        stride: usize,
        off: usize,
        scale: f32,
        scores: &mut [f32],
    ) {
        let heads = queries.len() / hd;
        let k = keys.as_ptr().add(off);
        let mut t = 0;
        while t + 4 <= len {
            let rows = [0, 1, 2, 3].map(|i| k.add((t + i) * stride));
            // Two heads per pass: each key chunk loaded once feeds eight accumulators (the
            // loads, not the multiplies, bound one head at a time). Per head the arithmetic
            // is the same as alone.
            let mut h = 0;
            while h + 2 <= heads {
                let (q0, q1) = (
                    queries.as_ptr().add(h * hd),
                    queries.as_ptr().add((h + 1) * hd),
                );
                let mut a0 = [_mm256_setzero_ps(); 4];
                let mut a1 = [_mm256_setzero_ps(); 4];
                for d in (0..hd).step_by(8) {
                    let (qv0, qv1) = (_mm256_loadu_ps(q0.add(d)), _mm256_loadu_ps(q1.add(d)));
                    for i in 0..4 {
                        let key = _mm256_loadu_ps(rows[i].add(d));
                        a0[i] = _mm256_fmadd_ps(qv0, key, a0[i]);
                        a1[i] = _mm256_fmadd_ps(qv1, key, a1[i]);
                    }
                }
                for (head, acc) in [(h, a0), (h + 1, a1)] {
                    let sums =
                        _mm_mul_ps(hsum4(acc[0], acc[1], acc[2], acc[3]), _mm_set1_ps(scale));
                    _mm_storeu_ps(scores.as_mut_ptr().add(head * len + t), sums);
                }
                h += 2;
            }
            if h < heads {
                let q = queries.as_ptr().add(h * hd);
                let mut acc = [_mm256_setzero_ps(); 4];
                for d in (0..hd).step_by(8) {
                    let qv = _mm256_loadu_ps(q.add(d));
                    for i in 0..4 {
                        acc[i] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(rows[i].add(d)), acc[i]);
                    }
                }
                let sums = _mm_mul_ps(hsum4(acc[0], acc[1], acc[2], acc[3]), _mm_set1_ps(scale));
                _mm_storeu_ps(scores.as_mut_ptr().add(h * len + t), sums);
            }
            t += 4;
        }
        while t < len {
            let key = std::slice::from_raw_parts(k.add(t * stride), hd);
            for h in 0..heads {
                scores[h * len + t] = dot(&queries[h * hd..(h + 1) * hd], key) * scale;
            }
            t += 1;
        }
    }

    /// `out_h = Σ_t probs[h * len + t] · v_t`, in blocks of positions small enough to stay in
    /// L1 while every head and 32-wide slice of the output (kept in registers) passes over
    /// them. `hd` a multiple of 32.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn weighted_values(
        probs: &[f32],
        hd: usize,
        values: &[f32],
        len: usize,
        stride: usize,
        off: usize,
        out: &mut [f32],
    ) {
        const BLOCK: usize = 64;
        let heads = out.len() / hd;
        let v = values.as_ptr().add(off);
        out.fill(0.0);
        for start in (0..len).step_by(BLOCK) {
            let end = (start + BLOCK).min(len);
            // Two heads per pass: each value chunk loaded once feeds both (same order of
            // additions per head as alone).
            let mut h = 0;
            while h + 2 <= heads {
                let (p0, p1) = (
                    probs.as_ptr().add(h * len),
                    probs.as_ptr().add((h + 1) * len),
                );
                for d in (0..hd).step_by(32) {
                    let (o0, o1) = (
                        out.as_mut_ptr().add(h * hd + d),
                        out.as_mut_ptr().add((h + 1) * hd + d),
                    );
                    let mut a0 = [0, 1, 2, 3].map(|i| _mm256_loadu_ps(o0.add(8 * i)));
                    let mut a1 = [0, 1, 2, 3].map(|i| _mm256_loadu_ps(o1.add(8 * i)));
                    for t in start..end {
                        let (w0, w1) = (_mm256_set1_ps(*p0.add(t)), _mm256_set1_ps(*p1.add(t)));
                        let row = v.add(t * stride + d);
                        for i in 0..4 {
                            let value = _mm256_loadu_ps(row.add(8 * i));
                            a0[i] = _mm256_fmadd_ps(w0, value, a0[i]);
                            a1[i] = _mm256_fmadd_ps(w1, value, a1[i]);
                        }
                    }
                    for i in 0..4 {
                        _mm256_storeu_ps(o0.add(8 * i), a0[i]);
                        _mm256_storeu_ps(o1.add(8 * i), a1[i]);
                    }
                }
                h += 2;
            }
            if h < heads {
                let p = probs.as_ptr().add(h * len);
                for d in (0..hd).step_by(32) {
                    let o = out.as_mut_ptr().add(h * hd + d);
                    let mut acc = [0, 1, 2, 3].map(|i| _mm256_loadu_ps(o.add(8 * i)));
                    for t in start..end {
                        let w = _mm256_set1_ps(*p.add(t));
                        let row = v.add(t * stride + d);
                        for (i, a) in acc.iter_mut().enumerate() {
                            *a = _mm256_fmadd_ps(w, _mm256_loadu_ps(row.add(8 * i)), *a);
                        }
                    }
                    for (i, a) in acc.iter().enumerate() {
                        _mm256_storeu_ps(o.add(8 * i), *a);
                    }
                }
            }
        }
    }

    /// In place: the softmax of `x`, bit for bit the portable one: the maximum (exact in any
    /// order) and the final scaling eight lanes at a time; `exp` and the running sum stay
    /// scalar and in order, as a vector exp or a reordered sum would change greedy outputs.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn softmax(x: &mut [f32]) {
        let n = x.len();
        let p = x.as_mut_ptr();
        let mut maxv = _mm256_set1_ps(f32::NEG_INFINITY);
        let mut i = 0;
        while i + 8 <= n {
            maxv = _mm256_max_ps(maxv, _mm256_loadu_ps(p.add(i)));
            i += 8;
        }
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), maxv);
        let max = x[i..]
            .iter()
            .chain(&lanes)
            .fold(f32::NEG_INFINITY, |m, v| m.max(*v));
        let mut sum = 0f32;
        for v in x.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        let inv = 1.0 / sum;
        let invv = _mm256_set1_ps(inv);
        let mut i = 0;
        while i + 8 <= n {
            _mm256_storeu_ps(p.add(i), _mm256_mul_ps(_mm256_loadu_ps(p.add(i)), invv));
            i += 8;
        }
        for v in &mut x[i..] {
            *v *= inv;
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let a = _mm256_set1_ps(alpha);
        let mut i = 0;
        while i + 8 <= n {
            let v = _mm256_fmadd_ps(_mm256_loadu_ps(px.add(i)), a, _mm256_loadu_ps(py.add(i)));
            _mm256_storeu_ps(py.add(i), v);
            i += 8;
        }
        while i < n {
            y[i] += alpha * x[i];
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_dot_and_axpy_match_plain_arithmetic() {
        for n in [1usize, 7, 8, 16, 31, 64, 128] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "dot n={n}");
            let mut y = b.clone();
            axpy(0.5, &a, &mut y);
            for i in 0..n {
                assert!((y[i] - (b[i] + 0.5 * a[i])).abs() < 1e-6, "axpy n={n}");
            }
        }
    }

    #[test]
    fn grouped_attention_matches_plain_arithmetic() {
        let value = |i: usize, salt: f32| ((i as f32 * 0.731 + salt).sin() * 1.7).fract();
        for (heads, hd) in [(1usize, 32usize), (6, 128), (7, 64), (2, 40)] {
            for len in [1usize, 3, 4, 5, 63, 64, 65, 130] {
                let stride = 2 * hd + 16;
                let off = hd + 8;
                let queries: Vec<f32> = (0..heads * hd).map(|i| value(i, 0.3)).collect();
                let keys: Vec<f32> = (0..len * stride).map(|i| value(i, 1.1)).collect();
                let values: Vec<f32> = (0..len * stride).map(|i| value(i, 2.9)).collect();
                let scale = 1.0 / (hd as f32).sqrt();
                let mut out = vec![0f32; heads * hd];
                let mut scratch = Vec::new();
                attend_heads(
                    &queries,
                    hd,
                    &keys,
                    &values,
                    len,
                    stride,
                    off,
                    scale,
                    &mut scratch,
                    &mut out,
                );
                for h in 0..heads {
                    let q = &queries[h * hd..(h + 1) * hd];
                    let mut p: Vec<f64> = (0..len)
                        .map(|t| {
                            let k = &keys[t * stride + off..][..hd];
                            q.iter().zip(k).map(|(a, b)| (a * b) as f64).sum::<f64>() * scale as f64
                        })
                        .collect();
                    let max = p.iter().cloned().fold(f64::MIN, f64::max);
                    let sum: f64 = p
                        .iter_mut()
                        .map(|x| {
                            *x = (*x - max).exp();
                            *x
                        })
                        .sum();
                    for j in 0..hd {
                        let expected: f64 = (0..len)
                            .map(|t| p[t] / sum * values[t * stride + off + j] as f64)
                            .sum();
                        let got = out[h * hd + j] as f64;
                        assert!(
                            (got - expected).abs() < 1e-5,
                            "heads {heads} hd {hd} len {len}: {got} vs {expected}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn softmax_equals_the_plain_loop_bit_for_bit() {
        for n in [1usize, 3, 8, 9, 63, 200] {
            let x: Vec<f32> = (0..n)
                .map(|i| (i as f32 * 1.37).sin() * 30.0 - 10.0)
                .collect();
            let mut got = x.clone();
            softmax(&mut got);
            let max = x.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
            let mut want: Vec<f32> = x.iter().map(|v| (v - max).exp()).collect();
            let inv = 1.0 / want.iter().fold(0f32, |s, v| s + v);
            want.iter_mut().for_each(|v| *v *= inv);
            let same = got
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "n {n}: {got:?} vs {want:?}");
        }
    }

    #[test]
    fn softmax_is_stable_and_sums_to_one() {
        let mut x = vec![1000.0, 1001.0, 999.0];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(x[1] > x[0] && x[0] > x[2]);
    }
}
