// Generated from the Rust types by src-tauri/src/bindings.rs; do not edit.
// After changing a type: PRECIS_WRITE_BINDINGS=1 cargo test --workspace bindings

export type ErrorCode = "read_failed" | "empty_file" | "file_too_large" | "not_a_file" | "binary_file" | "unsupported_format" | "undecodable_text" | "no_text" | "corrupt_document" | "archive_limit" | "no_such_chapter" | "no_text_layer" | "ocr_failed" | "encrypted_document" | "document_limit" | "model_missing" | "model_not_installed" | "no_model_installed" | "unknown_model" | "model_invalid" | "checksum_mismatch" | "download_failed" | "inference_failed" | "engine_unavailable" | "remote_unreachable" | "remote_unauthorized" | "remote_model_not_found" | "remote_context_too_long" | "remote_failed" | "remote_bad_response" | "unsupported_language" | "glossary_invalid" | "revision_invalid" | "cancelled" | "export_failed" | "font_missing" | "write_failed" | "io_error" | "history_unavailable" | "history_too_new" | "history_not_found" | "glossary_entry_not_found" | "history_failed" | "nothing_to_restore" | "busy" | "internal";

export type ErrorInfo = { code: ErrorCode, message: string, };

export type Language = { 
/**
 * Canonical BCP 47 code, e.g. `zh-Hans`.
 */
code: string, 
/**
 * English name, used in prompts.
 */
name: string, 
/**
 * The language's own name, for menus.
 */
native: string, };

export type Purpose = "assistant" | "translation" | "test";

export type ModelStatus = { id: string, name: string, 
/**
 * `general.architecture` (empty for an imported file whose header was not read).
 */
architecture: string, purpose: Purpose, tested: boolean, parameters: string, approx_size_mb: number, license: string, installed: string | null, 
/**
 * Size of the installed file.
 */
installed_bytes: number | null, sources: Array<string>, 
/**
 * Disk taken by its tiled weights and computed prompt starts, cached to make the next start
 * fast ([`tile_cache_path`], [`prompt_store`]); removed with the model.
 */
tile_cache_bytes: number | null, 
/**
 * Whether [`remove`] can delete it: files Précis put in [`models_dir`] (mirror downloads
 * and imports); the Hugging Face cache is shared with other tools and left alone.
 */
removable: boolean, };

export type SourceFormat = "text" | "markdown" | "html" | "docx" | "odt" | "epub" | "pdf" | "rtf" | "image";

export type Sentence = { 
/**
 * `"p{paragraph}.s{sentence}"`, 1-based, e.g. `"p1.s1"`.
 */
id: string, text: string, };

export type Paragraph = { 
/**
 * `"p1"`, `"p2"`, … in document order.
 */
id: string, text: string, sentences: Array<Sentence>, };

export type Document = { 
/**
 * Headline (`""` if none was found).
 */
title: string, 
/**
 * Subhead / standfirst.
 */
subtitle: string | null, 
/**
 * Publication line, byline or date, e.g. `"Global Times - Weekend"`.
 */
dateline: string | null, 
/**
 * File name the text came from.
 */
source_name: string, format: SourceFormat, 
/**
 * Encoding the bytes were decoded from, e.g. `"UTF-8"`, `"windows-1252"`.
 */
encoding: string, 
/**
 * ISO 639-1 code detected from the body (`"en"`), `"und"` if unknown.
 */
language: string, 
/**
 * Body paragraphs only (title, subtitle and dateline are not included).
 */
paragraphs: Array<Paragraph>, 
/**
 * Author(s), from document metadata (HTML meta/JSON-LD, PDF, DOCX, ODT, EPUB, RTF).
 */
byline?: string, 
/**
 * Publication date as the metadata gives it (ISO 8601 `2024-01-31` where known).
 */
published?: string, 
/**
 * Site or publisher name (HTML metadata).
 */
site_name?: string, 
/**
 * Lines of a text page that were not taken as the article (menus, related headlines,
 * comments, footers), in page order, so the reader can see them and put one back.
 */
left_out?: Array<LeftOut>, 
/**
 * The text was recognised in page images (a scan or a picture) by OCR, so it may hold
 * misread characters.
 */
from_ocr?: boolean, };

export type LeftOut = { 
/**
 * Its place among the page's lines (0-based), which orders restored lines.
 */
line: number, text: string, 
/**
 * Whether it stood before the article (else after it).
 */
before_article: boolean, 
/**
 * Whether the reader put it back as a paragraph.
 */
restored: boolean, };

