//! Our decoder against llama.cpp on real weights of the other architectures: SmolLM2 135M
//! (`llama`) and Gemma 3 270M (`gemma3`), the catalog's test models. The reference answers in
//! `tests/fixtures/llama_cpp/` were written by llama.cpp itself on the same files
//! (`scripts/llama-reference.sh`, which states the version and build): the prompt's token ids
//! from llama.cpp's tokenizer, the largest logits at the prompt's last position and 64 greedy
//! tokens. Ours must give the same prompt tokens, the same 64 tokens and close logits.
//!
//! The models come from `precis models fetch` (the test script fetches them); without them the
//! tests say why they did nothing, unless PRECIS_REQUIRE_MODELS=1 (CI), where that fails.

mod common;

use std::path::PathBuf;

use candle_core::quantized::gguf_file;
use precis_core::llm::chat::Message;
use precis_core::llm::decoder::{argmax, Decoder};
use precis_core::llm::{tokenizer, LlmEngine, PREFILL_CHUNK};
use precis_core::models;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    model_sha256: String,
    prompt_text: String,
    prompt_tokens: Vec<u32>,
    /// (token id, logit) at the prompt's last position, largest first.
    top_logits: Vec<(u32, f32)>,
    greedy_tokens: Vec<u32>,
    /// At each greedy step, llama.cpp's largest logit minus its runner-up.
    greedy_margins: Vec<f32>,
}

