//! The order translation jobs run in and the one retry policy every translation goes through
//! ([`DocumentJobs`]): pieces, stricter retries, word look-ups, sentence-by-sentence
//! retranslation, and names learnt from one paragraph for the ones after it.

use super::checks::{
    english_left_in, has_words, latin_share, only_english_left, problems, settle,
    untranslated_words, Attempt, Problem, Settled, MOSTLY_LATIN,
};
use super::glossary::{contains_term, replace_latin_word, terms_to_list, GlossaryEntry};
use super::prompt::{lookup_answer, pinned_amounts, translator_system, user_message, word_lookup};
use super::{FinishedText, Translator};
use crate::lang::Language;
use crate::llm::chat::Message;
use crate::llm::{FinishReason, GenerationParams, Generator, LogProb};
use crate::names::{person_names, short_forms};
use crate::progress::{CancelToken, Event, EventSink, Stage};
use crate::script::Converter;
use crate::Result;

/// Longest text translated in one generation, in tokens.
pub(super) const MAX_PIECE_TOKENS: usize = 600;

/// Splits `text` into runs of whole sentences of at most `max_tokens` each; a single sentence
/// longer than that is cut between words.
pub(super) fn split_for_translation(
    text: &str,
    count: impl Fn(&str) -> usize,
    max_tokens: usize,
) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let push_sentence = |sentence: &str, pieces: &mut Vec<String>, current: &mut String| {
        let candidate = if current.is_empty() {
            sentence.to_string()
        } else {
            format!("{current} {sentence}")
        };
        if count(&candidate) <= max_tokens {
            *current = candidate;
        } else {
            if !current.is_empty() {
                pieces.push(std::mem::take(current));
            }
            *current = sentence.to_string();
        }
    };
    for sentence in crate::document::split_sentences(text) {
        if count(&sentence) <= max_tokens {
            push_sentence(&sentence, &mut pieces, &mut current);
            continue;
        }
        for word in sentence.split_whitespace() {
            push_sentence(word, &mut pieces, &mut current);
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// One text handed to the model: a heading, a paragraph, or part of a long paragraph.
pub(super) struct Piece {
    pub(super) item: usize,
    pub(super) text: String,
    pub(super) amounts: Vec<(String, String)>,
    pub(super) max_new_tokens: usize,
    /// The first attempt, kept while the stricter retry runs.
    pub(super) first: Option<Attempt>,
    /// The first attempt only left English words in, so its look-ups run before the stricter
    /// retry, which then runs only if they do not mend it.
    pub(super) retry_after_lookups: bool,
    /// The piece's sentences and their translations, while it is retranslated sentence by
    /// sentence (empty otherwise).
    pub(super) sentences: Vec<SentenceJob>,
    /// Whether the sentence-by-sentence retranslation was considered (it runs at most once).
    pub(super) sentences_tried: bool,
    /// The chosen translation while English words left in it are being looked up, or while
    /// the piece is retranslated sentence by sentence.
    pub(super) fixing: Option<Settled>,
    /// Word look-ups still running for this piece.
    pub(super) lookups: usize,
    pub(super) result: Option<Settled>,
}

/// One sentence of a piece still failing after the retry and the look-ups, retranslated on
/// its own.
pub(super) struct SentenceJob {
    pub(super) text: String,
    pub(super) max_new_tokens: usize,
    pub(super) done: Option<(Attempt, FinishReason)>,
}

/// A heading or paragraph of the document, made of one or more pieces.
pub(super) struct Item {
    pub(super) id: String,
    pub(super) source: String,
    pub(super) pieces: Vec<usize>,
    pub(super) is_paragraph: bool,
    /// Personal names this item mentions (full and short forms): a later piece that mentions
    /// one waits for this item, so it gets the rendering learnt here.
    pub(super) names: Vec<String>,
    pub(super) text: Option<Settled>,
}

/// Headlines are not where a newspaper explains a name.
pub(super) fn is_heading(item: &Item) -> bool {
    !item.is_paragraph && (item.id == "title" || item.id == "subtitle")
}

/// What a job asks the model for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ask {
    /// Translate the piece.
    Translate,
    /// Translate it again with the stricter prompt (the first attempt had problems).
    Retry,
    /// Translate its n-th sentence on its own, after the piece before it as context (the
    /// retry and the word look-ups left problems).
    Sentence(usize),
    /// The target-language word for an English word the chosen translation left in.
    Word(String),
}

/// Ordinary English words looked up per piece at most (the first ones in the text); a
/// translation mostly in English failed wholesale, which look-ups would not mend, and gets none.
pub(super) const MAX_LOOKUPS: usize = 6;

/// Longest piece given as context to a sentence retranslation (about 250 tokens of English):
/// a longer one would cost more prefill than the sentence itself is worth.
pub(super) const MAX_CONTEXT_BYTES: usize = 1200;

/// A text's translation as a stream of jobs for [`Generator::run_jobs`], with the one retry
/// policy every translation goes through (paragraphs, headings, summaries): pieces start in
/// document order (a long paragraph's parts one after another); a piece that fails the checks
/// is retried stricter before anything else starts; English words the chosen translation still
/// holds are looked up one by one in their sentence and replaced; a piece still failing then is
/// retranslated sentence by sentence after the previous piece as context; and names learnt
/// from a finished paragraph are in the prompts of every piece started after it.
pub(super) struct DocumentJobs<'s> {
    pub(super) target: Language,
    /// Applied to each finished item (after names are learnt from the model's own script).
    pub(super) convert: Option<Converter>,
    pub(super) source_language: &'static str,
    pub(super) glossary: Vec<GlossaryEntry>,
    pub(super) items: Vec<Item>,
    pub(super) pieces: Vec<Piece>,
    /// Waiting jobs: (piece, what to ask).
    pub(super) queue: std::collections::VecDeque<(usize, Ask)>,
    /// Started jobs by id.
    pub(super) started: Vec<(usize, Ask)>,
    /// English words looked up so far and their renderings ("" when the look-up failed), so a
    /// word is rendered the same way throughout and looked up once.
    pub(super) words: std::collections::HashMap<String, String>,
    /// People already explained (original in brackets) before this text's own items.
    pub(super) explained: Vec<String>,
    /// The stage streamed text is reported under.
    pub(super) stage: Stage,
    pub(super) paragraphs_done: u64,
    pub(super) paragraphs_total: u64,
    pub(super) sink: &'s mut dyn EventSink,
}

