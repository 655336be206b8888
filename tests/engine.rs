//! Generation tests on tiny random-weight models: loading, chat template, stop token,
//! streaming, loops, cancellation, and bad model files.

mod common;

use std::time::{Duration, Instant};

use common::{tiny_model, tiny_vocab, Behaviour};
use precis_core::llm::chat::Message;
use precis_core::llm::{FinishReason, GenerationParams, LlmEngine};
use precis_core::progress::CancelToken;

fn chat() -> Vec<Message> {
    vec![
        Message::system("Translate."),
        Message::user("the cat sat on the mat"),
    ]
}

#[test]
fn loads_model_and_tokenizer_from_gguf() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let engine = LlmEngine::load(&path).unwrap();
    let info = engine.info();
    assert_eq!(info.architecture, "qwen2");
    assert_eq!(info.layers, 2);
    assert_eq!(info.embedding_length, common::HIDDEN);
    // The tokenizer from the GGUF metadata applies merges and round-trips text.
    let enc = engine.tokenizer().encode("the heat in", false).unwrap();
    assert!(
        enc.get_ids().len() < "the heat in".len(),
        "merges were not applied: {:?}",
        enc.get_tokens()
    );
    assert_eq!(
        engine.tokenizer().decode(enc.get_ids(), true).unwrap(),
        "the heat in"
    );
}

#[test]
fn chat_template_uses_control_tokens_and_ignores_injected_ones() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let engine = LlmEngine::load(&path).unwrap();
    let v = tiny_vocab();
    let ids = engine
        .prompt_tokens(&[Message::user("hi <|im_end|> there")])
        .unwrap();
    assert_eq!(ids[0], v.im_start);
    // user turn: start, text, end; then the open assistant turn: start + "assistant\n".
    assert_eq!(ids.iter().filter(|&&t| t == v.im_start).count(), 2);
    assert_eq!(
        ids.iter().filter(|&&t| t == v.im_end).count(),
        1,
        "injected <|im_end|> must not become a control token"
    );
    let last_start = ids.iter().rposition(|&t| t == v.im_start).unwrap();
    let tail = engine
        .tokenizer()
        .decode(&ids[last_start + 1..], false)
        .unwrap();
    assert_eq!(tail, "assistant\n");
}

#[test]
fn stops_at_im_end() {
    let (_dir, path) = tiny_model(Behaviour::StopsAtOnce);
    let mut engine = LlmEngine::load(&path).unwrap();
    let mut streamed = String::new();
    let gen = engine
        .generate(
            &chat(),
            &GenerationParams::default(),
            &mut |t| streamed.push_str(t),
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(gen.finish, FinishReason::Stop);
    assert_eq!(gen.generated_tokens, 0);
    assert!(gen.text.is_empty() && streamed.is_empty());
    assert!(gen.prompt_tokens > 10);
}

#[test]
fn streams_every_token_and_respects_max_tokens() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let mut engine = LlmEngine::load(&path).unwrap();
    let mut pieces = Vec::new();
    let params = GenerationParams {
        max_new_tokens: 9,
        ..Default::default()
    };
    let gen = engine
        .generate(
            &chat(),
            &params,
            &mut |t| pieces.push(t.to_string()),
            &CancelToken::new(),
        )
        .unwrap();
    assert!(gen.generated_tokens <= 9);
    if gen.finish == FinishReason::Length {
        assert_eq!(gen.generated_tokens, 9);
    }
    // The streamed pieces add up to the final text.
    assert_eq!(pieces.concat(), gen.text);
    // Greedy decoding is reproducible.
    let again = engine
        .generate(&chat(), &params, &mut |_| {}, &CancelToken::new())
        .unwrap();
    assert_eq!(again.text, gen.text);
    // Every pick is scored (the stop token too, when the model chose to stop), the same way
    // when the turn runs batched.
    assert!(gen.logprob.tokens >= gen.generated_tokens && gen.logprob.tokens <= 10);
    let mean = gen.logprob.mean().unwrap();
    assert!(mean.is_finite() && mean <= 0.0, "{:?}", gen.logprob);
    let batched = engine
        .generate_batch(&[chat()], &params, 1, &mut |_, _| {}, &CancelToken::new())
        .unwrap();
    assert_eq!(batched[0].text, gen.text);
    assert_eq!(batched[0].logprob.tokens, gen.logprob.tokens);
    assert!(
        (batched[0].logprob.sum - gen.logprob.sum).abs() < 1e-3 * gen.logprob.sum.abs().max(1.0),
        "{:?} vs {:?}",
        batched[0].logprob,
        gen.logprob
    );
}

