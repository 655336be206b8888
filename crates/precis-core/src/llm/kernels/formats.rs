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
                *w = if j % 2 == 0 { b & 0xF } else { b >> 4 } as i8;
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
