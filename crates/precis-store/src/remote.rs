//! The remote engine as the window keeps it: its settings (`remote.json`: whether it is on, and
//! [`RemoteSettings`]) and its API key, kept apart from everything else Précis stores (never in
//! the history, the settings, logs or exports): in the OS keyring (Secret Service — GNOME
//! Keyring, KWallet — on Linux, the Keychain on macOS, the Credential Manager on Windows) where
//! one answers, else in a file only the user can read (mode 0600). The settings are written
//! atomically in the data directory. A key in the environment (`PRECIS_REMOTE_API_KEY`) wins and
//! is never stored.

use std::path::{Path, PathBuf};

use precis_core::models::RemoteSettings;
use precis_core::Error;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the window keeps of the remote engine.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSetup {
    /// Jobs run on the remote engine (else on the local model).
    pub enabled: bool,
    /// The last settings entered, kept while the engine is off.
    pub settings: Option<RemoteSettings>,
}

/// The settings file in a data directory.
pub fn setup_path(data_dir: &Path) -> PathBuf {
    data_dir.join("remote.json")
}

/// The stored set-up; the default (off, nothing entered) when none was saved. A file that
/// cannot be read is an error (rather than silently running locally, or remotely).
pub fn load_setup(data_dir: &Path) -> Result<RemoteSetup, Error> {
    let path = setup_path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RemoteSetup::default()),
        Err(source) => Err(Error::Io { path, source }),
    }
}

pub fn save_setup(data_dir: &Path, setup: &RemoteSetup) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(setup).map_err(|e| Error::Write {
        path: setup_path(data_dir),
        source: std::io::Error::other(e),
    })?;
    write_private(data_dir, &setup_path(data_dir), &json)
}

/// Writes `bytes` to `path` in `data_dir` (made if missing), for the user's eyes only.
fn write_private(data_dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::create_dir_all(data_dir).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })?;
    precis_core::atomic::write_private(path, bytes)
}

/// The variable a key in the environment is read from (it wins over the stored one).
pub const API_KEY_VARIABLE: &str = "PRECIS_REMOTE_API_KEY";

/// The key's file in a data directory (where no keyring answers).
pub fn api_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("remote-api-key")
}

/// Says the key is in the OS keyring, and holds the name of its entry there (status checks
/// need not ask the keyring, and a moved data folder still finds its key).
fn keyring_marker_path(data_dir: &Path) -> PathBuf {
    data_dir.join("remote-api-key.in-keyring")
}

const KEYRING_SERVICE: &str = "Précis remote engine API key";

fn keyring_entry(account: &str) -> Result<keyring::Entry, keyring::Error> {
    keyring::Entry::new(KEYRING_SERVICE, account)
}

/// The keyring entry's name, when the marker says the key is in the keyring.
fn keyring_account(data_dir: &Path) -> Option<String> {
    let account = std::fs::read_to_string(keyring_marker_path(data_dir)).ok()?;
    Some(account.trim().to_string()).filter(|a| !a.is_empty())
}

/// A fresh entry name: each data folder (a test's too) has its own key.
fn new_keyring_account() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    hasher.write_u128(now.map(|d| d.as_nanos()).unwrap_or(0));
    hasher.write_u32(std::process::id());
    format!("key-{:016x}", hasher.finish())
}

/// Where a stored key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPlace {
    Keyring,
    File,
}

/// Stores `key` (surrounding blanks dropped) in the OS keyring, or where none answers in a file
/// only the user can read; an empty key removes the stored one. Returns where it went.
pub fn save_api_key(data_dir: &Path, key: &str) -> Result<Option<KeyPlace>, Error> {
    let key = key.trim();
    if key.is_empty() {
        delete_api_key(data_dir)?;
        return Ok(None);
    }
    if key.chars().any(char::is_control) {
        return Err(Error::Write {
            path: api_key_path(data_dir),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "an API key has no line breaks or control characters",
            ),
        });
    }
    let marker = keyring_marker_path(data_dir);
    if keyring_allowed() {
        let account = keyring_account(data_dir).unwrap_or_else(new_keyring_account);
        let stored = keyring_entry(&account).and_then(|e| e.set_password(key).map(|()| e));
        if let Ok(entry) = stored {
            if let Err(e) = write_private(data_dir, &marker, account.as_bytes()) {
                // Not findable without its marker: no entry is left behind.
                let _ = entry.delete_credential();
                return Err(e);
            }
            remove_file(&api_key_path(data_dir))?;
            return Ok(Some(KeyPlace::Keyring));
        }
    }
    write_private(data_dir, &api_key_path(data_dir), key.as_bytes())?;
    // The file holds the key now: the marker goes, and the keyring's entry where it can.
    if let Some(account) = keyring_account(data_dir) {
        let _ = keyring_entry(&account).and_then(|e| e.delete_credential());
    }
    remove_file(&marker)?;
    Ok(Some(KeyPlace::File))
}