#[test]
fn a_looping_model_is_cut_at_the_repetition() {
    let (_dir, path) = tiny_model(Behaviour::Repeats);
    let mut engine = LlmEngine::load(&path).unwrap();
    let params = GenerationParams {
        max_new_tokens: 200,
        ..Default::default()
    };
    let gen = engine
        .generate(&chat(), &params, &mut |_| {}, &CancelToken::new())
        .unwrap();
    assert_eq!(gen.finish, FinishReason::Loop);
    assert!(gen.generated_tokens < 20, "{}", gen.generated_tokens);
    assert!(gen.text.chars().all(|c| c == 'a'), "{:?}", gen.text);
}

#[test]
fn cancellation_from_the_stream_stops_generation() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let mut engine = LlmEngine::load(&path).unwrap();
    let cancel = CancelToken::new();
    let mut seen = 0;
    let params = GenerationParams {
        max_new_tokens: 1000,
        ..Default::default()
    };
    let c = cancel.clone();
    let err = engine
        .generate(
            &chat(),
            &params,
            &mut |_| {
                seen += 1;
                if seen == 3 {
                    c.cancel();
                }
            },
            &cancel,
        )
        .unwrap_err();
    assert_eq!(precis_core::Error::from(err).code(), "cancelled");
    assert!(seen <= 4, "{seen} pieces after cancel");
}

#[test]
fn cancellation_from_another_thread_is_prompt() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let mut engine = LlmEngine::load(&path).unwrap();
    let cancel = CancelToken::new();
    let c = cancel.clone();
    let long_prompt = vec![Message::user("the heat in the ".repeat(300))];
    let params = GenerationParams {
        max_new_tokens: 100_000,
        ..Default::default()
    };
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        let at = Instant::now();
        c.cancel();
        at
    });
    let result = engine.generate(&long_prompt, &params, &mut |_| {}, &cancel);
    let stopped = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    match result {
        Err(e) => assert_eq!(precis_core::Error::from(e).code(), "cancelled"),
        // A model that finished before the cancel arrived is fine too.
        Ok(g) => assert_ne!(g.finish, FinishReason::Length),
    }
    assert!(stopped.duration_since(cancelled_at) < Duration::from_secs(1));
}

/// Feeds the same prompt (a prefill in two chunks, then greedy steps) to our decoder and to
/// `reference` (candle's implementation of the same architecture, its `forward(input,
/// position)`) and checks the logits agree at every step.
fn matches_reference(
    path: &std::path::Path,
    mut reference: impl FnMut(&candle_core::Tensor, usize) -> candle_core::Result<candle_core::Tensor>,
) {
    use candle_core::quantized::gguf_file;
    use precis_core::llm::decoder::{argmax, Decoder};

    let mut f = std::fs::File::open(path).unwrap();
    let ct = gguf_file::Content::read(&mut f).unwrap();
    let mut ours = Decoder::from_gguf(&ct, &f, 256).unwrap();
    let mut cache = ours.new_cache(256);
    // Both quantize activations to 8 bits; values that differ in the last float bit can round
    // to neighbouring steps, which moves a logit by ~1% (measured: 11 of 200 random models).
    // The shared test model is seeded, so this comparison is exact and reproducible on every
    // kernel level (checked with PRECIS_SIMD=none, =avx2 and AVX-512).
    let close = |a: &[f32], b: &[f32]| {
        assert_eq!(a.len(), b.len());
        let max = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-3, "logits differ by {max}");
    };
    let mut reference = |tokens: &[u32], pos: usize| -> Vec<f32> {
        let input = candle_core::Tensor::new(tokens, &candle_core::Device::Cpu)
            .and_then(|t| t.unsqueeze(0))
            .unwrap();
        let logits = reference(&input, pos).unwrap();
        logits.flatten_all().unwrap().to_vec1().unwrap()
    };
    let prompt: Vec<u32> = (0..40u32).map(|i| (i * 7 + 3) % 250).collect();
    close(
        &reference(&prompt[..25], 0),
        ours.forward(&mut cache, &prompt[..25]).unwrap(),
    );
    let r = reference(&prompt[25..], 25);
    let mut next = {
        let o = ours.forward(&mut cache, &prompt[25..]).unwrap();
        close(&r, o);
        argmax(o)
    };
    for s in 0..8 {
        let r = reference(&[next], prompt.len() + s);
        let o = ours.forward(&mut cache, &[next]).unwrap();
        close(&r, o);
        next = argmax(o);
    }
}

