//! The tiled weights of a model kept on disk, so a second start reads them instead of
//! repacking every matrix (the repack is most of a warm load: 1.8 s of 2.3 s for the 1.5B on a
//! 2-core AVX2 machine).
//!
//! A cache file is a header followed by the arena's bytes. The header is the key: a magic,
//! the model file's size, modification time and the SHA-256 of its first MiB (its metadata and
//! tensor table), and the arena's [`Layout`] (tile-layout version, every matrix's format,
//! shape and place). A file whose header differs in any byte, or whose length is not exactly
//! header + arena, is stale: the weights are repacked and the file rewritten.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::tiled::{HugeBuffer, Layout};

const MAGIC: &[u8; 8] = b"PRECTILE";
/// How much of the model file's start the key hashes.
const HASHED_HEAD: u64 = 1 << 20;
/// Reads in pieces of this size, spread over the cores.
const READ_PIECE: usize = 16 << 20;

/// A model file's identity for what is cached from it: its size, modification time and the
/// SHA-256 of its first MiB (metadata and tensor table).
pub fn model_key(model: &Path) -> io::Result<Vec<u8>> {
    let meta = std::fs::metadata(model)?;
    let mtime = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut head = Vec::new();
    File::open(model)?
        .take(HASHED_HEAD)
        .read_to_end(&mut head)?;
    let mut key = Vec::with_capacity(60);
    key.extend(meta.len().to_le_bytes());
    key.extend(mtime.as_secs().to_le_bytes());
    key.extend(mtime.subsec_nanos().to_le_bytes());
    key.extend(Sha256::digest(&head));
    Ok(key)
}

/// A model file's tile cache: where it lives and the model's identity.
pub struct TileCache {
    path: PathBuf,
    model_key: Vec<u8>,
}

impl TileCache {
    /// The cache at `path` for the model file `model` (whose size, mtime and first MiB are
    /// read now).
    pub fn new(model: &Path, path: PathBuf) -> io::Result<Self> {
        Ok(Self {
            path,
            model_key: model_key(model)?,
        })
    }

    fn header(&self, layout: &Layout) -> Vec<u8> {
        let described = layout.describe();
        let mut h = Vec::with_capacity(16 + self.model_key.len() + described.len());
        h.extend(MAGIC);
        h.extend((self.model_key.len() as u32).to_le_bytes());
        h.extend(&self.model_key);
        h.extend((described.len() as u32).to_le_bytes());
        h.extend(described);
        h
    }

    /// The arena read from the cache, when the file is there and matches this model and
    /// layout; `None` otherwise (absent, stale, short, unreadable).
    pub fn load(&self, layout: &Layout) -> Option<HugeBuffer> {
        let header = self.header(layout);
        let file = File::open(&self.path).ok()?;
        if file.metadata().ok()?.len() != (header.len() + layout.total) as u64 {
            return None;
        }
        let mut found = vec![0u8; header.len()];
        read_exact_at(&file, &mut found, 0).ok()?;
        if found != header {
            return None;
        }
        let mut arena = layout.arena()?;
        let at = header.len() as u64;
        // In parallel: the copy out of the page cache and the zeroing of fresh pages are both
        // memory-bound per core.
        arena
            .as_mut_slice()
            .par_chunks_mut(READ_PIECE)
            .enumerate()
            .try_for_each(|(i, piece)| read_exact_at(&file, piece, at + (i * READ_PIECE) as u64))
            .ok()?;
        Some(arena)
    }

    /// Starts writing the arena with its header on a thread of its own, so the first prompt
    /// need not wait for the disk; the returned [`PendingWrite`] waits for it when dropped.
    /// Written to a file of this process's own (`.partial-PID`: two processes starting the
    /// same model never write into one file), synced, then renamed: a reader sees no file or
    /// a whole one. A write cut short (the process killed) leaves its `.partial-PID`, which
    /// the next write removes once that process is gone.
    pub fn store_in_background(&self, layout: &Layout, arena: Arc<HugeBuffer>) -> PendingWrite {
        let header = self.header(layout);
        let path = self.path.clone();
        let writer = std::thread::Builder::new()
            .name("tile-cache".into())
            .spawn(move || write(&path, &header, arena.as_slice()).is_ok());
        PendingWrite(writer.ok())
    }
}

fn write(path: &Path, header: &[u8], body: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        remove_abandoned_partials(dir, path);
    }
    let partial = partial_path(path, std::process::id());
    let mut file = File::create(&partial)?;
    file.write_all(header)?;
    file.write_all(body)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, path)
}

fn partial_path(path: &Path, pid: u32) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{pid}"));
    path.with_file_name(name)
}

/// Removes the partial files of `path` left by processes that no longer run (where that can
/// be told: Linux's `/proc`).
fn remove_abandoned_partials(dir: &Path, path: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Some(prefix) = partial_path(path, 0)
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.trim_end_matches('0').to_string())
    else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A tile cache being written; dropping it waits until the file is complete.
pub struct PendingWrite(Option<std::thread::JoinHandle<bool>>);

impl PendingWrite {
    /// Waits for the write; whether the cache file is now in place.
    pub fn wait(mut self) -> bool {
        self.0.take().is_some_and(|w| w.join().unwrap_or(false))
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            let _ = w.join();
        }
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}
