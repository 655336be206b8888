//! For tests that start real programs beside them (a session bus, a display, the app): each is
//! ended by its own PID, and a missing tool skips the test with the reason — or fails it where
//! PRECIS_REQUIRE_TOOLS=1 (CI).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Ends exactly the process it holds when dropped: asked first (SIGTERM, so a bus or a display
/// removes its socket), killed when it has not ended within 2 s (a stopped one, say).
pub struct Owned(pub Child);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let pid = self.0.id().to_string();
            let _ = Command::new("sh")
                .args(["-c", "kill -TERM \"$1\"", "sh", &pid])
                .status();
            let asked = Instant::now();
            while asked.elapsed() < Duration::from_secs(2) {
                if !matches!(self.0.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `signal` (a name such as STOP) to the process `pid`.
pub fn signal(pid: u32, signal: &str) {
    let sent = Command::new("sh")
        .args([
            "-c",
            &format!("kill -{signal} \"$1\""),
            "sh",
            &pid.to_string(),
        ])
        .status()
        .expect("sh runs");
    assert!(sent.success(), "kill -{signal} {pid}");
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether every tool is installed. When one is not, `test` is skipped (this prints which,
/// and `install` — how to get them) unless PRECIS_REQUIRE_TOOLS is set, where it fails.
pub fn tools_present(test: &str, tools: &[&str], install: &str) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("{} not installed ({install})", missing.join(", "));
    assert!(
        std::env::var_os("PRECIS_REQUIRE_TOOLS").is_none(),
        "PRECIS_REQUIRE_TOOLS=1 but {why}"
    );
    eprintln!("{test} skipped: {why}");
    false
}

/// A D-Bus session bus of the test's own; returns it and its address. It starts no services on
/// demand (no portals or accessibility bus spawned beside the test): what a test needs on it,
/// the test starts.
pub fn session_bus() -> (Owned, String) {
    let mut config = tempfile::NamedTempFile::new().unwrap();
    config
        .write_all(
            br#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        )
        .unwrap();
    // The configuration is read before the address is printed, so `config` may go after that.
    let mut command = Command::new("dbus-daemon");
    command
        .arg(format!("--config-file={}", config.path().display()))
        .args(["--nofork", "--print-address=1"]);
    start_and_read_first_line(command, "dbus-daemon's address")
}

/// Starts `command` and reads the first line it prints (what it tells its callers: an address,
/// a display number); returns it and that line, trimmed.
fn start_and_read_first_line(mut command: Command, what: &str) -> (Owned, String) {
    let mut child = Owned(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: {e}")),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let line = line.trim().to_string();
    assert!(!line.is_empty(), "{what}: nothing printed");
    (child, line)
}

/// Asks the bus at `address` (`org.freedesktop.DBus.<method>` with one string argument);
/// the reply as dbus-send prints it, or "" when the call failed.
fn ask_bus(address: &str, method: &str, name: &str) -> String {
    Command::new("dbus-send")
        .args([
            &format!("--bus={address}"),
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            &format!("org.freedesktop.DBus.{method}"),
            &format!("string:{name}"),
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

pub fn name_has_owner(address: &str, name: &str) -> bool {
    ask_bus(address, "NameHasOwner", name).contains("boolean true")
}

/// The PID of the process holding `name` on the bus, if one does.
pub fn name_owner_pid(address: &str, name: &str) -> Option<u32> {
    let reply = ask_bus(address, "GetConnectionUnixProcessID", name);
    reply
        .split_whitespace()
        .skip_while(|w| *w != "uint32")
        .nth(1)?
        .parse()
        .ok()
}

/// An X display of the test's own (Xvfb, on a display number it picks free); returns it and
/// its `DISPLAY` value.
pub fn virtual_display() -> (Owned, String) {
    let mut command = Command::new("Xvfb");
    command.args([
        "-displayfd",
        "1",
        "-screen",
        "0",
        "1280x800x24",
        "-nolisten",
        "tcp",
    ]);
    let (xvfb, number) = start_and_read_first_line(command, "Xvfb's display number");
    (xvfb, format!(":{number}"))
}

/// Waits up to `limit` for `done`; panics with `what` when it does not come.
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