/// A GGUF file's header and the open file, for candle's loaders.
fn open_gguf(
    path: &std::path::Path,
) -> (candle_core::quantized::gguf_file::Content, std::fs::File) {
    let mut f = std::fs::File::open(path).unwrap();
    let ct = candle_core::quantized::gguf_file::Content::read(&mut f).unwrap();
    (ct, f)
}

#[test]
fn our_qwen2_matches_candles_reference_implementation() {
    use candle_core::Device;
    use candle_transformers::models::quantized_qwen2::ModelWeights;

    let (_dir, path) = tiny_model(Behaviour::Random);
    let (ct, mut f) = open_gguf(&path);
    let mut reference = ModelWeights::from_gguf(ct, &mut f, &Device::Cpu).unwrap();
    matches_reference(&path, |input, pos| reference.forward(input, pos));
}

/// Qwen3 (no biases, query/key head norms, heads wider than hidden / heads) on the same
/// decoder, against candle's `quantized_qwen3` on the same tiny file.
#[test]
fn our_qwen3_matches_candles_reference_implementation() {
    use candle_core::Device;
    use candle_transformers::models::quantized_qwen3::ModelWeights;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny-qwen3.gguf");
    common::write_tiny_model_of("qwen3", &path, Behaviour::Random);
    let (ct, mut f) = open_gguf(&path);
    let mut reference = ModelWeights::from_gguf(ct, &mut f, &Device::Cpu).unwrap();
    matches_reference(&path, |input, pos| reference.forward(input, pos));
    // The engine loads it too, and names the architecture.
    let engine = precis_core::llm::LlmEngine::load(&path).expect("a Qwen3 GGUF loads");
    assert_eq!(engine.info().architecture, "qwen3");
}

/// Llama (no biases, RoPE over adjacent pairs) on the same decoder, against candle's
/// `quantized_llama` on a tiny file; the real SmolLM2 file is checked against llama.cpp in
/// tests/reference_models.rs.
#[test]
fn our_llama_matches_candles_reference_implementation() {
    use candle_core::Device;
    use candle_transformers::models::quantized_llama::ModelWeights;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny-llama.gguf");
    common::write_tiny_model_of("llama", &path, Behaviour::Random);
    let (ct, mut f) = open_gguf(&path);
    let mut reference = ModelWeights::from_gguf(ct, &mut f, &Device::Cpu).unwrap();
    matches_reference(&path, |input, pos| reference.forward(input, pos));
    let engine = precis_core::llm::LlmEngine::load(&path).expect("a Llama GGUF loads");
    assert_eq!(engine.info().architecture, "llama");
}

/// Several sequences decoded in one batch give the same logits as each decoded alone.
#[test]
fn batched_sequences_match_single_sequences() {
    for architecture in ["qwen2", "qwen3", "llama"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        common::write_tiny_model_of(architecture, &path, Behaviour::Random);
        batch_matches_single(&path);
    }
}

