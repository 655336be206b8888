//! The remote engine's API key in a real OS keyring: GNOME Keyring's Secret Service on a D-Bus
//! session bus of this test's own (dbus-daemon and gnome-keyring-daemon, started here and
//! ended by their own PIDs). The key goes to the keyring and nowhere on disk, comes back for a
//! job, is removed with the entry; `PRECIS_KEYRING=0` keeps it in the 0600 file instead.
//!
//! Without `dbus-daemon`, `dbus-send` or `gnome-keyring-daemon` (Debian: `dbus-daemon`,
//! `dbus-bin`, `gnome-keyring`) it prints why it did nothing — unless PRECIS_REQUIRE_TOOLS=1
//! (CI), where that is a failure. (The fallback to the file where no keyring answers is tested
//! in precis-store's unit tests, which run where no keyring answers — as in CI.)

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::processes::{name_has_owner, session_bus, tools_present, wait_until, Owned};
use precis_store::remote::{self, KeyPlace};

/// Starts a session bus and GNOME Keyring on it (its login keyring created and unlocked with a
/// password given on stdin, in `home`); returns them and the bus address.
fn keyring_session(home: &Path) -> (Owned, Owned, String) {
    let runtime = home.join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let (bus, address) = session_bus();
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"precis-test-keyring-password").unwrap();
    } // closed: the password is read to its end
    let keyring = Owned(keyring);
    // Nothing asks for the Secret Service before this daemon holds its name (the bus starts no
    // service on demand, so a request before it would find no keyring at all).
    wait_until(
        Duration::from_secs(20),
        "gnome-keyring-daemon takes the Secret Service's name",
        || name_has_owner(&address, "org.freedesktop.secrets"),
    );
    (bus, keyring, address)
}

#[test]
fn the_api_key_lives_in_the_os_keyring_and_nowhere_on_disk() {
    if !tools_present(
        "keyring test",
        &["dbus-daemon", "dbus-send", "gnome-keyring-daemon"],
        "apt install dbus-daemon dbus-bin gnome-keyring",
    ) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_bus, _keyring, address) = keyring_session(home.path());
    // SAFETY: this test binary has this one test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
        std::env::remove_var(remote::API_KEY_VARIABLE);
        std::env::remove_var("PRECIS_KEYRING");
    }
    let data = home.path().join("precis-data");
    let key = "sk-keyring-test-7f3a9c";

    assert_eq!(
        remote::save_api_key(&data, key).unwrap(),
        Some(KeyPlace::Keyring),
        "the keyring did not take the key"
    );
    assert_eq!(remote::stored_api_key(&data), Some(KeyPlace::Keyring));
    assert!(
        !remote::api_key_path(&data).exists(),
        "the key file stays away"
    );
    for entry in std::fs::read_dir(&data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(key),
            "the key is written on disk in the data folder"
        );
    }
    assert_eq!(
        remote::load_api_key(Some(&data)).unwrap().as_deref(),
        Some(key)
    );

    // A new key replaces the old one in the keyring.
    remote::save_api_key(&data, "sk-second").unwrap();
    assert_eq!(
        remote::load_api_key(Some(&data)).unwrap().as_deref(),
        Some("sk-second")
    );

    // The data folder moved: its key is still found (the marker names the entry).
    let moved = home.path().join("moved-data");
    std::fs::rename(&data, &moved).unwrap();
    assert_eq!(
        remote::load_api_key(Some(&moved)).unwrap().as_deref(),
        Some("sk-second")
    );
    std::fs::rename(&moved, &data).unwrap();

    // Removed: gone from the keyring.
    remote::save_api_key(&data, "").unwrap();
    assert_eq!(remote::stored_api_key(&data), None);
    assert_eq!(remote::load_api_key(Some(&data)).unwrap(), None);

    // An entry removed behind Précis's back (in Seahorse): a clear error, not a silent "no key".
    remote::save_api_key(&data, key).unwrap();
    let marker = data.join("remote-api-key.in-keyring");
    let account = std::fs::read_to_string(&marker).unwrap();
    std::fs::write(&marker, "key-removed-elsewhere").unwrap();
    let err = remote::load_api_key(Some(&data)).unwrap_err().to_string();
    assert!(err.contains("no longer in the OS keyring"), "{err}");
    std::fs::write(&marker, account).unwrap();
    remote::delete_api_key(&data).unwrap();
    assert_eq!(remote::stored_api_key(&data), None);

    // Told not to use the keyring: the file, readable by the user alone, and no keyring entry.
    unsafe { std::env::set_var("PRECIS_KEYRING", "0") };
    assert_eq!(
        remote::save_api_key(&data, key).unwrap(),
        Some(KeyPlace::File)
    );
    assert_eq!(
        std::fs::read_to_string(remote::api_key_path(&data)).unwrap(),
        key
    );
    assert_eq!(
        remote::load_api_key(Some(&data)).unwrap().as_deref(),
        Some(key)
    );
    remote::delete_api_key(&data).unwrap();
    assert_eq!(remote::stored_api_key(&data), None);
}
