//! The app's commands through Tauri's mock runtime (no window): arguments in, `{code, message}`
//! errors out, events streamed on a channel.

mod common;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

fn sample() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/global-times-syria-ceasefire.txt"
    )
    .to_string()
}

/// All tests in this process share one history database in a temporary directory.
fn data_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("PRECIS_DATA_DIR", dir.path());
        // Keep model lookups away from the user's real models.
        std::env::set_var("PRECIS_MODELS_DIR", dir.path().join("models"));
        dir
    })
    .path()
}

fn call(cmd: &str, args: Value) -> Result<Value, Value> {
    data_dir();
    let app = precis_app::setup(mock_builder(), Default::default())
        .build(mock_context(noop_assets()))
        .expect("app builds");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("webview");
    get_ipc_response(
        &webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn read_article_returns_the_document() {
    let doc = call(
        "read_article",
        json!({ "path": sample(), "onEvent": "__CHANNEL__:7" }),
    )
    .unwrap();
    assert_eq!(doc["title"], "US, Russia tussle over Syria cease-fire deal");
    assert_eq!(doc["paragraphs"][0]["id"], "p1");
}

#[test]
fn a_folder_stands_for_the_articles_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("world")).unwrap();
    std::fs::write(root.join("b.txt"), "B\n\nText.").unwrap();
    std::fs::write(root.join("world/a.html"), "<p>A</p>").unwrap();
    std::fs::write(root.join("notes.xyz"), "not an article").unwrap();
    let listed = call("articles_in_folder", json!({ "path": root })).unwrap();
    let articles: Vec<String> = serde_json::from_value(listed["articles"].clone()).unwrap();
    assert_eq!(
        articles,
        [
            root.join("b.txt").display().to_string(),
            root.join("world/a.html").display().to_string()
        ]
    );
    assert_eq!(listed["problems"], json!([]));
    // A file stands for itself (its reader says what is wrong with it, if anything).
    let file = root.join("notes.xyz").display().to_string();
    let listed = call("articles_in_folder", json!({ "path": file })).unwrap();
    assert_eq!(listed["articles"], json!([file]));
    let empty = root.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = call("articles_in_folder", json!({ "path": empty })).unwrap_err();
    assert_eq!(err["code"], "read_failed");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("holds no articles"),
        "{err}"
    );
}