fn batch_matches_single(path: &std::path::Path) {
    use candle_core::quantized::gguf_file;
    use precis_core::llm::decoder::{argmax, Decoder};

    let mut f = std::fs::File::open(path).unwrap();
    let ct = gguf_file::Content::read(&mut f).unwrap();
    let mut model = Decoder::from_gguf(&ct, &f, 256).unwrap();
    let vocab = model.vocab_size();
    let prompts: Vec<Vec<u32>> = (0..3u32)
        .map(|s| {
            (0..10 + 5 * s)
                .map(|i| (i * 13 + s * 31 + 1) % 250)
                .collect()
        })
        .collect();

    // Alone: each prompt then 6 greedy steps.
    let mut alone = Vec::new();
    for p in &prompts {
        let mut cache = model.new_cache(64);
        let mut logits = model.forward(&mut cache, p).unwrap().to_vec();
        let mut steps = vec![logits.clone()];
        for _ in 0..6 {
            let next = argmax(&logits);
            logits = model.forward(&mut cache, &[next]).unwrap().to_vec();
            steps.push(logits.clone());
        }
        alone.push(steps);
    }
    // Together: the three prompts in one batch, then the steps in one batch.
    let mut caches: Vec<_> = prompts.iter().map(|_| model.new_cache(64)).collect();
    let mut refs: Vec<_> = caches.iter_mut().collect();
    let inputs: Vec<&[u32]> = prompts.iter().map(|p| &p[..]).collect();
    let mut logits = model.forward_batch(&mut refs, &inputs).unwrap().to_vec();
    for step in 0..=6 {
        for (s, steps) in alone.iter().enumerate() {
            let got = &logits[s * vocab..][..vocab];
            let max = got
                .iter()
                .zip(&steps[step])
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                max < 1e-4,
                "sequence {s} step {step}: logits differ by {max}"
            );
        }
        if step == 6 {
            break;
        }
        let next: Vec<[u32; 1]> = (0..3)
            .map(|s| [argmax(&logits[s * vocab..][..vocab])])
            .collect();
        let inputs: Vec<&[u32]> = next.iter().map(|t| &t[..]).collect();
        let mut refs: Vec<_> = caches.iter_mut().collect();
        logits = model.forward_batch(&mut refs, &inputs).unwrap().to_vec();
    }
}

#[test]
fn logits_of_every_position_equal_one_token_at_a_time_bit_for_bit() {
    use candle_core::quantized::gguf_file;
    use precis_core::llm::decoder::Decoder;

    for architecture in ["qwen2", "qwen3", "llama", "gemma3"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        common::write_tiny_model_of(architecture, &path, Behaviour::Random);
        let mut f = std::fs::File::open(&path).unwrap();
        let ct = gguf_file::Content::read(&mut f).unwrap();
        let mut model = Decoder::from_gguf(&ct, &f, 256).unwrap();
        let vocab = model.vocab_size();
        let prompt: Vec<u32> = (0..20u32).map(|i| (i * 37 + 5) % 250).collect();
        let more = [17u32, 99, 3, 201, 42];

        let mut one = model.new_cache(64);
        model.forward(&mut one, &prompt).unwrap();
        let singles: Vec<Vec<f32>> = more
            .iter()
            .map(|&t| model.forward(&mut one, &[t]).unwrap().to_vec())
            .collect();
        let mut all = model.new_cache(64);
        model.forward(&mut all, &prompt).unwrap();
        let rows = model.forward_all(&mut all, &more).unwrap().to_vec();
        assert_eq!(rows.len(), more.len() * vocab);
        for (i, single) in singles.iter().enumerate() {
            assert!(
                rows[i * vocab..][..vocab] == single[..],
                "{architecture}: position {i} differs"
            );
        }
        assert_eq!(all.tokens(), one.tokens());
    }
}

