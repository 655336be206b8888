//! Weights repacked at load time into tiles of 16 rows, for the AVX-512 kernels.
//!
//! In GGUF order each weight row is a run of super-blocks, so a kernel sums one row at a time:
//! every group of 32 products needs its own scale multiply, and every output a horizontal sum.
//! In a tile, the 16 rows' values for the same 4 (or 8, as two nibbles) columns sit side by
//! side in one 64-byte vector: one `vpdpbusd` against 4 broadcast activation bytes advances all
//! 16 outputs, an integer sum runs over a whole group before one scale multiply, and each lane
//! ends holding one output (no horizontal sums). llama.cpp repacks Q4_K for the same reason.
//!
//! Tile layouts, per super-block of 256 columns, rows r = 0..16 (lane r):
//! - Q4_K (2368 bytes): `d[16]`, `dmin[16]` (f16); `scale[8][16]`, `min[8][16]` (6-bit, u8);
//!   then per group g and chunk k (0..4) 64 bytes: byte 4r+b holds column 32g+8k+b in the low
//!   nibble and column 32g+8k+4+b in the high one.
//! - Q6_K (3360 bytes, as 16 GGUF blocks): `d[16]` (f16); `scale[16][16]` (i8, one per 16
//!   columns); the low 4 bits of the unsigned values (0..63) as Q4_K's nibbles; then per
//!   16-column sub-block 64 bytes of high bits: byte 4r+b holds, at bits 2j, the high two bits
//!   of column 16·sub + 4j + b.
//! - Q8_0 (544 bytes per 32 columns): `d[16]` (f16); eight 64-byte vectors, v holding columns
//!   4v..4v+4 as unsigned bytes (value + 128).
//! - Q5_0 (352 bytes per 32 columns): `d[16]` (f16); the low 4 bits of the unsigned values
//!   (0..31) as Q4_K's nibbles for one group; 64 bytes of high bits: byte 4r+b holds at bit j
//!   the high bit of column 4j + b.
//!
//! Unsigned weights meet signed activations in `vpdpbusd`; the offset (128, 32, 16) comes off
//! with the activations' integer sums.

use std::sync::Arc;

use rayon::prelude::*;

use super::formats::q4k_scales_mins;
use super::WeightFormat;

/// Rows per tile (lanes of a 512-bit vector of 32-bit sums).
pub const TILE_ROWS: usize = 16;
pub const Q4K_TILE_BYTES: usize = 2368;
pub const Q6K_TILE_BYTES: usize = 3360;
pub const Q8_0_TILE_BYTES: usize = 544;
pub const Q5_0_TILE_BYTES: usize = 352;

/// A weight matrix in tiles: tile t's blocks are consecutive. The bytes live in an arena
/// shared by all of a model's tiled matrices (one mapping, so huge pages are not wasted on
/// small matrices).
pub struct Tiles {
    arena: Arc<HugeBuffer>,
    start: usize,
    len: usize,
    /// Blocks (of the format's width) per row.
    pub blocks: usize,
    pub tile_bytes: usize,
}

impl Tiles {
    pub fn as_ptr(&self) -> *const u8 {
        self.arena.as_slice()[self.start..self.start + self.len].as_ptr()
    }
}

/// Bumped whenever a tile layout (or the arena's arrangement) changes: tile caches written by
/// another version are rebuilt, not misread.
pub const LAYOUT_VERSION: u32 = 1;

/// How one matrix is tiled.
#[derive(Clone, Copy)]
struct Plan {
    pack: Packer,
    format: WeightFormat,
    rows: usize,
    cols: usize,
    /// Bytes per tile block.
    tile_bytes: usize,
    /// Blocks per row.
    blocks: usize,
    /// Total bytes.
    len: usize,
}

/// How a matrix is tiled; `None` for formats or shapes that are not.
fn plan(format: WeightFormat, rows: usize, cols: usize) -> Option<Plan> {
    if rows == 0 || !rows.is_multiple_of(TILE_ROWS) || !cols.is_multiple_of(format.block_elems()) {
        return None;
    }
    let (tile_bytes, pack): (usize, Packer) = match format {
        WeightFormat::Q4K => (Q4K_TILE_BYTES, pack_q4k),
        WeightFormat::Q6K => (Q6K_TILE_BYTES, pack_q6k),
        WeightFormat::Q8_0 => (Q8_0_TILE_BYTES, pack_q8_0),
        WeightFormat::Q5_0 => (Q5_0_TILE_BYTES, pack_q5_0),
        WeightFormat::Q4_0 => return None,
    };
    let blocks = cols / format.block_elems();
    Some(Plan {
        pack,
        format,
        rows,
        cols,
        tile_bytes,
        blocks,
        len: rows / TILE_ROWS * blocks * tile_bytes,
    })
}

/// Writes one tile block from the same block of 16 GGUF rows.
type Packer = fn(&[&[u8]], &mut [u8]);

/// One matrix to repack: format, GGUF bytes, rows, columns.
pub type Source<'a> = (WeightFormat, &'a [u8], usize, usize);

