//! Marian translation models on tiny random weights written by the tests (no Marian weights
//! exist on the development machines): the same logits as candle-transformers' reference
//! implementation, padded sentence batches equal to sentences one by one, beam search that
//! scores what it returns, and whole articles through the pipeline.

mod common;

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use common::{write_tiny_marian, MarianBehaviour, MARIAN_LANGUAGE_TOKEN};
use precis_core::lang::Language;
use precis_core::mt::marian::{Config, Hypothesis, Marian, Search};
use precis_core::mt::{MachineTranslator, MarianEngine};
use precis_core::pipeline::{self, JobModels, Request};
use precis_core::progress::{CancelToken, Event};
use precis_core::summarize::{Length, Style, SummaryEngine, SummaryOptions};

fn load_ours(dir: &Path) -> Marian {
    let cfg: Config =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let vb = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
        .unwrap()
    };
    Marian::new(cfg, vb).unwrap()
}

fn tiny(behaviour: MarianBehaviour) -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    // Named as the hub names the model, so the language pair is known.
    let dir = root.path().join("opus-mt-en-zh");
    write_tiny_marian(&dir, behaviour);
    (root, dir)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

const SENTENCES: [&[u32]; 3] = [&[2, 3, 4, 5, 0], &[7, 8, 9, 10, 11, 12, 13, 0], &[14, 0]];

#[test]
fn our_marian_matches_candles_reference_implementation() {
    use candle_transformers::models::marian as reference;
    let (_root, dir) = tiny(MarianBehaviour::Random);
    let ours = load_ours(&dir);
    let ref_cfg: reference::Config =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let vb = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
        .unwrap()
    };
    let mut theirs = reference::MTModel::new(&ref_cfg, vb).unwrap();
    for sentence in SENTENCES {
        theirs.reset_kv_cache();
        let ids = Tensor::new(sentence, &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let their_encoded = theirs.encoder().forward(&ids, 0).unwrap();
        let encoded = ours.encode(&[sentence.to_vec()]).unwrap();
        let d = max_abs_diff(&encoded.states, &their_encoded);
        assert!(d < 1e-4, "encoder states differ by {d}");
        let mut state = ours.start(&encoded).unwrap();
        let mut token = ours.cfg.decoder_start_token_id;
        for step in 0..10 {
            let logits = ours.step(&mut state, &[token]).unwrap();
            let input = Tensor::new(&[token], &Device::Cpu)
                .unwrap()
                .unsqueeze(0)
                .unwrap();
            let their_logits = theirs
                .decode(&input, &their_encoded, step)
                .unwrap()
                .squeeze(0)
                .unwrap();
            let d = max_abs_diff(&logits, &their_logits);
            assert!(d < 1e-4, "step {step}: logits differ by {d}");
            token = logits.argmax(D::Minus1).unwrap().to_vec1::<u32>().unwrap()[0];
        }
    }
}

fn search(beam: usize) -> Search {
    Search {
        beam,
        length_penalty: 1.0,
    }
}

fn translate(model: &Marian, sentences: &[Vec<u32>], beam: usize) -> Vec<Hypothesis> {
    model
        .translate(sentences, search(beam), &|_| 12, &mut || true)
        .unwrap()
        .unwrap()
}

#[test]
fn padded_sentence_batches_translate_as_sentences_one_by_one() {
    let (_root, dir) = tiny(MarianBehaviour::Random);
    let model = load_ours(&dir);
    let all: Vec<Vec<u32>> = SENTENCES.iter().map(|s| s.to_vec()).collect();
    for beam in [1, 3] {
        let together = translate(&model, &all, beam);
        for (s, hyp) in all.iter().zip(&together) {
            let alone = translate(&model, std::slice::from_ref(s), beam);
            assert_eq!(hyp.tokens, alone[0].tokens, "beam {beam}");
            assert!((hyp.score - alone[0].score).abs() < 1e-4, "beam {beam}");
        }
    }
}

