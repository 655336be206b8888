//! The real app's single instance, on a session bus and an X display of this test's own: a
//! Précis started while the running one is being killed must still open. The running one is
//! frozen (SIGSTOP) so it never answers the hand-over, the new launch's call is seen on the bus,
//! and only then is the running one killed — the moment a user hits after a crash, made certain.
//!
//! Needs Xvfb, dbus-daemon, dbus-send and dbus-monitor (Debian: xvfb, dbus-daemon, dbus-bin);
//! without them it says why it did nothing — unless PRECIS_REQUIRE_TOOLS=1 (CI). Linux only:
//! elsewhere the single-instance check is not D-Bus.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::processes::{
    name_has_owner, name_owner_pid, session_bus, signal, tools_present, virtual_display,
    wait_until, Owned,
};

/// `identifier` in tauri.conf.json + the plugin's suffix.
const SINGLE_INSTANCE: &str = "app.precis.desktop.SingleInstance";

/// The app on `display` (X11, whatever session the test runs in) and `bus`, its home, history,
/// settings, caches and models in `home`, its output in `home/<log>.log`.
fn start_app(home: &Path, display: &str, bus: &str, args: &[&Path], log: &str) -> Owned {
    let output = std::fs::File::create(home.join(format!("{log}.log"))).unwrap();
    Owned(
        Command::new(env!("CARGO_BIN_EXE_precis-app"))
            .args(args)
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env("GDK_BACKEND", "x11")
            .env("HOME", home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("PRECIS_DATA_DIR", home.join("data"))
            .env("PRECIS_MODELS_DIR", home.join("models"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env_remove("PRECIS_STARTED_AGAIN")
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("precis-app starts"),
    )
}

#[test]
fn a_launch_while_the_running_precis_is_killed_opens_a_window_of_its_own() {
    if !tools_present(
        "single-instance test",
        &["Xvfb", "dbus-daemon", "dbus-send", "dbus-monitor"],
        "apt install xvfb dbus-daemon dbus-bin",
    ) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_bus, bus) = session_bus();
    let (_display, display) = virtual_display();

    let mut running = start_app(home.path(), &display, &bus, &[], "running");
    let running_pid = running.0.id();
    wait_until(
        Duration::from_secs(60),
        "the first Précis holds the single-instance name",
        || name_owner_pid(&bus, SINGLE_INSTANCE) == Some(running_pid),
    );
    signal(running_pid, "STOP");

    // Watches the bus for the hand-over call, so the kill comes after it, never before.
    let mut monitor = Command::new("dbus-monitor")
        .args([
            "--address",
            &bus,
            "type='method_call',interface='org.SingleInstance.DBus'",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor starts");
    let lines = BufReader::new(monitor.stdout.take().unwrap());
    let _monitor = Owned(monitor);
    let (seen, calls) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            let _ = seen.send(line);
        }
    });
    // dbus-monitor says it is listening (a NameAcquired signal) before anything it reports.
    calls
        .recv_timeout(Duration::from_secs(20))
        .expect("dbus-monitor is listening");

    let article = home.path().join("handed-over.txt");
    std::fs::write(&article, "Kingsport city council votes on a new library.\n").unwrap();
    let mut launch = start_app(home.path(), &display, &bus, &[&article], "launch");
    let launch_pid = launch.0.id();
    let handed_over = std::iter::from_fn(|| calls.recv_timeout(Duration::from_secs(30)).ok())
        .any(|line| line.contains("member=ExecuteCallback"));
    assert!(
        handed_over,
        "the launch tries to hand its file to the running Précis"
    );

    // Killed before it answers: the launch's call fails with "no reply".
    running.0.kill().unwrap();
    running.0.wait().unwrap();
    let log = || std::fs::read_to_string(home.path().join("launch.log")).unwrap_or_default();
    wait_until(
        Duration::from_secs(60),
        "the launch holds the single-instance name itself",
        || {
            if let Ok(Some(status)) = launch.0.try_wait() {
                panic!("the launch ended ({status}) instead of opening:\n{}", log());
            }
            name_owner_pid(&bus, SINGLE_INSTANCE) == Some(launch_pid)
        },
    );
    // It is the same process started again (exec) with the same command line.
    let proc_file = |name: &str| std::fs::read(format!("/proc/{launch_pid}/{name}")).unwrap();
    let has = |bytes: Vec<u8>, part: &[u8]| bytes.split(|b| *b == 0).any(|p| p == part);
    assert!(
        has(proc_file("environ"), b"PRECIS_STARTED_AGAIN=1"),
        "the launch was started again"
    );
    assert!(
        has(proc_file("cmdline"), article.as_os_str().as_encoded_bytes()),
        "it was started again with its article"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        launch.0.try_wait().unwrap().is_none(),
        "the launch keeps running as the window:\n{}",
        log()
    );
    drop(launch);
    wait_until(
        Duration::from_secs(20),
        "the name is free once the window is gone",
        || !name_has_owner(&bus, SINGLE_INSTANCE),
    );
}