/// `PRECIS_KEYRING=0` keeps the key in the file even where a keyring answers (a keyring that
/// asks for a password at every start, or a shared account).
fn keyring_allowed() -> bool {
    std::env::var("PRECIS_KEYRING").as_deref() != Ok("0")
}

/// The key [`API_KEY_VARIABLE`] holds, if it holds one.
pub fn api_key_from_environment() -> Option<String> {
    std::env::var(API_KEY_VARIABLE)
        .ok()
        .map(|key| key.trim().to_string())
        .filter(|key| !key.is_empty())
}

/// The key: from [`API_KEY_VARIABLE`] when set, else the stored one, else `None`.
pub fn load_api_key(data_dir: Option<&Path>) -> Result<Option<String>, Error> {
    if let Some(key) = api_key_from_environment() {
        return Ok(Some(key));
    }
    let Some(dir) = data_dir else { return Ok(None) };
    if let Some(account) = keyring_account(dir) {
        let problem = match keyring_entry(&account).and_then(|entry| entry.get_password()) {
            Ok(key) => return Ok(Some(key)),
            Err(keyring::Error::NoEntry) => "the remote engine's API key is no longer in the OS \
                keyring (removed there?); save it again in Settings → Remote engine"
                .to_string(),
            Err(e) => format!(
                "the OS keyring did not give the remote engine's API key ({e}); unlock the \
                 keyring, or save the key again in Settings → Remote engine"
            ),
        };
        return Err(Error::Io {
            path: keyring_marker_path(dir),
            source: std::io::Error::other(problem),
        });
    }
    let path = api_key_path(dir);
    match std::fs::read_to_string(&path) {
        Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { path, source }),
    }
}

/// Where a key is stored, if one is (the window says so without ever reading the key back).
pub fn stored_api_key(data_dir: &Path) -> Option<KeyPlace> {
    if keyring_account(data_dir).is_some() {
        Some(KeyPlace::Keyring)
    } else if api_key_path(data_dir).is_file() {
        Some(KeyPlace::File)
    } else {
        None
    }
}

/// Whether a key is stored.
pub fn has_stored_api_key(data_dir: &Path) -> bool {
    stored_api_key(data_dir).is_some()
}

/// Removes the stored key, from the file and from the keyring (a keyring that refuses is an
/// error, and its marker stays: the key is still there).
pub fn delete_api_key(data_dir: &Path) -> Result<(), Error> {
    remove_file(&api_key_path(data_dir))?;
    let marker = keyring_marker_path(data_dir);
    let Some(account) = keyring_account(data_dir) else {
        return remove_file(&marker);
    };
    match keyring_entry(&account).and_then(|entry| entry.delete_credential()) {
        Ok(()) | Err(keyring::Error::NoEntry) => remove_file(&marker),
        Err(e) => Err(Error::Write {
            path: marker,
            source: std::io::Error::other(format!(
                "the OS keyring did not remove the remote engine's API key: {e}"
            )),
        }),
    }
}

fn remove_file(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Write {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_kept_readable_by_its_owner_only() {
        // Where no keyring answers (as in CI; tests/keyring.rs runs a real one).
        if !keyring_unavailable() {
            eprintln!("skipped: a keyring answers here, so the key would not go to the file");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert!(!has_stored_api_key(&data));
        assert_eq!(
            save_api_key(&data, "  sk-local-123 \n").unwrap(),
            Some(KeyPlace::File)
        );
        assert_eq!(stored_api_key(&data), Some(KeyPlace::File));
        assert!(has_stored_api_key(&data));
        // The environment may hold a key of the test runner's; read the file directly too.
        assert_eq!(
            std::fs::read_to_string(api_key_path(&data)).unwrap(),
            "sk-local-123"
        );
        if std::env::var_os(API_KEY_VARIABLE).is_none() {
            assert_eq!(
                load_api_key(Some(&data)).unwrap().as_deref(),
                Some("sk-local-123")
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(api_key_path(&data))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(save_api_key(&data, "sk\nother").is_err());
        save_api_key(&data, "").unwrap();
        assert!(!has_stored_api_key(&data));
        delete_api_key(&data).unwrap();
    }

    fn keyring_unavailable() -> bool {
        keyring_entry(&new_keyring_account())
            .and_then(|e| e.get_password())
            .is_err_and(|e| !matches!(e, keyring::Error::NoEntry))
    }

    #[test]
    fn the_setup_round_trips_and_a_damaged_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_setup(dir.path()).unwrap(), RemoteSetup::default());
        let setup = RemoteSetup {
            enabled: true,
            settings: Some(RemoteSettings {
                endpoint: "http://127.0.0.1:11434/v1".into(),
                model: "qwen2.5:1.5b".into(),
                max_concurrent: 2,
                timeout_secs: 60,
                context_length: 8192,
            }),
        };
        save_setup(dir.path(), &setup).unwrap();
        assert_eq!(load_setup(dir.path()).unwrap(), setup);
        std::fs::write(setup_path(dir.path()), "{ not json").unwrap();
        assert!(load_setup(dir.path()).is_err());
    }
}