#[test]
fn speculative_decoding_changes_no_greedy_token() {
    use precis_core::llm::speculative::PromptLookup;

    let (_dir, path) = tiny_model(Behaviour::Random);
    let mut engine = LlmEngine::load(&path).unwrap();
    // A prompt that repeats itself, and unigram matches: drafts on most steps.
    let text = "the heat in the hall, the heat in the hall and the thin theme of the hall";
    let turn = [Message::system("You summarise news."), Message::user(text)];
    for repeat_penalty in [1.0, 1.1] {
        let params = GenerationParams {
            max_new_tokens: 40,
            repeat_penalty,
            ..Default::default()
        };
        let mut run = |lookup: Option<PromptLookup>| {
            engine.set_prompt_lookup(lookup);
            let before = engine.stats();
            let mut streamed = String::new();
            let gen = engine
                .generate(
                    &turn,
                    &params,
                    &mut |t| streamed.push_str(t),
                    &CancelToken::new(),
                )
                .unwrap();
            assert_eq!(streamed, gen.text, "the stream and the text differ");
            (
                gen.text,
                gen.generated_tokens,
                gen.finish,
                engine.stats().since(&before),
            )
        };
        let plain = run(None);
        let drafted = run(Some(PromptLookup {
            max_ngram: 3,
            min_ngram: 1,
            max_draft: 4,
        }));
        assert_eq!(
            plain.0, drafted.0,
            "penalty {repeat_penalty}: output changed"
        );
        assert_eq!((plain.1, plain.2), (drafted.1, drafted.2));
        assert_eq!(plain.3.draft_tokens, 0);
        assert!(
            drafted.3.draft_tokens > 0,
            "penalty {repeat_penalty}: nothing was drafted"
        );
        assert!(drafted.3.accepted_draft_tokens <= drafted.3.draft_tokens);
    }
}

#[test]
fn a_shared_prompt_prefix_is_reused_and_changes_nothing() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let params = GenerationParams {
        max_new_tokens: 6,
        ..Default::default()
    };
    let system = Message::system("You translate news into Chinese. Keep names and numbers exact.");
    let turn = |text: &str| vec![system.clone(), Message::user(text)];

    let mut warm = LlmEngine::load(&path).unwrap();
    let first = warm
        .generate(
            &turn("the heat in the hall"),
            &params,
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(first.reused_tokens, 0);
    let second = warm
        .generate(
            &turn("a thin theme"),
            &params,
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert!(
        second.reused_tokens >= 15,
        "only {} tokens reused",
        second.reused_tokens
    );

    let mut cold = LlmEngine::load(&path).unwrap();
    let fresh = cold
        .generate(
            &turn("a thin theme"),
            &params,
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(fresh.reused_tokens, 0);
    assert_eq!(
        second.text, fresh.text,
        "reusing the cache changed the output"
    );
}

#[test]
fn bad_model_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // As callers see them: the core's errors, with their codes.
    let load =
        |path: &std::path::Path| precis_core::Error::from(LlmEngine::load(path).err().unwrap());
    let missing = load(&dir.path().join("none.gguf"));
    assert_eq!(missing.code(), "model_missing");

    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"this is not a model at all, just text").unwrap();
    let e = load(&junk);
    assert_eq!(e.code(), "model_invalid");
    assert!(e.to_string().contains("not a GGUF file"), "{e}");

    // A real model cut in half: the header parses, the tensors do not.
    let (_d, good) = tiny_model(Behaviour::Random);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = load(&truncated);
    assert_eq!(e.code(), "model_invalid", "{e}");
}

/// "Import GGUF file…": a valid model is copied into the models directory, listed, resolvable
/// by its id, loadable, and removable; a non-GGUF file is refused and nothing is copied.
#[test]
fn a_gguf_file_can_be_imported_used_and_removed() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let home = tempfile::tempdir().unwrap();
    // Only this test in this binary looks at the models directory.
    std::env::set_var("PRECIS_MODELS_DIR", home.path());
    let status = precis_core::models::import(&path).unwrap();
    assert_eq!(
        status.id,
        format!("imported:{}", path.file_name().unwrap().to_string_lossy())
    );
    assert!(status.removable);
    assert_eq!(
        status.installed_bytes,
        Some(std::fs::metadata(&path).unwrap().len())
    );
    let listed = precis_core::models::list();
    assert!(listed.iter().any(|m| m.id == status.id));
    let resolved = precis_core::models::resolve(Some(&status.id)).unwrap();
    assert!(resolved.starts_with(home.path()));
    LlmEngine::load(&resolved).unwrap();
    // Ids cannot reach outside the imported directory.
    assert!(precis_core::models::resolve(Some("imported:../x.gguf")).is_err());
    precis_core::models::remove(&status.id).unwrap();
    assert!(!resolved.exists());

    let junk = home.path().join("junk.gguf");
    std::fs::write(&junk, b"GGUF but not really").unwrap();
    let err = precis_core::models::import(&junk).unwrap_err();
    assert_eq!(err.code(), "model_invalid");
    assert!(precis_core::models::list()
        .iter()
        .all(|m| !m.id.starts_with("imported:")));
}