/// The log-probability of `tokens` (then the end token, unless cut at `limit`), per token.
fn teacher_forced_score(model: &Marian, sentence: &[u32], tokens: &[u32], limit: usize) -> f32 {
    let encoded = model.encode(&[sentence.to_vec()]).unwrap();
    let mut state = model.start(&encoded).unwrap();
    let mut previous = model.cfg.decoder_start_token_id;
    let mut total = 0.0;
    let mut targets = tokens.to_vec();
    if tokens.len() < limit {
        targets.push(model.cfg.eos_token_id);
    }
    for &t in &targets {
        let logits = model.step(&mut state, &[previous]).unwrap();
        // The pad token is banned after the softmax, as transformers' bad-words processor
        // does: the other tokens keep their probabilities.
        let logp = candle_nn::ops::log_softmax(&logits.squeeze(0).unwrap(), D::Minus1)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_ne!(t, model.cfg.pad_token_id);
        total += logp[t as usize];
        previous = t;
    }
    total / targets.len() as f32
}

#[test]
fn greedy_is_the_argmax_chain_and_beams_score_what_they_return() {
    let (_root, dir) = tiny(MarianBehaviour::Random);
    let model = load_ours(&dir);
    for sentence in SENTENCES {
        // Greedy: the argmax at every step (pad excluded), until the end token or the limit.
        let encoded = model.encode(&[sentence.to_vec()]).unwrap();
        let mut state = model.start(&encoded).unwrap();
        let mut token = model.cfg.decoder_start_token_id;
        let mut chain = Vec::new();
        while chain.len() < 12 {
            let mut logits = model
                .step(&mut state, &[token])
                .unwrap()
                .squeeze(0)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            logits[model.cfg.pad_token_id as usize] = f32::NEG_INFINITY;
            token = (0..logits.len())
                .max_by(|a, b| logits[*a].total_cmp(&logits[*b]))
                .unwrap() as u32;
            if token == model.cfg.eos_token_id {
                break;
            }
            chain.push(token);
        }
        let greedy = &translate(&model, &[sentence.to_vec()], 1)[0];
        assert_eq!(greedy.tokens, chain);
        for beam in [1, 2, 4] {
            let best = &translate(&model, &[sentence.to_vec()], beam)[0];
            let recomputed = teacher_forced_score(&model, sentence, &best.tokens, 12);
            assert!(
                (best.score - recomputed).abs() < 1e-4,
                "beam {beam}: search says {} but the model gives {recomputed}",
                best.score
            );
        }
        // A wider beam never returns a worse hypothesis than greedy decoding found here
        // (both end or both are cut at the same limit on this model).
        let wide = &translate(&model, &[sentence.to_vec()], 4)[0];
        assert!(
            wide.score >= greedy.score - 1e-5,
            "{} < {}",
            wide.score,
            greedy.score
        );
    }
}

#[test]
fn cancelling_stops_between_steps() {
    let (_root, dir) = tiny(MarianBehaviour::Random);
    let model = load_ours(&dir);
    let mut steps = 0;
    let out = model
        .translate(&[SENTENCES[1].to_vec()], search(2), &|_| 12, &mut || {
            steps += 1;
            steps < 3
        })
        .unwrap();
    assert!(out.is_none());
    assert_eq!(steps, 3);
}