/// Where every matrix of a model goes in its one arena of tiles (regions start on cache lines).
pub struct Layout {
    plans: Vec<Option<Plan>>,
    starts: Vec<usize>,
    /// Arena bytes.
    pub total: usize,
}

impl Layout {
    pub fn of(sources: &[Source]) -> Self {
        let plans: Vec<_> = sources.iter().map(|&(f, _, r, c)| plan(f, r, c)).collect();
        let mut starts = Vec::with_capacity(plans.len());
        let mut total = 0usize;
        for p in &plans {
            starts.push(total);
            total += p.map_or(0, |p| p.len.next_multiple_of(64));
        }
        Self {
            plans,
            starts,
            total,
        }
    }

    /// The layout in bytes, for a tile cache's key: the version, then per matrix its format,
    /// shape and place (zeros for one left untiled).
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 40 * self.plans.len());
        out.extend(LAYOUT_VERSION.to_le_bytes());
        out.extend((self.plans.len() as u64).to_le_bytes());
        for (p, start) in self.plans.iter().zip(&self.starts) {
            let (format, rows, cols, len) = p.map_or((0, 0, 0, 0), |p| {
                (
                    p.format as u64 + 1,
                    p.rows as u64,
                    p.cols as u64,
                    p.len as u64,
                )
            });
            for v in [format, rows, cols, *start as u64, len] {
                out.extend(v.to_le_bytes());
            }
        }
        out.extend((self.total as u64).to_le_bytes());
        out
    }

    /// A zeroed arena of this layout's size (`None` when the memory cannot be had).
    pub fn arena(&self) -> Option<HugeBuffer> {
        (self.total > 0)
            .then(|| HugeBuffer::new(self.total))
            .flatten()
    }

    /// Repacks every matrix that can be tiled into `arena`. `done(i)` is called as soon as
    /// source i has been read (so its pages can be released before the next is read).
    pub fn repack(&self, sources: &[Source], arena: &mut HugeBuffer, done: impl Fn(usize)) {
        let mut rest = arena.as_mut_slice();
        for (i, (p, &(format, src, _, _))) in self.plans.iter().zip(sources).enumerate() {
            let Some(p) = *p else {
                continue;
            };
            let (region, tail) = rest.split_at_mut(p.len.next_multiple_of(64));
            rest = tail;
            let block_bytes = format.block_bytes();
            let row_bytes = p.blocks * block_bytes;
            region[..p.len]
                .par_chunks_mut(p.blocks * p.tile_bytes)
                .enumerate()
                .for_each(|(t, tile_row)| {
                    let mut src_blocks: [&[u8]; TILE_ROWS] = [&[]; TILE_ROWS];
                    for (b, out) in tile_row.chunks_mut(p.tile_bytes).enumerate() {
                        for (r, block) in src_blocks.iter_mut().enumerate() {
                            let start = (t * TILE_ROWS + r) * row_bytes + b * block_bytes;
                            *block = &src[start..start + block_bytes];
                        }
                        (p.pack)(&src_blocks, out);
                    }
                });
            done(i);
        }
    }

    /// Each matrix's tiles in a filled arena (`None` for those left untiled).
    pub fn tiles(&self, arena: &Arc<HugeBuffer>) -> Vec<Option<Tiles>> {
        self.plans
            .iter()
            .zip(&self.starts)
            .map(|(p, &start)| {
                p.map(|p| Tiles {
                    arena: arena.clone(),
                    start,
                    len: p.len,
                    blocks: p.blocks,
                    tile_bytes: p.tile_bytes,
                })
            })
            .collect()
    }
}

/// Four consecutive bytes as a little-endian word.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

const LOW4: u32 = 0x0F0F_0F0F;
const LOW2: u32 = 0x0303_0303;

/// Writes 16 rows' values (`out.len() / 8` per row) in the shared nibble layout. `row_words(r, c)` gives the four
/// values of row r at columns c..c+4 as bytes of a word, their low 4 bits in the low nibble
/// of each byte (the high nibble is ignored).
fn pack_nibbles(out: &mut [u8], row_words: impl Fn(usize, usize) -> u32) {
    for g in 0..out.len() / 256 {
        for k in 0..4 {
            let c = 32 * g + 8 * k;
            for r in 0..TILE_ROWS {
                let packed = (row_words(r, c) & LOW4) | ((row_words(r, c + 4) & LOW4) << 4);
                let at = 256 * g + 64 * k + 4 * r;
                out[at..at + 4].copy_from_slice(&packed.to_le_bytes());
            }
        }
    }
}

fn pack_q4k(src: &[&[u8]], out: &mut [u8]) {
    for (r, block) in src.iter().enumerate() {
        out[2 * r..2 * r + 2].copy_from_slice(&block[0..2]);
        out[32 + 2 * r..34 + 2 * r].copy_from_slice(&block[2..4]);
        let (scales, mins) = q4k_scales_mins(&block[4..16]);
        for g in 0..8 {
            out[64 + 16 * g + r] = scales[g];
            out[192 + 16 * g + r] = mins[g];
        }
    }
    // Column c: group c/32, stored in pair (c/64)'s 32 bytes, low nibble for even groups.
    pack_nibbles(&mut out[320..2368], |r, c| {
        let bytes = word(src[r], 16 + 32 * (c / 64) + c % 32);
        if (c / 32).is_multiple_of(2) {
            bytes
        } else {
            bytes >> 4
        }
    });
}