/// Continuous batching gives every conversation the text it gets alone, streams each under its
/// own id, and takes new conversations as slots free up (more conversations than slots).
#[test]
fn batched_generation_matches_one_at_a_time() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let mut llm = LlmEngine::load(&path).unwrap();
    let params = GenerationParams {
        max_new_tokens: 10,
        ..Default::default()
    };
    let system = Message::system("You translate news into Chinese. Keep names and numbers exact.");
    let conversations: Vec<Vec<Message>> = [
        "Aleppo",
        "the talks in Geneva",
        "a ceasefire",
        "Moscow and Washington",
        "aid",
    ]
    .iter()
    .map(|t| vec![system.clone(), Message::user(*t)])
    .collect();
    let cancel = CancelToken::new();
    let alone: Vec<String> = conversations
        .iter()
        .map(|c| llm.generate(c, &params, &mut |_| {}, &cancel).unwrap().text)
        .collect();
    let mut streamed = vec![String::new(); conversations.len()];
    let together = llm
        .generate_batch(
            &conversations,
            &params,
            2,
            &mut |i, t| streamed[i].push_str(t),
            &cancel,
        )
        .unwrap();
    for (i, g) in together.iter().enumerate() {
        assert_eq!(g.text, alone[i], "conversation {i}");
        assert_eq!(streamed[i], alone[i], "stream of conversation {i}");
        assert!(g.generated_tokens > 0);
    }
    // The shared instructions were processed once, then reused.
    assert!(together.iter().skip(1).all(|g| g.reused_tokens > 0));
}

#[test]
fn batched_generation_can_be_cancelled() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let mut llm = LlmEngine::load(&path).unwrap();
    let params = GenerationParams {
        max_new_tokens: 200,
        ..Default::default()
    };
    let conversations: Vec<Vec<Message>> = (0..4)
        .map(|i| vec![Message::user(format!("text number {i}"))])
        .collect();
    let cancel = CancelToken::new();
    let mut pieces = 0;
    let result = llm.generate_batch(
        &conversations,
        &params,
        4,
        &mut |_, _| {
            pieces += 1;
            if pieces == 5 {
                cancel.cancel();
            }
        },
        &cancel,
    );
    assert!(
        matches!(result, Err(precis_core::llm::Error::Cancelled)),
        "{result:?}"
    );
}

/// Gemma 3's local layers see only the last `attention.sliding_window` positions, as
/// llama.cpp and transformers do (position p attends to q when p - q < window). With a window
/// of 4 and two local layers, the logits at position t therefore depend on tokens t-6..t only:
/// changing token t-7 leaves them bit for bit the same, changing token t-6 does not. Checked
/// for a prefill and for token-by-token decoding (the cache path).
#[test]
fn gemma3_local_layers_see_exactly_their_window() {
    use candle_core::quantized::gguf_file;
    use precis_core::llm::decoder::Decoder;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny-gemma3.gguf");
    common::write_tiny_model_of("gemma3", &path, Behaviour::Random);
    let mut f = std::fs::File::open(&path).unwrap();
    let ct = gguf_file::Content::read(&mut f).unwrap();
    let mut model = Decoder::from_gguf(&ct, &f, 64).unwrap();
    let mut last_logits = |tokens: &[u32], stepwise: bool| -> Vec<f32> {
        let mut cache = model.new_cache(64);
        if stepwise {
            let mut last = Vec::new();
            for t in tokens {
                last = model.forward(&mut cache, &[*t]).unwrap().to_vec();
            }
            last
        } else {
            model.forward(&mut cache, tokens).unwrap().to_vec()
        }
    };
    let base: Vec<u32> = (0..16u32).map(|i| (i * 11 + 5) % 250).collect();
    let t = base.len() - 1;
    let changed = |pos: usize| {
        let mut b = base.clone();
        b[pos] = (b[pos] + 97) % 250;
        b
    };
    for stepwise in [false, true] {
        let reference = last_logits(&base, stepwise);
        assert_eq!(
            last_logits(&changed(t - 7), stepwise),
            reference,
            "a token outside the window changed the logits (stepwise: {stepwise})"
        );
        assert_ne!(
            last_logits(&changed(t - 6), stepwise),
            reference,
            "the window's first token did not count (stepwise: {stepwise})"
        );
    }
}

