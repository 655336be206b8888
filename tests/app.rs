//! The app's commands through Tauri's mock runtime (no window): arguments in, `{code, message}`
//! errors out, events streamed on a channel.

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

fn call(cmd: &str, args: Value) -> Result<Value, Value> {
    let app = precis_app::setup(mock_builder())
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
    let doc = call("read_article", json!({ "path": sample() })).unwrap();
    assert_eq!(doc["title"], "US, Russia tussle over Syria cease-fire deal");
    assert_eq!(doc["paragraphs"][0]["id"], "p1");
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
    let err = call("read_article", json!({ "path": junk })).unwrap_err();
    assert_eq!(err["code"], "binary_file");
    assert!(err["message"].as_str().unwrap().contains("junk.txt"));

    let err = call(
        "process_article",
        json!({
            "path": sample(),
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
    let outcome = call("process_article", json!({
        "path": sample(),
        "options": { "target": "en", "engine": "extractive", "length": "short", "style": "bullets" },
        "onEvent": "__CHANNEL__:7",
    }))
    .unwrap();
    assert_eq!(outcome["summary"]["engine"], "extractive");
    assert_eq!(outcome["summary"]["points"].as_array().unwrap().len(), 3);
    assert!(outcome["translation"].is_null());
}

#[test]
fn cancel_without_a_job_is_harmless() {
    assert_eq!(call("cancel", json!({})).unwrap(), Value::Null);
}
