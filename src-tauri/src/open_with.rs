//! Files handed to the app from outside: on its command line (a terminal, or the desktop
//! entry's "Open with Précis"), or forwarded by a second launch to the running window (the
//! single-instance plugin). They wait here until the window takes them, so none is lost while
//! the window is still loading.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tauri::{AppHandle, Emitter, Manager, Runtime, State, Url};

/// Tells the window that files are waiting (it then calls [`take_opened_files`]).
pub const OPENED_FILES_EVENT: &str = "opened-files";

#[derive(Debug, Default)]
pub struct OpenedFiles(Mutex<Vec<String>>);

impl OpenedFiles {
    /// The files named in this process's own command line.
    pub fn from_launch() -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        OpenedFiles(Mutex::new(paths_in_args(std::env::args().skip(1), &cwd)))
    }

    fn push(&self, paths: Vec<String>) {
        let mut waiting = self.0.lock().unwrap_or_else(|p| p.into_inner());
        waiting.extend(paths);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The article paths among command-line arguments (the program's name already skipped):
/// options (`-…`) are left out, and relative paths are made absolute against `cwd` — a second
/// launch's working directory, which need not be the running window's. A `file://` URI (what
/// some file managers pass) is taken as its path.
pub fn paths_in_args(args: impl IntoIterator<Item = String>, cwd: &Path) -> Vec<String> {
    args.into_iter()
        .filter(|a| !a.is_empty() && !a.starts_with('-'))
        .map(|a| {
            let uri_path = a
                .starts_with("file://")
                .then(|| Url::parse(&a).ok()?.to_file_path().ok())
                .flatten();
            cwd.join(uri_path.unwrap_or_else(|| PathBuf::from(a)))
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// A second launch's command line: its files join the running window's queue, and the window
/// comes to the front.
pub fn on_second_launch<R: Runtime>(app: &AppHandle<R>, argv: Vec<String>, cwd: String) {
    let paths = paths_in_args(argv.into_iter().skip(1), Path::new(&cwd));
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
    if paths.is_empty() {
        return;
    }
    app.state::<OpenedFiles>().push(paths);
    let _ = app.emit(OPENED_FILES_EVENT, ());
}

/// Set for a launch started again by [`start_again_if_the_running_one_died`], so that happens once.
const STARTED_AGAIN: &str = "PRECIS_STARTED_AGAIN";

/// Whether this process is such a second start. The mark is removed from the environment, so
/// nothing this process starts inherits it (a Précis it started would never start again).
/// Call first thing, while no other thread reads the environment.
pub fn take_started_again_mark() -> bool {
    let marked = std::env::var_os(STARTED_AGAIN).is_some_and(|v| v == "1");
    std::env::remove_var(STARTED_AGAIN);
    marked
}

/// A launch that found another Précis holding the single-instance name but whose hand-over
/// failed — typically that one died before answering (it was killed, and the session bus had
/// not yet let go of its name) — starts once more, with the same arguments and process: by then
/// the name is free, and this launch becomes the window (or hands its files to a live one).
/// Returns when it does not: another error, or `started_again` (this already is the second
/// start). Only Linux's single-instance check (D-Bus) fails this way.
pub fn start_again_if_the_running_one_died(error: &tauri::Error, started_again: bool) {
    let handover_failed = matches!(
        error,
        tauri::Error::PluginInitialization(plugin, _) if plugin == "single-instance"
    );
    if !handover_failed || started_again {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let Ok(program) = std::env::current_exe() else {
            return;
        };
        // dbus-daemon frees a dead connection's names before it fails the calls waiting on it;
        // the pause is for buses that may not, and for a name freed just before the call.
        std::thread::sleep(std::time::Duration::from_millis(250));
        let error = std::process::Command::new(program)
            .args(std::env::args_os().skip(1))
            .env(STARTED_AGAIN, "1")
            .exec(); // returns only when it failed
        eprintln!("Précis could not start again: {error}");
    }
}

/// The files waiting to be opened, handed over once.
#[tauri::command]
pub fn take_opened_files(state: State<'_, OpenedFiles>) -> Vec<String> {
    state.take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_left_out_and_relative_paths_resolved_against_the_launch_directory() {
        let args = [
            "--verbose",
            "news/a.html",
            "/tmp/b.pdf",
            "",
            "file:///home/me/My%20News/%E6%96%B0.txt",
        ];
        let paths = paths_in_args(args.map(String::from), Path::new("/home/me"));
        assert_eq!(
            paths,
            [
                "/home/me/news/a.html",
                "/tmp/b.pdf",
                "/home/me/My News/新.txt"
            ]
        );
    }

    #[test]
    fn a_file_uri_that_is_not_a_path_is_taken_as_written() {
        let paths = paths_in_args(["file://server/x%zz".to_string()], Path::new("/w"));
        assert_eq!(paths, ["/w/file://server/x%zz"]);
    }

    /// The desktop entry offers "Open with Précis" for exactly the formats the readers take,
    /// pictures excepted: claiming every PNG and JPEG would put a translator among the user's
    /// image viewers (scans still open by dropping them or through Open…).
    #[test]
    fn the_package_declares_every_article_format_and_only_those() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let mut declared: Vec<&str> = config["bundle"]["fileAssociations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["ext"].as_array().unwrap())
            .map(|e| e.as_str().unwrap())
            .collect();
        let mut readable: Vec<&str> = precis_core::document::ARTICLE_EXTENSIONS
            .iter()
            .filter(|(_, format)| *format != precis_core::document::SourceFormat::Image)
            .map(|(ext, _)| *ext)
            .collect();
        declared.sort_unstable();
        readable.sort_unstable();
        assert_eq!(declared, readable);
    }

    #[test]
    fn files_are_handed_over_once() {
        let opened = OpenedFiles::default();
        opened.push(vec!["/a.txt".into()]);
        opened.push(vec!["/b.txt".into()]);
        assert_eq!(opened.take(), ["/a.txt", "/b.txt"]);
        assert!(opened.take().is_empty());
    }
}