impl<'s> DocumentJobs<'s> {
    pub(super) fn new(
        translator: &mut Translator<'_>,
        stage: Stage,
        sink: &'s mut dyn EventSink,
    ) -> DocumentJobs<'s> {
        let mut jobs = DocumentJobs::to(translator.target, stage, sink);
        jobs.convert = translator.convert;
        jobs.source_language = translator.source_language;
        jobs.glossary = std::mem::take(&mut translator.glossary);
        jobs.words = std::mem::take(&mut translator.words);
        jobs.explained = std::mem::take(&mut translator.explained);
        jobs
    }

    /// Jobs translating English into `target`, with nothing known yet.
    pub(super) fn to(
        target: Language,
        stage: Stage,
        sink: &'s mut dyn EventSink,
    ) -> DocumentJobs<'s> {
        DocumentJobs {
            target,
            convert: None,
            source_language: "English",
            glossary: Vec::new(),
            items: Vec::new(),
            pieces: Vec::new(),
            queue: std::collections::VecDeque::new(),
            started: Vec::new(),
            words: std::collections::HashMap::new(),
            explained: Vec::new(),
            stage,
            paragraphs_done: 0,
            paragraphs_total: 0,
            sink,
        }
    }

    /// Adds a heading, paragraph or other text to translate, split into pieces that fit
    /// (`count_tokens` measures text in the model's tokens).
    pub(super) fn add(
        &mut self,
        count_tokens: &dyn Fn(&str) -> usize,
        id: &str,
        text: &str,
        is_paragraph: bool,
    ) {
        let index = self.items.len();
        let names = if self.target.is_cjk() {
            person_names(text, &self.glossary)
                .into_iter()
                .flat_map(|n| {
                    let mut forms = short_forms(&n);
                    forms.push(n);
                    forms
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut item = Item {
            id: id.to_string(),
            source: text.to_string(),
            pieces: Vec::new(),
            is_paragraph,
            names,
            text: None,
        };
        let parts = if text.trim().is_empty() {
            Vec::new()
        } else if count_tokens(text) <= MAX_PIECE_TOKENS {
            vec![text.to_string()]
        } else {
            split_for_translation(text, count_tokens, MAX_PIECE_TOKENS)
        };
        for part in parts {
            let piece = self.pieces.len();
            item.pieces.push(piece);
            // Nothing to translate (symbols, markup): copied, never generated.
            let copied = (!has_words(&part)).then(|| Settled::copied(&part));
            if copied.is_none() {
                self.queue.push_back((piece, Ask::Translate));
            }
            self.pieces.push(Piece {
                item: index,
                max_new_tokens: count_tokens(&part) * 3 + 32,
                amounts: pinned_amounts(&part, &self.target),
                result: copied,
                text: part,
                first: None,
                retry_after_lookups: false,
                sentences: Vec::new(),
                sentences_tried: false,
                fixing: None,
                lookups: 0,
            });
        }
        self.items.push(item);
        if is_paragraph {
            self.paragraphs_total += 1;
        }
    }

    /// Finishes the items that have nothing to wait for (empty, or nothing to translate).
    pub(super) fn finish_ready_items(&mut self) {
        for i in 0..self.items.len() {
            let item = &self.items[i];
            if item.text.is_none() && item.pieces.iter().all(|&q| self.pieces[q].result.is_some()) {
                self.finish_item(i);
            }
        }
    }

    /// Runs every job; the items' texts are then all set.
    pub(super) fn run(
        &mut self,
        llm: &mut dyn Generator,
        parallel: usize,
        cancel: &CancelToken,
    ) -> Result<()> {
        self.finish_ready_items();
        llm.run_jobs(self, parallel, cancel)?;
        if let Some(stuck) = self.items.iter().find(|i| i.text.is_none()) {
            // Cannot happen (the earliest waiting piece is always ready); never return a
            // silently incomplete translation if it does.
            return Err(crate::Error::Inference(format!(
                "the translation stopped before {} was translated",
                stuck.id
            )));
        }
        Ok(())
    }

    pub(super) fn job(&self, id: usize, piece: usize, ask: &Ask) -> crate::llm::Job {
        let p = &self.pieces[piece];
        let system_prompt = |text: &str, amounts: &[(String, String)], strict: bool| {
            vec![
                // Only the entries this text uses: a short list is one a small model follows.
                Message::system(translator_system(
                    self.source_language,
                    &self.target,
                    &terms_to_list(&self.glossary, text),
                    amounts,
                    strict,
                )),
            ]
        };
        let (messages, max_new_tokens) = match ask {
            Ask::Sentence(n) => {
                let sentence = &p.sentences[*n];
                let mut messages = system_prompt(
                    &sentence.text,
                    &pinned_amounts(&sentence.text, &self.target),
                    true,
                );
                // The piece before it and its accepted translation, as an earlier turn: the
                // sentence is translated in its context, and in the same words.
                if let Some((source, translation)) = self.context_before(piece) {
                    messages.push(Message::user(user_message(&self.target, source, false)));
                    messages.push(Message::assistant(translation));
                }
                messages.push(Message::user(user_message(
                    &self.target,
                    &sentence.text,
                    true,
                )));
                (messages, sentence.max_new_tokens)
            }
            Ask::Translate | Ask::Retry => {
                let mut messages = system_prompt(&p.text, &p.amounts, *ask == Ask::Retry);
                messages.push(Message::user(user_message(
                    &self.target,
                    &p.text,
                    *ask == Ask::Retry,
                )));
                (messages, p.max_new_tokens)
            }
            Ask::Word(word) => (word_lookup(&self.target, &p.text, word), 24),
        };
        crate::llm::Job {
            id,
            messages,
            params: GenerationParams {
                max_new_tokens,
                ..Default::default()
            },
        }
    }

    /// The piece before `piece` (the previous paragraph, or the previous part of a long one)
    /// with its accepted translation, when that passed every check (a flawed one would be
    /// imitated: a source-amount note was) and is short enough to serve as context.
    pub(super) fn context_before(&self, piece: usize) -> Option<(&str, &str)> {
        let before = &self.pieces[piece.checked_sub(1)?];
        let settled = before.result.as_ref()?;
        (settled.warnings.is_empty()
            && !settled.untranslated
            && !settled.text.trim().is_empty()
            && before.text.len() <= MAX_CONTEXT_BYTES)
            .then_some((before.text.as_str(), settled.text.as_str()))
    }

    /// Queues the sentence-by-sentence retranslation of a piece that still has problems after
    /// the retry and the word look-ups; false when it was tried before or there is nothing new
    /// to try: a single sentence (which the retry was already) without context to give it.
    pub(super) fn queue_sentences(&mut self, piece: usize) -> bool {
        if std::mem::replace(&mut self.pieces[piece].sentences_tried, true) {
            return false;
        }
        let sentences = crate::document::split_sentences(&self.pieces[piece].text);
        if sentences.len() < 2 && self.context_before(piece).is_none() {
            return false;
        }
        let p = &mut self.pieces[piece];
        let per_byte = p.max_new_tokens as f64 / p.text.len().max(1) as f64;
        p.sentences = sentences
            .into_iter()
            .map(|text| SentenceJob {
                max_new_tokens: (text.len() as f64 * per_byte) as usize + 32,
                // Nothing to translate (a lone symbol): copied.
                done: (!has_words(&text)).then(|| {
                    let copied = Attempt {
                        text: text.trim().to_string(),
                        problems: Vec::new(),
                        logprob: LogProb::default(),
                    };
                    (copied, FinishReason::Stop)
                }),
                text,
            })
            .collect();
        // First in the queue, in order, so the paragraph is not held up behind the others.
        for n in (0..p.sentences.len()).rev() {
            if p.sentences[n].done.is_none() {
                self.queue.push_front((piece, Ask::Sentence(n)));
            }
        }
        true
    }

    /// The piece's sentence translations joined and checked as a whole; `None` when one of
    /// them was left in the source language (joining it would make a hybrid).
    pub(super) fn joined_sentences(&self, piece: usize) -> Option<Attempt> {
        let p = &self.pieces[piece];
        let mut texts = Vec::with_capacity(p.sentences.len());
        let mut finish = FinishReason::Stop;
        let mut logprob = LogProb::default();
        for sentence in &p.sentences {
            let (attempt, sentence_finish) = sentence.done.as_ref()?;
            if has_words(&sentence.text) && attempt.badness(&self.target).0 {
                return None;
            }
            texts.push(attempt.text.as_str());
            logprob = logprob.combined(attempt.logprob);
            if *sentence_finish != FinishReason::Stop {
                finish = *sentence_finish;
            }
        }
        let text = if self.target.is_cjk() {
            // With the words looked up so far, as the text it is compared with has them.
            self.apply_words(&texts.concat())
        } else {
            texts.join(" ")
        };
        let problems = problems(&self.target, &self.glossary, &p.text, &text, finish);
        Some(Attempt {
            text,
            problems,
            logprob,
        })
    }

    /// A piece may start when the pieces before it in its paragraph are finished, and so is
    /// every earlier paragraph that mentions a person it names (as sequential translation
    /// would have it: the name's rendering is then learnt and in this piece's prompt). A
    /// sentence retranslation waits for the piece before it (its context). Word look-ups may
    /// always start.
    pub(super) fn ready(&self, piece: usize, ask: &Ask) -> bool {
        match ask {
            Ask::Word(_) => return true,
            Ask::Sentence(_) => {
                return piece == 0 || self.pieces[piece - 1].result.is_some();
            }
            Ask::Translate | Ask::Retry => {}
        }
        let p = &self.pieces[piece];
        let item = &self.items[p.item];
        let parts_done = item
            .pieces
            .iter()
            .take_while(|&&q| q != piece)
            .all(|&q| self.pieces[q].result.is_some());
        parts_done
            && self.items[..p.item].iter().all(|earlier| {
                earlier.text.is_some() || !earlier.names.iter().any(|n| contains_term(&p.text, n))
            })
    }

    /// Words looked up earlier, put in place of the English left in `text`.
    pub(super) fn apply_words(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (word, rendering) in &self.words {
            if !rendering.is_empty() {
                out = replace_latin_word(&out, word, rendering);
            }
        }
        out
    }

    /// The piece's translation is chosen: look up the English words it still holds (those not
    /// looked up before), or complete it.
    pub(super) fn chosen(&mut self, piece: usize, mut settled: Settled) {
        if !settled.untranslated && self.target.is_cjk() {
            settled.text = self.apply_words(&settled.text);
            let source = &self.pieces[piece].text;
            let mut new: Vec<String> = untranslated_words(source, &settled.text)
                .into_iter()
                .filter(|w| !self.words.contains_key(w))
                .collect();
            if !new.is_empty() && latin_share(&settled.text) <= MOSTLY_LATIN {
                new.truncate(MAX_LOOKUPS);
                new.sort();
                let p = &mut self.pieces[piece];
                p.lookups = new.len();
                p.fixing = Some(settled);
                for word in new.into_iter().rev() {
                    self.queue.push_front((piece, Ask::Word(word)));
                }
                return;
            }
        }
        self.complete(piece, settled);
    }

    pub(super) fn complete(&mut self, piece: usize, mut settled: Settled) {
        if !settled.untranslated && self.target.is_cjk() {
            // The English-word checks again, on the text with the looked-up words in it.
            settled.text = self.apply_words(&settled.text);
            let source = &self.pieces[piece].text;
            settled
                .warnings
                .retain(|w| !matches!(w, Problem::EnglishLeft(_) | Problem::PartsUntranslated));
            settled
                .warnings
                .extend(english_left_in(&self.target, source, &settled.text));
        }
        let p = &mut self.pieces[piece];
        if std::mem::take(&mut p.retry_after_lookups) {
            if settled.warnings.is_empty() {
                p.first = None;
            } else {
                self.queue.push_front((piece, Ask::Retry));
                return;
            }
        }
        // Still failing after the look-ups: sentence by sentence, in context. Done only now,
        // not before the look-ups, which mend most failures for a few tokens each.
        if !settled.warnings.is_empty() && self.queue_sentences(piece) {
            self.pieces[piece].fixing = Some(settled);
            return;
        }
        let note = std::mem::take(&mut settled.note);
        settled.text.push_str(&note);
        let p = &mut self.pieces[piece];
        p.result = Some(settled);
        let item = p.item;
        if self.items[item]
            .pieces
            .iter()
            .all(|&q| self.pieces[q].result.is_some())
        {
            self.finish_item(item);
        }
    }

    pub(super) fn finish_item(&mut self, index: usize) {
        let joiner = if self.target.is_cjk() { "" } else { " " };
        let item = &self.items[index];
        let mut texts = Vec::with_capacity(item.pieces.len());
        let mut warnings = Vec::new();
        let mut untranslated = 0;
        let mut logprob = LogProb::default();
        for &q in &item.pieces {
            let Some(settled) = &self.pieces[q].result else {
                return;
            };
            texts.push(settled.text.clone());
            logprob = logprob.combined(settled.logprob);
            warnings.extend(settled.warnings.iter().cloned());
            untranslated += usize::from(settled.untranslated);
        }
        let text = texts.join(joiner);
        // A paragraph counts as untranslated when none of it was; a part left in the original
        // carries its own warning.
        let untranslated = untranslated > 0 && untranslated == item.pieces.len();
        let earlier = &self.items[..index];
        let finished = FinishedText {
            id: &item.id,
            source: &item.source,
            heading: is_heading(item),
            is_paragraph: item.is_paragraph,
            untranslated,
        };
        let text = finished.present(
            text,
            &warnings,
            &self.target,
            self.convert.as_ref(),
            &mut self.glossary,
            &mut self.explained,
            &|name| {
                earlier
                    .iter()
                    .any(|e| !is_heading(e) && contains_term(&e.source, name))
            },
            &mut *self.sink,
        );
        let is_paragraph = item.is_paragraph;
        self.items[index].text = Some(Settled {
            text,
            warnings,
            untranslated,
            logprob,
            ..Settled::default()
        });
        if is_paragraph {
            self.paragraphs_done += 1;
            self.sink.emit(Event::Progress {
                stage: Stage::Translating,
                done: self.paragraphs_done,
                total: self.paragraphs_total,
                tokens: 0,
            });
        }
    }
}

impl crate::llm::JobSource for DocumentJobs<'_> {
    fn next_job(&mut self) -> Option<crate::llm::Job> {
        let at = (0..self.queue.len()).find(|&i| {
            let (piece, ask) = &self.queue[i];
            self.ready(*piece, ask)
        })?;
        let (piece, ask) = self.queue.remove(at)?;
        let id = self.started.len();
        let job = self.job(id, piece, &ask);
        self.started.push((piece, ask));
        Some(job)
    }

    fn on_text(&mut self, id: usize, text: &str) {
        let (piece, ask) = &self.started[id];
        // Look-ups and sentences (several at once) are not the paragraph's running text.
        if matches!(ask, Ask::Word(_) | Ask::Sentence(_)) {
            return;
        }
        let item = &self.items[self.pieces[*piece].item];
        self.sink.emit(Event::Token {
            stage: self.stage,
            paragraph_id: Some(item.id.clone()),
            text: text.to_string(),
        });
    }

    fn done(&mut self, id: usize, generation: crate::llm::Generation) -> crate::llm::Result<()> {
        let (piece, ask) = self.started[id].clone();
        match ask {
            Ask::Word(word) => {
                let rendering = lookup_answer(&self.target, &generation.text).unwrap_or_default();
                self.words.insert(word, rendering);
                let p = &mut self.pieces[piece];
                p.lookups -= 1;
                if p.lookups == 0 {
                    if let Some(settled) = p.fixing.take() {
                        self.complete(piece, settled);
                    }
                }
            }
            Ask::Translate | Ask::Retry => {
                let mut attempt = Attempt::check(
                    &self.target,
                    &self.glossary,
                    &self.pieces[piece].text,
                    &generation.text,
                    generation.finish,
                );
                attempt.logprob = generation.logprob;
                let p = &mut self.pieces[piece];
                if ask == Ask::Translate && only_english_left(&self.target, &attempt) {
                    // Look-ups mend a word or two for a few tokens each; the retry, a whole
                    // new prompt and answer, mostly repeated the first attempt word for word.
                    p.first = Some(attempt.clone());
                    p.retry_after_lookups = true;
                    let settled = settle(&self.target, &p.text, attempt);
                    self.chosen(piece, settled);
                    return Ok(());
                }
                if ask == Ask::Translate && !attempt.problems.is_empty() {
                    p.first = Some(attempt);
                    // The retry goes first, so the paragraph is not held up behind the others.
                    self.queue.push_front((piece, Ask::Retry));
                    return Ok(());
                }
                let best = match p.first.take() {
                    Some(first) if first.problems.len() < attempt.problems.len() => first,
                    _ => attempt,
                };
                let settled = settle(&self.target, &p.text, best);
                self.chosen(piece, settled);
            }
            Ask::Sentence(n) => {
                let p = &self.pieces[piece];
                let mut attempt = Attempt::check(
                    &self.target,
                    &self.glossary,
                    &p.sentences[n].text,
                    &generation.text,
                    generation.finish,
                );
                attempt.logprob = generation.logprob;
                self.pieces[piece].sentences[n].done = Some((attempt, generation.finish));
                if self.pieces[piece]
                    .sentences
                    .iter()
                    .any(|s| s.done.is_none())
                {
                    return Ok(());
                }
                let joined = self.joined_sentences(piece);
                let p = &mut self.pieces[piece];
                p.sentences.clear();
                let Some(settled) = p.fixing.take() else {
                    return Err(crate::llm::Error::Inference(
                        "a sentence retranslation finished without its paragraph's text".into(),
                    ));
                };
                let current = Attempt {
                    text: settled.text.clone(),
                    problems: settled.warnings.clone(),
                    logprob: settled.logprob,
                };
                // The sentence-by-sentence text only when it is better: translated apart, its
                // sentences read less well together.
                match joined {
                    Some(joined)
                        if joined.badness(&self.target) < current.badness(&self.target) =>
                    {
                        let settled = settle(&self.target, &p.text, joined);
                        self.chosen(piece, settled);
                    }
                    _ => self.complete(piece, settled),
                }
            }
        }
        Ok(())
    }
}
