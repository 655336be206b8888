//! Computed prompt starts kept on disk: the instructions every translation (or look-up) begins
//! with are computed once per model, not once per run (103 tokens, 1.2–1.8 s of the 1.5B on a
//! 2-core AVX2 machine, at the start of every job).
//!
//! A start is kept once two prompts have shared it (instructions, mostly; a look-up's example
//! turn too). A file holds a magic, the model file's key ([`kernels::model_key`]), the
//! cache's shape, the tokens and their keys and values as computed (f32, so a run that reads
//! them computes exactly what it would have computed itself). A file that does not match the
//! model byte for byte is ignored; at most [`KEPT`] files per model are kept, the least
//! recently used removed first.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::decoder::KvCache;
use super::kernels;

const MAGIC: &[u8; 8] = b"PRECISKV";
/// Prompt starts kept per model.
const KEPT: usize = 16;
/// The longest start worth keeping (instructions, not articles).
const LONGEST: usize = 2048;

/// The prompt starts of one model file kept in a directory.
pub struct PromptStore {
    dir: PathBuf,
    /// File names start with this (the model's name and path hash) and go on `.prompt-HASH`.
    stem: String,
    model_key: Vec<u8>,
    /// Starts written or found on disk this run.
    stored: HashSet<[u8; 32]>,
}

impl PromptStore {
    /// The store for `model` in `dir`; file names begin with `stem`.
    pub fn new(model: &Path, dir: PathBuf, stem: String) -> io::Result<Self> {
        Ok(Self {
            dir,
            stem,
            model_key: kernels::model_key(model)?,
            stored: HashSet::new(),
        })
    }

    fn files(&self) -> Vec<PathBuf> {
        let prefix = format!("{}.prompt-", self.stem);
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| {
                        let name = e.file_name();
                        let name = name.to_string_lossy();
                        name.starts_with(&prefix) && !name.contains(".partial-")
                    })
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The header of a stored start when it belongs to this model and cache shape, with its
    /// tokens, leaving `reader` at the keys and values.
    fn read_header(&self, reader: &mut impl Read, shape: (usize, usize)) -> Option<Vec<u32>> {
        let mut head = vec![0u8; MAGIC.len() + self.model_key.len() + 12];
        reader.read_exact(&mut head).ok()?;
        let (magic, rest) = head.split_at(MAGIC.len());
        let (key, rest) = rest.split_at(self.model_key.len());
        let word = |i: usize| u32::from_le_bytes(rest[4 * i..4 * i + 4].try_into().unwrap());
        if magic != MAGIC
            || key != self.model_key
            || (word(0) as usize, word(1) as usize) != shape
            || word(2) as usize > LONGEST
        {
            return None;
        }
        let mut bytes = vec![0u8; 4 * word(2) as usize];
        reader.read_exact(&mut bytes).ok()?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
                .collect(),
        )
    }

    /// Loads into `cache` the longest stored start of `prompt` (leaving at least one token to
    /// compute) that is longer than `longer_than`; returns its length, or `None` (a file that
    /// fails half-way leaves `cache` empty).
    pub fn load_longest(
        &mut self,
        prompt: &[u32],
        longer_than: usize,
        cache: &mut KvCache,
    ) -> Option<usize> {
        let shape = cache.shape();
        let mut best: Option<(usize, PathBuf)> = None;
        for path in self.files() {
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let Some(tokens) = self.read_header(&mut BufReader::new(file), shape) else {
                continue;
            };
            let n = tokens.len();
            if n > longer_than
                && n < prompt.len()
                && prompt.starts_with(&tokens)
                && best.as_ref().is_none_or(|(b, _)| n > *b)
            {
                best = Some((n, path));
            }
        }
        let (n, path) = best?;
        let mut reader = BufReader::new(File::open(&path).ok()?);
        let tokens = self.read_header(&mut reader, shape)?;
        cache.read_prefix(&tokens, &mut reader).ok()?;
        // Used now: the last to be removed.
        if let Ok(file) = File::options().write(true).open(&path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
        self.stored.insert(Sha256::digest(bytes_of(&tokens)).into());
        Some(n)
    }

    /// Notes that the first `len` tokens of `cache` were shared by two prompts: the start is
    /// written to disk unless it was already (errors are ignored: the store only saves time).
    pub fn note_shared(&mut self, cache: &KvCache, len: usize) {
        if len == 0 || len > LONGEST || len > cache.len() {
            return;
        }
        let tokens = &cache.tokens()[..len];
        let hash: [u8; 32] = Sha256::digest(bytes_of(tokens)).into();
        if !self.stored.insert(hash) {
            return;
        }
        let _ = self.write(cache, tokens, &hash);
    }

    fn write(&self, cache: &KvCache, tokens: &[u32], hash: &[u8; 32]) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let name = format!(
            "{}.prompt-{:016x}",
            self.stem,
            u64::from_le_bytes(hash[..8].try_into().unwrap())
        );
        let path = self.dir.join(&name);
        let partial = self
            .dir
            .join(format!("{name}.partial-{}", std::process::id()));
        let result = (|| {
            let mut out = BufWriter::new(File::create(&partial)?);
            let (layers, kv_dim) = cache.shape();
            out.write_all(MAGIC)?;
            out.write_all(&self.model_key)?;
            for word in [layers, kv_dim, tokens.len()] {
                out.write_all(&(word as u32).to_le_bytes())?;
            }
            out.write_all(&bytes_of(tokens))?;
            cache.write_prefix(tokens.len(), &mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&partial, &path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        self.remove_oldest_beyond(KEPT);
        result
    }

    fn remove_oldest_beyond(&self, kept: usize) {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = self
            .files()
            .into_iter()
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .collect();
        if files.len() > kept {
            files.sort();
            for (_, path) in &files[..files.len() - kept] {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn bytes_of(tokens: &[u32]) -> Vec<u8> {
    tokens.iter().flat_map(|t| t.to_le_bytes()).collect()
}