/// A Q6_K block's 256 unsigned 6-bit values (0..63), in column order (ggml's layout: per
/// half of 128, `ql` holds the low 4 bits of columns l and l+64 (and l+32, l+96 in its second
/// 32 bytes), `qh` the high 2 bits of l, l+32, l+64, l+96 at bits 0, 2, 4, 6).
fn q6k_values(block: &[u8]) -> [u8; 256] {
    let mut v = [0u8; 256];
    for n in 0..2 {
        let (ql, qh) = (
            &block[64 * n..64 * n + 64],
            &block[128 + 32 * n..160 + 32 * n],
        );
        let v = &mut v[128 * n..128 * n + 128];
        for l in 0..32 {
            let h = qh[l];
            v[l] = (ql[l] & 0xF) | ((h & 3) << 4);
            v[l + 32] = (ql[l + 32] & 0xF) | (((h >> 2) & 3) << 4);
            v[l + 64] = (ql[l] >> 4) | (((h >> 4) & 3) << 4);
            v[l + 96] = (ql[l + 32] >> 4) | (((h >> 6) & 3) << 4);
        }
    }
    v
}

fn pack_q6k(src: &[&[u8]], out: &mut [u8]) {
    for (r, block) in src.iter().enumerate() {
        out[2 * r..2 * r + 2].copy_from_slice(&block[208..210]);
        for sub in 0..16 {
            out[32 + 16 * sub + r] = block[192 + sub];
        }
    }
    let mut values = [[0u8; 256]; TILE_ROWS];
    for (values, block) in values.iter_mut().zip(src) {
        *values = q6k_values(block);
    }
    pack_nibbles(&mut out[288..2336], |r, c| word(&values[r], c));
    let high = &mut out[2336..];
    for sub in 0..16 {
        for (r, values) in values.iter().enumerate() {
            // Bits 2j of byte b: column 16·sub + 4j + b (j = 0..4), as the kernels read them.
            let bits = |j: usize| (word(values, 16 * sub + 4 * j) >> 4) & LOW2;
            let packed = bits(0) | (bits(1) << 2) | (bits(2) << 4) | (bits(3) << 6);
            let at = 64 * sub + 4 * r;
            high[at..at + 4].copy_from_slice(&packed.to_le_bytes());
        }
    }
}

fn pack_q8_0(src: &[&[u8]], out: &mut [u8]) {
    for (r, block) in src.iter().enumerate() {
        out[2 * r..2 * r + 2].copy_from_slice(&block[0..2]);
        for v in 0..8 {
            // Two's complement to offset binary: value + 128.
            let unsigned = word(block, 2 + 4 * v) ^ 0x8080_8080;
            let at = 32 + 64 * v + 4 * r;
            out[at..at + 4].copy_from_slice(&unsigned.to_le_bytes());
        }
    }
}

fn pack_q5_0(src: &[&[u8]], out: &mut [u8]) {
    let mut values = [[0u8; 32]; TILE_ROWS];
    for (r, block) in src.iter().enumerate() {
        out[2 * r..2 * r + 2].copy_from_slice(&block[0..2]);
        let qh = word(block, 2);
        for l in 0..16 {
            let q = block[6 + l];
            values[r][l] = (q & 0xF) | ((((qh >> l) & 1) as u8) << 4);
            values[r][l + 16] = (q >> 4) | ((((qh >> (l + 16)) & 1) as u8) << 4);
        }
    }
    pack_nibbles(&mut out[32..288], |r, c| word(&values[r], c));
    for r in 0..TILE_ROWS {
        let mut packed = 0u32;
        for j in 0..8 {
            packed |= ((word(&values[r], 4 * j) >> 4) & 0x0101_0101) << j;
        }
        out[288 + 4 * r..292 + 4 * r].copy_from_slice(&packed.to_le_bytes());
    }
}

/// Zeroed memory on 2 MiB pages where the kernel grants them. Decoding streams every weight
/// once per token; with 4 KiB pages that is a TLB miss every 4 KiB (measured: the tiled 1.5B
/// decoded at 26 tok/s on small pages).
pub struct HugeBuffer {
    map: memmap2::MmapMut,
    offset: usize,
    len: usize,
}

const HUGE_PAGE: usize = 2 << 20;

impl HugeBuffer {
    fn new(len: usize) -> Option<Self> {
        // Over-allocate to start on a 2 MiB boundary: huge pages need aligned addresses.
        let map = memmap2::MmapMut::map_anon(len + HUGE_PAGE).ok()?;
        let offset = (HUGE_PAGE - map.as_ptr() as usize % HUGE_PAGE) % HUGE_PAGE;
        // Only a hint: without transparent huge pages the buffer works on small ones.
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        Some(Self { map, offset, len })
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.map[self.offset..self.offset + self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.map[self.offset..self.offset + self.len]
    }
}