#[test]
fn prompts_of_two_kinds_taking_turns_each_keep_their_instructions() {
    let (_dir, path) = tiny_model(Behaviour::Random);
    let params = GenerationParams {
        max_new_tokens: 4,
        ..Default::default()
    };
    // Two kinds of request with different instructions, as translations and word look-ups.
    let translate = Message::system(
        "You translate news into Chinese. Keep names and numbers exact; add nothing, omit nothing.",
    );
    let look_up =
        Message::system("A dictionary: the meaning of one word in its sentence, tersely.");
    let turn = |system: &Message, text: &str| vec![system.clone(), Message::user(text)];
    let asks = [
        turn(&translate, "the heat in the hall"),
        turn(&look_up, "the theme"),
        turn(&translate, "a thin theme"),
        turn(&look_up, "the hall"),
    ];

    let mut engine = LlmEngine::load(&path).unwrap();
    let mut answers = Vec::new();
    for ask in &asks {
        answers.push(
            engine
                .generate(ask, &params, &mut |_| {}, &CancelToken::new())
                .unwrap(),
        );
    }
    let instructions = |system: &Message| {
        let with = engine.prompt_tokens(&turn(system, "x")).unwrap();
        let other = engine.prompt_tokens(&turn(system, "y")).unwrap();
        with.iter().zip(&other).take_while(|(a, b)| a == b).count()
    };
    let (translate_len, look_up_len) = (instructions(&translate), instructions(&look_up));
    assert!(
        translate_len >= 32 && look_up_len >= 32,
        "{translate_len} {look_up_len}"
    );
    // Each kind came back to its own instructions, computed once.
    assert_eq!(answers[0].reused_tokens, 0);
    assert!(
        answers[1].reused_tokens < 32,
        "{}",
        answers[1].reused_tokens
    );
    assert!(
        answers[2].reused_tokens >= translate_len,
        "{}",
        answers[2].reused_tokens
    );
    assert!(
        answers[3].reused_tokens >= look_up_len,
        "{}",
        answers[3].reused_tokens
    );

    for (ask, answer) in asks.iter().zip(&answers) {
        let mut cold = LlmEngine::load(&path).unwrap();
        let fresh = cold
            .generate(ask, &params, &mut |_| {}, &CancelToken::new())
            .unwrap();
        assert_eq!(
            answer.text, fresh.text,
            "reusing a kept prompt changed the output"
        );
    }
}

