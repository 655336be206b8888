//! Précis desktop app: a thin Tauri shell over `precis-core`.

#[cfg(test)]
mod bindings;
pub mod commands;
pub mod open_with;

use tauri::{Builder, Manager, Runtime};

/// Adds the app's state and commands to a builder; generic over the runtime so tests can use
/// `tauri::test::mock_builder()`. `opened` holds the files the window opens first.
pub fn setup<R: Runtime>(builder: Builder<R>, opened: open_with::OpenedFiles) -> Builder<R> {
    builder
        .manage(commands::AppState::default())
        .manage(opened)
        .setup(|app| {
            // PRECIS_DATA_DIR lets tests and portable installs keep the history elsewhere; the
            // CLI finds the same database through the same rule.
            let dir = match precis_store::history::data_dir() {
                Some(d) => d,
                None => app.path().app_data_dir()?,
            };
            app.state::<commands::AppState>().set_data_dir(dir);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::read_article,
            commands::articles_in_folder,
            commands::read_pasted,
            commands::restore_left_out,
            commands::list_models,
            commands::languages,
            commands::process_article,
            commands::cancel,
            commands::history_list,
            commands::history_get,
            commands::history_delete,
            commands::export_result,
            commands::model_download,
            commands::model_import,
            commands::model_remove,
            commands::edit_paragraph,
            commands::retranslate_paragraphs,
            commands::glossary_list,
            commands::glossary_save,
            commands::glossary_delete,
            commands::glossary_import,
            commands::glossary_export,
            commands::remote_status_get,
            commands::remote_setup_save,
            commands::remote_key_save,
            commands::remote_test,
            open_with::take_opened_files,
        ])
}

pub fn run() {
    let started_again = open_with::take_started_again_mark();
    let builder = tauri::Builder::default()
        // First, so a second launch hands its files over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(
            open_with::on_second_launch,
        ))
        // Restores the window's size and place from the last run.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_store::Builder::default().build());
    if let Err(e) =
        setup(builder, open_with::OpenedFiles::from_launch()).run(tauri::generate_context!())
    {
        open_with::start_again_if_the_running_one_died(&e, started_again);
        eprintln!("Précis could not start: {e}");
        std::process::exit(1);
    }
}