#[test]
fn the_engine_loads_a_model_folder_and_names_the_target_language() {
    let (_root, dir) = tiny(MarianBehaviour::WritesChinese);
    let mut engine = MarianEngine::load_dir(&dir).unwrap();
    assert_eq!(engine.info().architecture, "marian");
    assert_eq!(engine.info().target_language.as_deref(), Some("zh"));
    let zh = Language::parse("zh-Hans").unwrap();
    assert!(engine.writes(&zh));
    assert!(!engine.writes(&Language::parse("de").unwrap()));
    let sentences: Vec<String> = [
        "the cat sat on the mat.",
        "",
        "a dog ran home and it was late.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut progress = Vec::new();
    let out = engine
        .translate(
            &sentences,
            &zh,
            &mut |n| progress.push(n),
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(out.len(), 3);
    assert!(out[1].is_empty(), "an empty sentence stays empty");
    for t in [&out[0], &out[2]] {
        assert!(
            !t.is_empty() && t.chars().all(|c| !c.is_ascii_alphabetic()),
            "{t:?}"
        );
    }
    assert_eq!(progress.last(), Some(&3));
    // The language token starts every source sentence: without it in the vocabulary the
    // model is refused for a language it cannot be told to write.
    assert!(engine.info().name.contains("opus-mt-en-zh"));
    let cancelled = CancelToken::new();
    cancelled.cancel();
    let e = engine
        .translate(&sentences, &zh, &mut |_| {}, &cancelled)
        .unwrap_err();
    assert_eq!(e.code(), "cancelled");
    let _ = MARIAN_LANGUAGE_TOKEN;
}

#[test]
fn broken_model_folders_are_clear_errors() {
    let (_root, dir) = tiny(MarianBehaviour::Random);
    std::fs::write(dir.join("config.json"), "{\"d_model\": 16}").unwrap();
    let e = MarianEngine::load_dir(&dir).err().unwrap();
    assert_eq!(e.code(), "model_invalid");
    assert!(e.to_string().contains("config.json"), "{e}");
    let (_root, dir) = tiny(MarianBehaviour::Random);
    std::fs::remove_file(dir.join("target-tokenizer.json")).unwrap();
    let e = MarianEngine::load_dir(&dir).err().unwrap();
    assert!(e.to_string().contains("target-tokenizer.json"), "{e}");
    let (_root, dir) = tiny(MarianBehaviour::Random);
    std::fs::write(dir.join("model.safetensors"), b"not safetensors").unwrap();
    assert_eq!(
        MarianEngine::load_dir(&dir).err().unwrap().code(),
        "model_invalid"
    );
    let e = MarianEngine::load_dir(Path::new("/no/such/opus-mt-en-zh"))
        .err()
        .unwrap();
    assert_eq!(e.code(), "model_missing");
}

#[test]
fn an_article_is_translated_by_the_translation_model_and_summarised_without_an_llm() {
    let (_root, dir) = tiny(MarianBehaviour::WritesChinese);
    let mut engine = MarianEngine::load_dir(&dir).unwrap();
    let doc =
        precis_core::document::read_file(&common::sample_article(), &Default::default()).unwrap();
    let req = Request {
        summary: Some(SummaryOptions {
            length: Length::Short,
            style: Style::Bullets,
            engine: SummaryEngine::Extractive,
        }),
        summary_in_target: true,
        translate: true,
        target: Language::parse("zh-Hant").unwrap(),
        glossary: Default::default(),
    };
    assert!(!req.needs_llm(&doc, true));
    let mut events = Vec::new();
    let outcome = pipeline::run_with(
        doc.clone(),
        &req,
        JobModels {
            llm: None,
            translation: Some(&mut engine),
        },
        &mut |e: Event| events.push(e),
        &CancelToken::new(),
    )
    .unwrap();
    let translation = outcome.translation.unwrap();
    assert_eq!(translation.model, "opus-mt-en-zh");
    assert_eq!(translation.language, "zh-Hant");
    assert_eq!(translation.paragraphs.len(), doc.paragraphs.len());
    let done = events
        .iter()
        .filter(|e| matches!(e, Event::ParagraphDone { .. }))
        .count();
    assert_eq!(done, doc.paragraphs.len(), "every paragraph is streamed");
    // The tiny model writes Simplified characters; the reader asked for Traditional.
    assert!(translation
        .paragraphs
        .iter()
        .all(|p| !p.text.contains('猫') || p.untranslated));
    let summary = outcome.summary.unwrap();
    assert_eq!(summary.translated_by.as_deref(), Some("opus-mt-en-zh"));
    assert_eq!(summary.language, "zh-Hant");
    assert!(outcome.summary_original.is_some());
    // A model for another language is refused before any work.
    let de = Request {
        target: Language::parse("de").unwrap(),
        glossary: Default::default(),
        ..req.clone()
    };
    let e = pipeline::run_with(
        doc.clone(),
        &de,
        JobModels {
            llm: None,
            translation: Some(&mut engine),
        },
        &mut |_: Event| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("German"), "{e}");
    // An article in another source language is refused before the summary is written.
    let mut french = doc.clone();
    french.language = "fr".into();
    let mut events = 0;
    let e = pipeline::run_with(
        french,
        &req,
        JobModels {
            llm: None,
            translation: Some(&mut engine),
        },
        &mut |_: Event| events += 1,
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("French"), "{e}");
    assert_eq!(events, 0, "nothing ran");
}

/// The Marian tokenizer read from `.spm` + `vocab.json` segments as Google's sentencepiece
/// does (fixture written by scripts/marian_spm_reference.py from the WMT23 development data:
/// news sentences, extra whitespace, full-width forms, ligatures, currency, unknown scripts),
/// maps pieces vocab.json lacks to `<unk>`, and decodes as sentencepiece does.
#[test]
fn spm_tokenizers_match_sentencepiece() {
    use precis_core::mt::spm::marian_tokenizer;
    let dir = common::fixture("marian_spm");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let source = marian_tokenizer(&dir.join("source.spm"), &dir.join("vocab.json")).unwrap();
    let mut unknown = 0;
    for case in expected["encode"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let mut got = source.encode(text).unwrap();
        got.push(0);
        assert_eq!(
            got, want,
            "{text:?}: sentencepiece pieces {}",
            case["pieces"]
        );
        unknown += want.iter().filter(|&&i| i == source.unk).count();
    }
    assert!(unknown >= 3, "the fixture exercises unknown pieces");
    let target = marian_tokenizer(&dir.join("target.spm"), &dir.join("vocab.json")).unwrap();
    for case in expected["decode"].as_array().unwrap() {
        let ids: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        assert_eq!(target.decode(&ids), case["text"].as_str().unwrap());
    }
    let e = marian_tokenizer(&dir.join("vocab.json"), &dir.join("vocab.json"))
        .err()
        .unwrap();
    assert_eq!(e.code(), "model_invalid");
    // Ids that are not exactly 0..n (a huge one, a repeat) are refused, never allocated for.
    let tmp = tempfile::tempdir().unwrap();
    for vocab in [
        r#"{"<unk>": 4000000000, "</s>": 0}"#,
        r#"{"<unk>": 1, "</s>": 1}"#,
    ] {
        let path = tmp.path().join("vocab.json");
        std::fs::write(&path, vocab).unwrap();
        let e = marian_tokenizer(&dir.join("source.spm"), &path)
            .err()
            .unwrap();
        assert_eq!(e.code(), "model_invalid", "{vocab}");
    }
}

/// A Hugging Face snapshot of a Helsinki-NLP repository is a model folder as it is: the
/// SentencePiece files are read directly, the target-language token is found in vocab.json.
#[test]
fn a_helsinki_repository_folder_loads_and_translates() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("opus-mt-en-zh");
    common::write_tiny_helsinki_marian(&dir);
    let mut engine = MarianEngine::load_dir(&dir).unwrap();
    let zh = Language::parse("zh-Hans").unwrap();
    let out = engine
        .translate(
            &["The ceasefire in Syria held for a second day.".to_string()],
            &zh,
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert!(
        !out[0].is_empty()
            && out[0]
                .chars()
                .all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{:?}",
        out[0]
    );
    assert!(engine.stats.source_tokens > 5, "{:?}", engine.stats);
}

#[test]
fn implausible_configs_are_refused_before_any_allocation() {
    for (key, value) in [
        ("encoder_attention_heads", 0i64),
        ("decoder_attention_heads", 3),
        ("max_position_embeddings", 0),
        ("max_position_embeddings", 1i64 << 40),
        ("d_model", 17),
        ("pad_token_id", 5000),
        ("vocab_size", 1i64 << 40),
    ] {
        let (_root, dir) = tiny(MarianBehaviour::Random);
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap())
                .unwrap();
        cfg[key] = value.into();
        std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
        let e = MarianEngine::load_dir(&dir).err().unwrap();
        assert_eq!(e.code(), "model_invalid", "{key} = {value}: {e}");
    }
}