#[test]
fn errors_reach_the_ui_as_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.txt");
    std::fs::write(
        &junk,
        [0u8, 159, 146, 150, 0, 1, 2, 3, 0, 0, 255, 254, 0, 7].repeat(64),
    )
    .unwrap();
    let err = call(
        "read_article",
        json!({ "path": junk, "onEvent": "__CHANNEL__:7" }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "binary_file");
    assert!(err["message"].as_str().unwrap().contains("junk.txt"));

    let err = call(
        "process_article",
        json!({
            "input": { "kind": "file", "path": sample() },
            "options": { "target": "klingon", "engine": "extractive" },
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "unsupported_language");
}

#[test]
fn languages_and_models_are_listed() {
    let langs = call("languages", json!({})).unwrap();
    assert_eq!(langs[0]["code"], "zh-Hans");
    let models = call("list_models", json!({})).unwrap();
    assert!(models
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "qwen2.5-1.5b-instruct"));
}

#[test]
fn extractive_processing_needs_no_model() {
    let result = call("process_article", json!({
        "input": { "kind": "file", "path": sample() },
        "options": { "target": "en", "engine": "extractive", "length": "short", "style": "bullets" },
        "onEvent": "__CHANNEL__:7",
    }))
    .unwrap();
    let outcome = &result["outcome"];
    assert_eq!(outcome["summary"]["engine"], "extractive");
    assert_eq!(outcome["summary"]["points"].as_array().unwrap().len(), 3);
    assert!(outcome["translation"].is_null());
    assert!(result["history_id"].as_i64().unwrap() > 0);
}

#[test]
fn a_translation_model_translates_without_an_llm() {
    let models = tempfile::tempdir().unwrap();
    let marian = models.path().join("opus-mt-en-zh");
    common::write_tiny_marian(&marian, common::MarianBehaviour::WritesChinese);
    let result = call(
        "process_article",
        json!({
            "input": { "kind": "file", "path": sample() },
            "options": { "target": "zh-Hans", "engine": "extractive", "length": "short",
                         "translate": true, "summaryInTarget": true, "translationModel": marian },
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap();
    let outcome = &result["outcome"];
    assert!(outcome["model"].is_null(), "no LLM was needed");
    assert_eq!(outcome["translation"]["model"], "opus-mt-en-zh");
    assert_eq!(outcome["summary"]["translated_by"], "opus-mt-en-zh");
    assert_eq!(outcome["summary"]["language"], "zh-Hans");
    // A folder that is not a model is a typed error.
    let err = call(
        "process_article",
        json!({
            "input": { "kind": "file", "path": sample() },
            "options": { "target": "zh-Hans", "engine": "extractive", "length": "short",
                         "translate": true, "translationModel": models.path().join("nothing") },
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "model_missing");
}

fn process_extractive(input: Value) -> Value {
    call(
        "process_article",
        json!({
            "input": input,
            "options": { "target": "zh-Hans", "engine": "extractive", "length": "short" },
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap()
}

#[test]
fn history_keeps_results_and_reopens_searches_and_deletes_them() {
    let result = process_extractive(json!({ "kind": "file", "path": sample() }));
    let id = result["history_id"].as_i64().unwrap();
    let items = call("history_list", json!({ "query": "Aleppo" })).unwrap();
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .expect("listed");
    assert_eq!(
        item["title"],
        "US, Russia tussle over Syria cease-fire deal"
    );
    assert_eq!(item["target"], "zh-Hans");
    assert_eq!(item["has_translation"], false);
    let none = call("history_list", json!({ "query": "no such words anywhere" })).unwrap();
    assert!(none.as_array().unwrap().iter().all(|i| i["id"] != id));
    // Reopening returns the stored outcome as it was shown.
    let entry = call("history_get", json!({ "id": id })).unwrap();
    assert_eq!(entry["outcome"], result["outcome"]);
    assert_eq!(entry["options"]["target"], "zh-Hans");
    assert_eq!(
        call("history_delete", json!({ "id": id })).unwrap(),
        Value::Null
    );
    let err = call("history_get", json!({ "id": id })).unwrap_err();
    assert_eq!(err["code"], "history_not_found");
}

#[test]
fn pasted_text_is_read_and_processed() {
    let text = std::fs::read_to_string(sample()).unwrap();
    let doc = call("read_pasted", json!({ "text": text })).unwrap();
    assert_eq!(doc["source_name"], "Pasted text");
    assert_eq!(doc["title"], "US, Russia tussle over Syria cease-fire deal");
    let result = process_extractive(json!({ "kind": "text", "text": text }));
    assert_eq!(
        result["outcome"]["document"]["paragraphs"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    let err = call("read_pasted", json!({ "text": "   " })).unwrap_err();
    assert_eq!(err["code"], "empty_file");
}

#[test]
fn exports_are_written_from_the_history() {
    let id = process_extractive(json!({ "kind": "file", "path": sample() }))["history_id"].clone();
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("out.md");
    let written = call(
        "export_result",
        json!({ "id": id, "format": "md", "path": md, "includeTranslation": true }),
    )
    .unwrap();
    assert_eq!(written, json!(md));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("# US, Russia tussle over Syria cease-fire deal\n"));
    assert!(text.contains("- **Source:** global-times-syria-ceasefire.txt"));
    let err = call(
        "export_result",
        json!({ "id": id, "format": "md", "path": dir.path().join("missing/out.md"), "includeTranslation": false }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "write_failed");
    let err = call(
        "export_result",
        json!({ "id": id, "format": "odt", "path": md, "includeTranslation": false }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("odt"), "{err}");
}

#[test]
fn models_can_be_imported_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let not_gguf = dir.path().join("notes.gguf");
    std::fs::write(&not_gguf, b"this is not a model").unwrap();
    let err = call("model_import", json!({ "path": not_gguf })).unwrap_err();
    assert_eq!(err["code"], "model_invalid");
    let err = call("model_remove", json!({ "id": "no-such-model" })).unwrap_err();
    assert_eq!(err["code"], "unknown_model");
    let models = call("list_models", json!({})).unwrap();
    for m in models.as_array().unwrap() {
        assert!(
            m.get("installed_bytes").is_some() && m.get("removable").is_some(),
            "{m}"
        );
    }
}

#[test]
fn cancel_without_a_job_is_harmless() {
    assert_eq!(call("cancel", json!({})).unwrap(), Value::Null);
}

/// The glossary commands: add, refuse a duplicate, edit, import a file, export it, delete; a
/// job applies the stored entries; a finished translation can be edited and retranslated,
/// and the history keeps both.
#[test]
fn the_glossary_applies_to_jobs_and_paragraphs_can_be_edited_and_retranslated() {
    let term = |source: &str, target: &str| {
        json!({ "source": source, "target": target, "note": "", "caseSensitive": true,
                "doNotTranslate": false })
    };
    let saved = call(
        "glossary_save",
        json!({ "id": null, "language": "zh", "term": term("Syria", "叙利亚国") }),
    )
    .unwrap();
    assert_eq!(
        saved["language"], "zh-Hans",
        "the language is keyed by its code"
    );
    let dup = call(
        "glossary_save",
        json!({ "id": null, "language": "zh-Hans", "term": term("Syria", "x") }),
    )
    .unwrap_err();
    assert_eq!(dup["code"], "glossary_invalid");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("terms.csv");
    std::fs::write(&file, "Source,Target\nAleppo,阿勒坡\nGeneva,日内瓦市\n").unwrap();
    let summary = call(
        "glossary_import",
        json!({ "language": "zh-Hans", "path": file }),
    )
    .unwrap();
    assert_eq!(
        (summary["added"].as_u64(), summary["replaced"].as_u64()),
        (Some(2), Some(0))
    );
    let exported = dir.path().join("out.csv");
    call(
        "glossary_export",
        json!({ "language": "zh-Hans", "path": exported }),
    )
    .unwrap();
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert!(
        csv.contains("Syria,叙利亚国") && csv.contains("Geneva,日内瓦市"),
        "{csv}"
    );
    let list = call("glossary_list", json!({ "language": "zh-Hans" })).unwrap();
    let aleppo = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source"] == "Aleppo")
        .unwrap()
        .clone();
    call("glossary_delete", json!({ "id": aleppo["id"] })).unwrap();
    let gone = call("glossary_delete", json!({ "id": aleppo["id"] })).unwrap_err();
    assert_eq!(gone["code"], "glossary_entry_not_found");

    // A job uses the stored glossary.
    let models = tempfile::tempdir().unwrap();
    let marian = models.path().join("opus-mt-en-zh");
    common::write_tiny_marian(&marian, common::MarianBehaviour::WritesChinese);
    let options = json!({ "target": "zh-Hans", "engine": "extractive", "length": "short",
                          "translate": true, "translationModel": marian });
    let result = call(
        "process_article",
        json!({ "input": { "kind": "file", "path": sample() }, "options": options,
                "onEvent": "__CHANNEL__:7" }),
    )
    .unwrap();
    let used = result["outcome"]["translation"]["glossary"]
        .as_array()
        .unwrap();
    assert!(
        used.iter()
            .any(|g| g["source"] == "Syria" && g["target"] == "叙利亚国" && g["origin"] == "user"),
        "{used:?}"
    );
    let id = result["history_id"].clone();

    // The reader's own text for a paragraph is kept in the history.
    let edited = call(
        "edit_paragraph",
        json!({ "historyId": id, "paragraphId": "p2", "text": "我自己的译文。" }),
    )
    .unwrap();
    let p2 = &edited["outcome"]["translation"]["paragraphs"][1];
    assert_eq!(
        (p2["text"].as_str(), p2["edited"].as_bool()),
        (Some("我自己的译文。"), Some(true))
    );
    let stored = call("history_get", json!({ "id": id })).unwrap();
    assert_eq!(
        stored["outcome"]["translation"]["paragraphs"][1]["text"],
        "我自己的译文。"
    );
    let empty = call(
        "edit_paragraph",
        json!({ "historyId": id, "paragraphId": "p2", "text": "  " }),
    )
    .unwrap_err();
    assert_eq!(empty["code"], "revision_invalid");

    // Retranslating it replaces the edit with the model's translation again.
    let again = call(
        "retranslate_paragraphs",
        json!({ "historyId": id, "paragraphIds": ["p2"], "options": options,
                "onEvent": "__CHANNEL__:7" }),
    )
    .unwrap();
    let p2 = &again["outcome"]["translation"]["paragraphs"][1];
    assert_ne!(p2["text"], "我自己的译文。");
    assert!(p2["edited"].is_null(), "{p2}");
    let stored = call("history_get", json!({ "id": id })).unwrap();
    assert_eq!(
        stored["outcome"]["translation"]["paragraphs"][1]["text"],
        p2["text"]
    );
}
