//! GGUF block layouts (as ggml writes them) and their decoding into groups of 32 values.
//!
//! Every format is read as groups of 32 signed 8-bit values `w` with
//! `value[j] = scale * sub[j / 16] * w[j] - min`: Q8_0/Q5_0/Q4_0 have one scale per group,
//! Q4_K adds a minimum per group, Q6_K has a scale per 16 values (`sub`) under one per 256.

use candle_core::quantized::GgmlDType;
use half::f16;

use super::GROUP;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFormat {
    Q8_0,
    Q5_0,
    Q4_0,
    Q4K,
    Q6K,
}

impl WeightFormat {
    pub fn from_ggml(dtype: GgmlDType) -> Option<Self> {
        Some(match dtype {
            GgmlDType::Q8_0 => Self::Q8_0,
            GgmlDType::Q5_0 => Self::Q5_0,
            GgmlDType::Q4_0 => Self::Q4_0,
            GgmlDType::Q4K => Self::Q4K,
            GgmlDType::Q6K => Self::Q6K,
            _ => return None,
        })
    }

    /// Values per block.
    pub fn block_elems(self) -> usize {
        match self {
            Self::Q8_0 | Self::Q5_0 | Self::Q4_0 => 32,
            Self::Q4K | Self::Q6K => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::Q8_0 => 34,
            Self::Q5_0 => 22,
            Self::Q4_0 => 18,
            Self::Q4K => 144,
            Self::Q6K => 210,
        }
    }
}

/// One decoded group of 32 values.
pub struct Group {
    pub w: [i8; GROUP],
    pub scale: f32,
    pub min: f32,
    pub sub: [i16; 2],
}

pub fn half(bytes: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([bytes[at], bytes[at + 1]])).to_f32()
}

/// Q4_K's packed 6-bit (scale, min) of sub-block `j` (ggml's `get_scale_min_k4`).
pub fn q4k_scale_min(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// All eight (scales, mins) of a Q4_K super-block at once, with word operations (the same
/// values as [`q4k_scale_min`] for j = 0..8; ggml's `utmp` trick).
#[inline(always)]
pub fn q4k_scales_mins(packed: &[u8]) -> ([u8; 8], [u8; 8]) {
    const LOW6: u32 = 0x3f3f_3f3f;
    const LOW4: u32 = 0x0f0f_0f0f;
    const LOW2: u32 = 0x0303_0303;
    let word = |i: usize| {
        u32::from_le_bytes([
            packed[4 * i],
            packed[4 * i + 1],
            packed[4 * i + 2],
            packed[4 * i + 3],
        ])
    };
    let (w0, w1, w2) = (word(0), word(1), word(2));
    let scales_hi = (w2 & LOW4) | (((w0 >> 6) & LOW2) << 4);
    let mins_hi = ((w2 >> 4) & LOW4) | (((w1 >> 6) & LOW2) << 4);
    let mut scales = [0u8; 8];
    let mut mins = [0u8; 8];
    scales[..4].copy_from_slice(&(w0 & LOW6).to_le_bytes());
    scales[4..].copy_from_slice(&scales_hi.to_le_bytes());
    mins[..4].copy_from_slice(&(w1 & LOW6).to_le_bytes());
    mins[4..].copy_from_slice(&mins_hi.to_le_bytes());
    (scales, mins)
}

/// Decodes group `g` (counted from the start of `row`).
pub fn decode_group(format: WeightFormat, row: &[u8], g: usize) -> Group {
    let per_block = format.block_elems() / GROUP;
    let block = &row[(g / per_block) * format.block_bytes()..][..format.block_bytes()];
    let j = g % per_block;
    let mut w = [0i8; GROUP];
    let (mut min, mut sub) = (0f32, [1i16, 1]);
    let scale;
    match format {
        WeightFormat::Q8_0 => {
            scale = half(block, 0);
            for (w, &b) in w.iter_mut().zip(&block[2..34]) {
                *w = b as i8;
            }
        }
        WeightFormat::Q4_0 => {
            scale = half(block, 0);
            for l in 0..16 {
                w[l] = (block[2 + l] & 0xF) as i8 - 8;
                w[l + 16] = (block[2 + l] >> 4) as i8 - 8;
            }
        }
        WeightFormat::Q5_0 => {
            scale = half(block, 0);
            let qh = u32::from_le_bytes([block[2], block[3], block[4], block[5]]);
            for l in 0..16 {
                let lo = ((qh >> l) & 1) as u8;
                let hi = ((qh >> (l + 16)) & 1) as u8;
                w[l] = ((block[6 + l] & 0xF) | (lo << 4)) as i8 - 16;
                w[l + 16] = ((block[6 + l] >> 4) | (hi << 4)) as i8 - 16;
            }
        }
        WeightFormat::Q4K => {
            let (d, dmin) = (half(block, 0), half(block, 2));
            let (sc, m) = q4k_scale_min(j, &block[4..16]);
            scale = d * sc as f32;
            min = dmin * m as f32;
            let qs = &block[16 + 32 * (j / 2)..][..32];
            for (w, &b) in w.iter_mut().zip(qs) {
                *w = if j.is_multiple_of(2) { b & 0xF } else { b >> 4 } as i8;
            }
        }
        WeightFormat::Q6K => {
            let (n, k) = (j / 4, j % 4);
            let ql = &block[64 * n + 32 * (k & 1)..][..32];
            let qh = &block[128 + 32 * n..][..32];
            for l in 0..32 {
                let nib = if k < 2 { ql[l] & 0xF } else { ql[l] >> 4 };
                let hb = (qh[l] >> (2 * k)) & 3;
                w[l] = (nib | (hb << 4)) as i8 - 32;
            }
            let sc = &block[192..208];
            sub = [
                sc[8 * n + 2 * k] as i8 as i16,
                sc[8 * n + 2 * k + 1] as i8 as i16,
            ];
            scale = half(block, 208);
        }
    }
    Group { w, scale, min, sub }
}

/// `x` (a whole number of 32-value groups) as GGUF Q8_0 blocks: the format the loader converts
/// other weight formats to.
pub fn quantize_q8_0(x: &[f32]) -> Vec<u8> {
    assert_eq!(x.len() % GROUP, 0, "Q8_0 needs whole groups of 32");
    let mut out = Vec::with_capacity(x.len() / GROUP * 34);
    for group in x.chunks(GROUP) {
        let amax = group.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_bits().to_le_bytes());
        out.extend(group.iter().map(|v| (v * inv).round() as i8 as u8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4k_scales_decoded_at_once_match_one_by_one() {
        let mut seed = 0x1234_5678u32;
        for _ in 0..200 {
            let packed: Vec<u8> = (0..12)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect();
            let (scales, mins) = q4k_scales_mins(&packed);
            for j in 0..8 {
                assert_eq!(
                    (scales[j], mins[j]),
                    q4k_scale_min(j, &packed),
                    "{packed:?} j={j}"
                );
            }
        }
    }
}