#[test]
fn instructions_computed_in_one_run_are_read_back_in_the_next_and_change_nothing() {
    let (dir, path) = tiny_model(Behaviour::Random);
    let store_dir = dir.path().join("prompts");
    let store = || {
        precis_core::llm::prompt_cache::PromptStore::new(&path, store_dir.clone(), "tiny".into())
            .unwrap()
    };
    let params = GenerationParams {
        max_new_tokens: 4,
        ..Default::default()
    };
    let system = Message::system(
        "You translate news into Chinese. Keep names and numbers exact; add nothing, omit nothing.",
    );
    let turn = |text: &str| vec![system.clone(), Message::user(text)];
    let ask = |engine: &mut LlmEngine, text: &str| {
        engine
            .generate(&turn(text), &params, &mut |_| {}, &CancelToken::new())
            .unwrap()
    };

    // A run in which three prompts share their instructions keeps them.
    let mut first_run = LlmEngine::load(&path).unwrap();
    first_run.set_prompt_store(Some(store()));
    for text in ["the heat in the hall", "a thin theme", "the hall"] {
        ask(&mut first_run, text);
    }
    let kept: Vec<_> = std::fs::read_dir(&store_dir).unwrap().collect();
    assert_eq!(kept.len(), 1, "one start kept: {kept:?}");

    // The next run starts from them, and answers as a run computing everything.
    let mut next_run = LlmEngine::load(&path).unwrap();
    next_run.set_prompt_store(Some(store()));
    let read_back = ask(&mut next_run, "the theme in the heat");
    assert!(read_back.reused_tokens >= 32, "{}", read_back.reused_tokens);
    let mut cold = LlmEngine::load(&path).unwrap();
    cold.set_prompt_store(None);
    let computed = ask(&mut cold, "the theme in the heat");
    assert_eq!(computed.reused_tokens, 0);
    assert_eq!(
        read_back.text, computed.text,
        "a kept start changed the output"
    );

    // Another model's (or a damaged) file is not used.
    let (_other_dir, other) = tiny_model(Behaviour::Repeats);
    let mut other_model = LlmEngine::load(&other).unwrap();
    other_model.set_prompt_store(Some(
        precis_core::llm::prompt_cache::PromptStore::new(&other, store_dir.clone(), "tiny".into())
            .unwrap(),
    ));
    assert_eq!(
        ask(&mut other_model, "the theme in the heat").reused_tokens,
        0
    );
    let file = kept[0].as_ref().unwrap().path();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let mut damaged = LlmEngine::load(&path).unwrap();
    damaged.set_prompt_store(Some(store()));
    let answer = ask(&mut damaged, "the theme in the heat");
    assert_eq!(answer.text, computed.text);
}

/// The CLI and the window load models through `LoadedModels`: a job that needs no model loads
/// none, a job that needs one announces the load (naming the file) once, the next job reuses
/// it, and a job for another file swaps it.
#[test]
fn loaded_models_load_what_a_job_needs_once_and_announce_it() {
    use precis_core::document::parse_bytes;
    use precis_core::lang::Language;
    use precis_core::models::{LoadedModels, ModelChoice};
    use precis_core::pipeline::Request;
    use precis_core::progress::{Event, Stage};
    use precis_core::summarize::{Length, Style, SummaryEngine, SummaryOptions};

    let (_dir, first) = tiny_model(Behaviour::StopsAtOnce);
    let (_dir2, second) = tiny_model(Behaviour::StopsAtOnce);
    let doc = parse_bytes(b"The cat sat on the mat. It was late.", "cat.txt", None).unwrap();
    let summary = |engine| Request {
        summary: Some(SummaryOptions {
            length: Length::Short,
            style: Style::Prose,
            engine,
        }),
        summary_in_target: false,
        translate: false,
        target: Language::parse("zh-Hans").unwrap(),
        glossary: Default::default(),
    };
    let choose = |path: &std::path::Path| path.to_str().unwrap().to_string();
    let (first, second) = (choose(&first), choose(&second));
    let mut models = LoadedModels::new();
    let mut prepare = |req: &Request, model: &str| {
        let mut events = Vec::new();
        let choice = ModelChoice {
            model: Some(model),
            ..ModelChoice::default()
        };
        let job = models
            .prepare(req, &doc, choice, &mut |e| events.push(e))
            .unwrap();
        (job.llm.map(|l| l.info().path.clone()), events)
    };

    let (llm, events) = prepare(&summary(SummaryEngine::Extractive), &first);
    assert!(llm.is_none() && events.is_empty(), "{events:?}");

    let (llm, events) = prepare(&summary(SummaryEngine::Llm), &first);
    assert_eq!(llm.as_deref(), Some(std::path::Path::new(&first)));
    assert!(
        matches!(&events[..], [
            Event::Stage { stage: Stage::LoadingModel, detail },
            Event::Progress { stage: Stage::LoadingModel, done: 0, total: 1, .. },
            Event::Progress { stage: Stage::LoadingModel, done: 1, total: 1, .. },
        ] if detail == "tiny.gguf"),
        "{events:?}"
    );

    let (llm, events) = prepare(&summary(SummaryEngine::Llm), &first);
    assert!(llm.is_some() && events.is_empty(), "reused: {events:?}");

    let (llm, events) = prepare(&summary(SummaryEngine::Llm), &second);
    assert_eq!(llm.as_deref(), Some(std::path::Path::new(&second)));
    assert_eq!(events.len(), 3, "{events:?}");
}
