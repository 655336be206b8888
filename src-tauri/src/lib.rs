//! Précis desktop app: a thin Tauri shell over `precis-core`.

pub mod commands;

use tauri::{Builder, Runtime};

/// Adds the app's state and commands to a builder; generic over the runtime so tests can use
/// `tauri::test::mock_builder()`.
pub fn setup<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .manage(commands::AppState::default())
        .invoke_handler(tauri::generate_handler![
            commands::read_article,
            commands::list_models,
            commands::languages,
            commands::process_article,
            commands::cancel,
        ])
}

pub fn run() {
    if let Err(e) =
        setup(tauri::Builder::default()).run(tauri::generate_context!("../tauri.conf.json"))
    {
        eprintln!("Précis could not start: {e}");
        std::process::exit(1);
    }
}