fn reference(model: &str) -> Reference {
    let path = common::fixture(&format!("llama_cpp/{model}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn installed(model: &str) -> Option<PathBuf> {
    match models::resolve(Some(model)) {
        Ok(path) => Some(path),
        Err(e) if std::env::var("PRECIS_REQUIRE_MODELS").as_deref() == Ok("1") => {
            panic!("PRECIS_REQUIRE_MODELS=1 but {model} is unavailable: {e}")
        }
        Err(e) => {
            eprintln!("reference-model test skipped: {e} (run `precis models fetch {model}`)");
            None
        }
    }
}

/// What our decoder makes of the reference prompt.
struct Ours {
    /// Logits at the prompt's last position.
    first: Vec<f32>,
    /// Our own greedy tokens.
    greedy: Vec<u32>,
    /// Our choice at each step when fed llama.cpp's tokens (teacher forcing): every step is
    /// compared, however early a near-tie made the free-running sequences part.
    forced: Vec<u32>,
}

/// Runs the reference prompt through our decoder: the logits at its last position, greedy
/// tokens as many as the reference has, and our choices along llama.cpp's tokens.
fn run_ours(path: &std::path::Path, reference: &Reference) -> Ours {
    let mut file = std::fs::File::open(path).unwrap();
    let ct = gguf_file::Content::read(&mut file).unwrap();
    let prompt = &reference.prompt_tokens;
    let capacity = prompt.len() + reference.greedy_tokens.len() + 1;
    let mut model = Decoder::from_gguf(&ct, &file, capacity).unwrap();
    let mut cache = model.new_cache(capacity);
    let mut logits = Vec::new();
    // In the chunks the app prefills with, so chunk boundaries are covered too.
    for chunk in prompt.chunks(PREFILL_CHUNK) {
        logits = model.forward(&mut cache, chunk).unwrap().to_vec();
    }
    let first = logits.clone();
    let prompt_cache = cache.len();
    let mut greedy = Vec::new();
    for _ in 0..reference.greedy_tokens.len() {
        let next = argmax(&logits);
        greedy.push(next);
        logits = model.forward(&mut cache, &[next]).unwrap().to_vec();
    }
    cache.truncate(prompt_cache);
    let mut forced = vec![argmax(&first)];
    for &token in &reference.greedy_tokens[..reference.greedy_tokens.len() - 1] {
        forced.push(argmax(model.forward(&mut cache, &[token]).unwrap()));
    }
    Ours {
        first,
        greedy,
        forced,
    }
}

/// Checks ours against llama.cpp: the reference's largest logits within `tolerance` of ours,
/// and, along llama.cpp's greedy tokens, our choice equal to llama.cpp's at every step where
/// its choice is clear (margin over the runner-up at least [`NEAR_TIE`]). Both engines quantize
/// activations to 8 bits in their own way (llama.cpp's GELU also goes through f16), which moves
/// logits by up to ~0.5 here — as much as our own scalar and SIMD kernels differ from each
/// other — so where two tokens are closer than that either may win, and free-running
/// sequences part there; a wrong RoPE layout, norm or window moves logits by whole units and
/// flips clear choices.
fn check(model: &str, reference: &Reference, ours: &Ours, tolerance: f32) {
    let logits = &ours.first;
    let worst = reference
        .top_logits
        .iter()
        .map(|&(id, value)| (logits[id as usize] - value).abs())
        .fold(0f32, f32::max);
    let shown: Vec<String> = reference
        .top_logits
        .iter()
        .take(5)
        .map(|&(id, value)| format!("{id}: {value:.3} / {:.3}", logits[id as usize]))
        .collect();
    let steps = reference.greedy_tokens.len();
    let clear: Vec<usize> = (0..steps)
        .filter(|&i| reference.greedy_margins[i] >= NEAR_TIE)
        .collect();
    let agree = |i: &usize| ours.forced[*i] == reference.greedy_tokens[*i];
    let near_ties_agreeing = (0..steps)
        .filter(|i| !clear.contains(i) && agree(i))
        .count();
    eprintln!(
        "{model}: llama.cpp / ours at the top: {}; largest difference {worst:.3} over llama.cpp's top {}",
        shown.join(", "),
        reference.top_logits.len()
    );
    eprintln!(
        "{model}: along llama.cpp's {steps} tokens: {} of {} clear choices the same, {near_ties_agreeing} of {} near-ties; free-running: the first {} tokens identical",
        clear.iter().filter(|i| agree(i)).count(),
        clear.len(),
        steps - clear.len(),
        ours.greedy
            .iter()
            .zip(&reference.greedy_tokens)
            .take_while(|(a, b)| a == b)
            .count(),
    );
    assert!(worst < tolerance, "{model}: logits differ by {worst}");
    for i in clear {
        assert_eq!(
            ours.forced[i], reference.greedy_tokens[i],
            "{model}: step {i}: llama.cpp chose {} with a margin of {}, we chose {}",
            reference.greedy_tokens[i], reference.greedy_margins[i], ours.forced[i]
        );
    }
}

#[test]
fn smollm2_llama_architecture_matches_llama_cpp() {
    let Some(path) = installed("smollm2-135m-instruct") else {
        return;
    };
    let reference = reference("smollm2-135m-instruct");
    assert_eq!(
        reference.model_sha256,
        models::find("smollm2-135m-instruct")
            .unwrap()
            .sha256
            .unwrap()
    );
    // The reference prompt is the conversation as the model's chat template writes it; ours is
    // built from the same messages the way the app builds every prompt (the template rendered
    // by minijinja, message text tokenized apart), so tokenizer and template are checked too.
    let engine = LlmEngine::load(&path).unwrap();
    let ours = engine
        .prompt_tokens(&[
            Message::system(SMOLLM2_SYSTEM),
            Message::user(SMOLLM2_QUESTION),
        ])
        .unwrap();
    assert_eq!(ours, reference.prompt_tokens, "prompt tokens differ");
    assert!(engine.uses_chat_template());
    assert!(reference.prompt_text.contains(SMOLLM2_QUESTION));
    drop(engine);
    let ours = run_ours(&path, &reference);
    check("smollm2", &reference, &ours, TOLERANCE);
}

#[test]
fn gemma3_architecture_matches_llama_cpp() {
    let Some(path) = installed("gemma3-270m") else {
        return;
    };
    let reference = reference("gemma3-270m");
    assert_eq!(
        reference.model_sha256,
        models::find("gemma3-270m").unwrap().sha256.unwrap()
    );
    // A base model: plain text after BOS, tokenized by our SentencePiece tokenizer.
    let mut file = std::fs::File::open(&path).unwrap();
    let ct = gguf_file::Content::read(&mut file).unwrap();
    let tok = tokenizer::from_gguf(&ct).unwrap();
    let mut ours: Vec<u32> = tokenizer::bos_to_add(&ct).into_iter().collect();
    ours.extend(
        tok.encode(reference.prompt_text.as_str(), false)
            .unwrap()
            .get_ids(),
    );
    assert_eq!(ours, reference.prompt_tokens, "prompt tokens differ");
    let ours = run_ours(&path, &reference);
    check("gemma3", &reference, &ours, TOLERANCE);
    // A base model cannot follow instructions: the engine and Import GGUF both say so.
    let e = LlmEngine::load(&path)
        .err()
        .expect("a base model is refused");
    assert!(e.to_string().contains("no chat template"), "{e}");
    let e = models::check_gguf(&path).unwrap_err();
    assert!(e.to_string().contains("base model"), "{e}");
}

/// The turns of the SmolLM2 reference prompt (scripts/llama-reference.sh).
const SMOLLM2_SYSTEM: &str = "You are a news editor. Answer briefly.";
const SMOLLM2_QUESTION: &str = "Summarize in two sentences: The ministers met in a hotel on the shore of the lake and spoke briefly to reporters before closed-door talks began. Officials said an agreement could allow aid convoys to reach 40,000 people within days.";
/// Largest logit difference accepted at the prompt's end (measured: 0.54 on both files).
const TOLERANCE: f32 = 1.0;
/// llama.cpp's margins below this are near-ties (see [`check`]).
const NEAR_TIE: f32 = 1.0;

/// What the issue asks of a user's Llama-architecture model: `precis summarize --model PATH`
/// with the SmolLM2 file gives a summary (a 135M model's summary is weak; this checks the path
/// from the file to the text, not its quality).
#[test]
fn cli_summarizes_with_a_llama_architecture_model() {
    let Some(path) = installed("smollm2-135m-instruct") else {
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_precis"))
        .args([
            "summarize",
            "--engine",
            "llm",
            "--format",
            "json",
            "--model",
        ])
        .arg(&path)
        .arg(common::sample_article())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "precis summarize failed: {stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = json.to_string();
    eprintln!("SmolLM2 summary: {}", &summary[..summary.len().min(600)]);
    assert!(json["summary"].is_object(), "no summary in {json}");
}

/// Our tokenizers give llama.cpp's token ids for text it finds hard (spaces, newlines, digits,
/// Chinese, accents, emoji, markup, control-token spellings as plain text), for the three
/// tokenizer kinds: SmolLM2's byte-level BPE (`smollm`), Gemma's SentencePiece, Qwen's BPE.
#[test]
fn tokenizers_match_llama_cpp() {
    for model in [
        "smollm2-135m-instruct",
        "gemma3-270m",
        "qwen2.5-coder-0.5b-instruct",
    ] {
        let Some(path) = installed(model) else {
            continue;
        };
        let cases: Vec<(String, Vec<u32>)> = serde_json::from_str(
            &std::fs::read_to_string(common::fixture(&format!("llama_cpp/{model}.tokens.json")))
                .unwrap(),
        )
        .unwrap();
        let mut file = std::fs::File::open(&path).unwrap();
        let ct = gguf_file::Content::read(&mut file).unwrap();
        let tok = tokenizer::from_gguf(&ct).unwrap();
        let mut same = 0;
        for (text, expected) in &cases {
            let ours = tok.encode(text.as_str(), false).unwrap().get_ids().to_vec();
            if &ours == expected {
                same += 1;
            } else {
                eprintln!("{model}: {text:?}\n  llama.cpp {expected:?}\n  ours      {ours:?}");
            }
            // Decoding gives the text back (what the reader sees streamed).
            assert_eq!(&tok.decode(&ours, false).unwrap(), text, "{model}");
        }
        eprintln!(
            "{model}: {same} of {} texts tokenized as llama.cpp does",
            cases.len()
        );
        assert_eq!(same, cases.len(), "{model}: tokens differ from llama.cpp's");
    }
}