export type Input = { "kind": "file", path: string, } | { "kind": "text", text: string, } | { "kind": "document", document: Document, 
/**
 * The file it was read from, for the history; `None` for pasted text.
 */
source_path: string | null, };

export type Length = "short" | "medium" | "long";

export type Style = "prose" | "bullets";

export type SummaryEngine = "extractive" | "llm";

export type ProcessOptions = { 
/**
 * The language code of the translation (and of the summary, with `summary_in_target`).
 */
target: string, length: Length, style: Style, 
/**
 * `None`: the LLM when a model is installed, else extractive ([`SummaryEngine::choose`]).
 */
engine: SummaryEngine | null, translate: boolean, summaryInTarget: boolean, 
/**
 * Catalog id, `imported:<file>` or a path; `None` picks the first installed model.
 */
model: string | null, 
/**
 * A dedicated translation model (catalog id or Marian folder) for the article and summary
 * translation; `None`: the LLM translates.
 */
translationModel: string | null, };

export type Stage = "reading" | "loading_model" | "summarizing" | "glossary" | "translating" | "translating_summary" | "downloading" | "verifying";

export type ProgressEvent = { "event": "stage", stage: Stage, detail: string, } | { "event": "progress", stage: Stage, done: number, total: number, 
/**
 * Tokens generated so far in this stage (0 where not applicable).
 */
tokens: number, } | { "event": "token", stage: Stage, paragraph_id: string | null, text: string, } | { "event": "paragraph_done", paragraph_id: string, text: string, } | { "event": "warning", paragraph_id: string | null, message: string, };

export type SummaryPoint = { text: string, source_sentence_ids: Array<string>, };

export type Summary = { engine: SummaryEngine, model: string | null, 
/**
 * Language code of `points`.
 */
language: string, style: Style, points: Array<SummaryPoint>, seconds: number, 
/**
 * The model that translated this summary from the article's language, when one did.
 */
translated_by?: string, };

export type TermOrigin = "term_base" | "carried" | "rendered" | "user" | "remembered";

export type GlossaryEntry = { source: string, target: string, origin: TermOrigin, };

export type Problem = { "kind": "name_inconsistent", "detail": { name: string, rendering: string, } } | { "kind": "amount_changed", "detail": { amount: string, } } | { "kind": "invented_numbers", "detail": Array<string> } | { "kind": "empty" } | { "kind": "echoed_instructions" } | { "kind": "too_short" } | { "kind": "parts_untranslated" } | { "kind": "english_left", "detail": Array<string> } | { "kind": "cut_off" } | { "kind": "repeating" } | { "kind": "not_translated" };

export type TranslatedParagraph = { 
/**
 * The source paragraph's id (1:1 mapping).
 */
id: string, source: string, text: string, warnings?: Array<string>, 
/**
 * The same warnings, typed: what the window shades a doubtful paragraph by. (Absent in
 * results stored before it existed; their `warnings` still say it.)
 */
problems?: Array<Problem>, 
/**
 * `text` is the reader's own (see [`crate::revise::edit_paragraph`]).
 */
edited?: boolean, 
/**
 * The model's mean log-probability per token of the text it wrote (≤ 0; closer to 0 is
 * surer); absent for text it did not write (copied, untranslated, edited) and in results
 * stored before it existed. Below [`LOW_CONFIDENCE`] the paragraph is doubtful.
 */
confidence?: number, 
/**
 * The model did not translate this paragraph even when retried: `text` is the source as
 * it is, never a half-translated mixture, and the window and exports mark it so.
 */
untranslated?: boolean, };

export type Translation = { language: string, model: string, title: string, subtitle: string | null, paragraphs: Array<TranslatedParagraph>, glossary: Array<GlossaryEntry>, 
/**
 * The reader's glossary terms the article uses whose rendering is nowhere in the
 * translation (the model worded them differently and enforcement could not replace them).
 */
glossary_unapplied: Array<string>, seconds: number, };

export type ModelInfo = { name: string, path: string, architecture: string, size_bytes: number, context_length: number, layers: number, embedding_length: number, };

export type Stats = { 
/**
 * Prompt tokens processed (cached prefixes excluded).
 */
prompt_tokens: number, 
/**
 * Prompt tokens served from the cache of a previous turn.
 */
reused_tokens: number, generated_tokens: number, prefill_secs: number, decode_secs: number, 
/**
 * Tokens guessed by prompt lookup ([`speculative`]) and checked by the model.
 */
draft_tokens: number, 
/**
 * Of those, the ones the model agreed with (each a decoding step saved).
 */
accepted_draft_tokens: number, };

