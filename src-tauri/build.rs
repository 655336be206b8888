fn main() {
    // The app's configuration lives at the repository root, beside the workspace manifest.
    let attrs = tauri_build::Attributes::new().config_path("../tauri.conf.json");
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri build step failed: {e:#}");
    }
}
