//! Where a model's start-up caches live on disk: its tiled weights ([`TileCache`]) and its
//! computed prompt starts ([`PromptStore`]), kept between runs to make the next start fast.

use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::kernels::TileCache;
use crate::prompt_cache::PromptStore;

/// Where Précis keeps model files of its own (mirror downloads, imports) and, by default, their
/// start-up caches: `$PRECIS_MODELS_DIR`, else the user cache.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PRECIS_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("precis")
        .join("models")
}

/// Where the tiled weights of the model file `model` are cached between starts
/// ([`TileCache`]): `$PRECIS_TILE_CACHE` (a directory; `0` turns the cache off), else
/// `tile-cache/` in [`models_dir`] — not beside the file, which may sit in the shared Hugging
/// Face cache or a read-only folder. Named after the file and a hash of its full
/// path, so two models of the same file name never share one. `None` for files under 64 MiB.
pub fn tile_cache_path(model: &Path) -> Option<PathBuf> {
    // A small model repacks faster than its cache would be read (and test models would
    // litter the cache).
    const SMALLEST_CACHED: u64 = 64 << 20;
    if std::fs::metadata(model).ok()?.len() < SMALLEST_CACHED {
        return None;
    }
    let dir = match std::env::var_os("PRECIS_TILE_CACHE") {
        Some(v) if v == "0" => return None,
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => models_dir().join("tile-cache"),
    };
    let full = std::fs::canonicalize(model).unwrap_or_else(|_| model.to_path_buf());
    let hash = sha2::Sha256::digest(full.as_os_str().as_encoded_bytes());
    let stem = model.file_stem().unwrap_or_default().to_string_lossy();
    Some(dir.join(format!(
        "{stem}-{:016x}.tiles",
        u64::from_le_bytes(hash[..8].try_into().ok()?)
    )))
}

/// The tile cache for the model file `model` ([`tile_cache_path`]); `None` when it is off, the
/// file is small, or the model's head cannot be read (the weights are then simply repacked).
pub fn tile_cache(model: &Path) -> Option<TileCache> {
    TileCache::new(model, tile_cache_path(model)?).ok()
}

/// The computed prompt starts of `model` kept beside its tile cache (files named after it, with
/// `.prompt-HASH`); `None` when the tile cache is off for it.
pub fn prompt_store(model: &Path) -> Option<PromptStore> {
    let tiles = tile_cache_path(model)?;
    let stem = tiles.file_stem()?.to_string_lossy().into_owned();
    PromptStore::new(model, tiles.parent()?.to_path_buf(), stem).ok()
}

/// The files cached for `model` to make its next start fast: its tiles and prompt starts.
pub fn start_up_cache_files(model: &Path) -> Vec<PathBuf> {
    let Some(tiles) = tile_cache_path(model) else {
        return Vec::new();
    };
    let prompts = format!(
        "{}.prompt-",
        tiles.file_stem().unwrap_or_default().to_string_lossy()
    );
    let mut files: Vec<PathBuf> = (tiles.parent().and_then(|d| std::fs::read_dir(d).ok()))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prompts))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    files.push(tiles);
    files
}