export type Outcome = { document: Document, 
/**
 * The summary in the requested language.
 */
summary: Summary | null, 
/**
 * The summary in the article's language, when `summary` is a translation of it.
 */
summary_original: Summary | null, translation: Translation | null, model: ModelInfo | null, 
/**
 * Model work for this article: tokens and time in prefill and decode.
 */
stats: Stats | null, };

export type ProcessResult = { 
/**
 * The history row the result was stored in; `None` if storing it failed (a warning
 * event says why; the result itself is still returned).
 */
history_id: number | null, outcome: Outcome, };

export type FolderArticles = { articles: Array<string>, 
/**
 * Entries that could not be listed, each "path: reason".
 */
problems: Array<string>, };

export type HistoryItem = { id: number, title: string, source_name: string, target: string, model: string | null, 
/**
 * RFC 3339, UTC.
 */
created_at: string, has_translation: boolean, };

export type HistoryEntry = { id: number, created_at: string, source_path: string | null, 
/**
 * The options the article was processed with.
 */
options: ProcessOptions, outcome: Outcome, total_secs: number, };

export type ExportFormat = "md" | "txt" | "html" | "json" | "docx" | "pdf";

export type UserTerm = { 
/**
 * The term as it appears in articles.
 */
source: string, 
/**
 * The rendering the reader wants; ignored when `do_not_translate`.
 */
target: string, 
/**
 * The reader's own note (where the term comes from, when it applies); never sent to a model.
 */
note: string, 
/**
 * Whether "US" must not match "us". Letters A–Z only; other letters always match exactly.
 */
caseSensitive: boolean, 
/**
 * Keep the term as written (a brand, a publication's name).
 */
doNotTranslate: boolean, };

export type StoredTerm = { id: number, 
/**
 * The target language's code (`zh-Hans`, `de`, …).
 */
language: string, 
/**
 * RFC 3339, UTC.
 */
updatedAt: string, 
/**
 * The term as it appears in articles.
 */
source: string, 
/**
 * The rendering the reader wants; ignored when `do_not_translate`.
 */
target: string, 
/**
 * The reader's own note (where the term comes from, when it applies); never sent to a model.
 */
note: string, 
/**
 * Whether "US" must not match "us". Letters A–Z only; other letters always match exactly.
 */
caseSensitive: boolean, 
/**
 * Keep the term as written (a brand, a publication's name).
 */
doNotTranslate: boolean, };

export type ImportSummary = { 
/**
 * Terms the glossary did not have.
 */
added: number, 
/**
 * Terms whose entry the file's replaced.
 */
replaced: number, 
/**
 * Rows that could not be kept, each with the reason.
 */
skipped: Array<string>, };

export type RemoteSettings = { 
/**
 * The API's base address, e.g. `http://127.0.0.1:8080/v1`.
 */
endpoint: string, 
/**
 * The model name the server knows.
 */
model: string, maxConcurrent: number, timeoutSecs: number, contextLength: number, };

export type RemoteSetup = { 
/**
 * Jobs run on the remote engine (else on the local model).
 */
enabled: boolean, 
/**
 * The last settings entered, kept while the engine is off.
 */
settings: RemoteSettings | null, };

export type RemoteStatus = { setup: RemoteSetup, 
/**
 * A key is stored (Settings).
 */
keyStored: boolean, 
/**
 * It is in the OS keyring (else in a file only the user can read).
 */
keyInKeyring: boolean, 
/**
 * A key comes from `PRECIS_REMOTE_API_KEY` (it wins over the stored one).
 */
keyFromEnvironment: boolean, };

export type RemoteProbe = { model: string, seconds: number, };

export const EXPORT_FORMATS = ['md', 'txt', 'html', 'json', 'docx', 'pdf'] as const;

/** Below this mean log-probability per token a translated paragraph is doubtful. */
export const LOW_CONFIDENCE = -1.0;

/** Every file extension read as an article (the file dialog offers these). */
export const ARTICLE_EXTENSIONS = ['txt', 'text', 'md', 'markdown', 'mdown', 'mkd', 'html', 'htm', 'xhtml', 'docx', 'odt', 'epub', 'pdf', 'png', 'jpg', 'jpeg', 'tif', 'tiff', 'webp', 'rtf'];
