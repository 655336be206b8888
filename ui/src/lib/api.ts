// Typed wrappers over the Tauri commands and the dialog plugin. Every command rejects with an
// ErrorInfo {code, message}; `toErrorInfo` turns anything thrown into one.
import { invoke, Channel } from '@tauri-apps/api/core';
import { open, save } from '@tauri-apps/plugin-dialog';
import type {
  Document,
  ErrorInfo,
  ExportFormat,
  FolderArticles,
  HistoryEntry,
  HistoryItem,
  Input,
  Language,
  ModelStatus,
  ProcessOptions,
  ErrorCode,
  ImportSummary,
  ProcessResult,
  ProgressEvent,
  RemoteProbe,
  RemoteSettings,
  RemoteSetup,
  RemoteStatus,
  StoredTerm,
  UserTerm,
} from './types';
import { ARTICLE_EXTENSIONS } from './types';

/** Normalises a rejection (ErrorInfo from the backend, an Error, a string) into ErrorInfo. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.message === 'string') {
      // A code from the backend is one of ErrorCode's (generated from Rust).
      const code = typeof e.code === 'string' ? (e.code as ErrorCode) : 'internal';
      return { code, message: e.message };
    }
  }
  if (typeof err === 'string' && err) return { code: 'internal', message: err };
  return { code: 'internal', message: String(err) };
}

export function isCancelled(err: unknown): boolean {
  return toErrorInfo(err).code === 'cancelled';
}

/** True inside the Tauri window (or under @tauri-apps/api/mocks). */
export function inTauri(): boolean {
  const internals =
    typeof window !== 'undefined'
      ? (window as unknown as { __TAURI_INTERNALS__?: { invoke?: unknown } }).__TAURI_INTERNALS__
      : undefined;
  return typeof internals?.invoke === 'function';
}

export const languages = () => invoke<Language[]>('languages');

/** Files handed to the app from outside (its command line, "Open with", a second launch), once. */
export const takeOpenedFiles = () => invoke<string[]>('take_opened_files');

/** Emitted when a second launch handed files over (then call takeOpenedFiles). */
export const OPENED_FILES_EVENT = 'opened-files';

export const listModels = () => invoke<ModelStatus[]>('list_models');

/**
 * Reads an article file; a scan or a picture goes through OCR, its pages reported on `onEvent`
 * (stopped by `cancel`).
 */
export function readArticle(
  path: string,
  onEvent: (event: ProgressEvent) => void = () => {},
): Promise<Document> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onEvent;
  return invoke<Document>('read_article', { path, onEvent: channel });
}

/**
 * A folder's article files (recursively, sorted) and the entries that could not be listed; a
 * path that is not a folder comes back as itself. Rejects when the folder holds no articles.
 */
export const articlesInFolder = (path: string) =>
  invoke<FolderArticles>('articles_in_folder', { path });

/** True for a path with an extension the reader reads (any case); a folder usually has none. */
export function isArticlePath(path: string): boolean {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 && ARTICLE_EXTENSIONS.includes(name.slice(dot + 1).toLowerCase());
}

export const readPasted = (text: string) => invoke<Document>('read_pasted', { text });

/** The document with left-out line `index` put back as a paragraph. */
export const restoreLeftOut = (document: Document, index: number) =>
  invoke<Document>('restore_left_out', { document, index });

export function processArticle(
  input: Input,
  options: ProcessOptions,
  onEvent: (event: ProgressEvent) => void,
): Promise<ProcessResult> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onEvent;
  return invoke<ProcessResult>('process_article', { input, options, onEvent: channel });
}

export const cancel = () => invoke<void>('cancel');

// ---- revising a stored result's translation ----------------------------------------------

/** Puts the reader's `text` in place of a paragraph's translation (marked as edited); stores it. */
export const editParagraph = (historyId: number, paragraphId: string, text: string) =>
  invoke<ProcessResult>('edit_paragraph', { historyId, paragraphId, text });

/**
 * Translates paragraphs of a stored result again, sentence by sentence, streaming progress like
 * processArticle (cancelled by `cancel`); `paragraphIds` null: every doubtful paragraph.
 */
export function retranslateParagraphs(
  historyId: number,
  paragraphIds: string[] | null,
  options: ProcessOptions,
  onEvent: (event: ProgressEvent) => void,
): Promise<ProcessResult> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onEvent;
  return invoke<ProcessResult>('retranslate_paragraphs', {
    historyId,
    paragraphIds,
    options,
    onEvent: channel,
  });
}

export const historyList = (query: string | null) =>
  invoke<HistoryItem[]>('history_list', { query });

export const historyGet = (id: number) => invoke<HistoryEntry>('history_get', { id });

export const historyDelete = (id: number) => invoke<null>('history_delete', { id });

export const exportResult = (
  id: number,
  format: ExportFormat,
  path: string,
  includeTranslation: boolean,
) => invoke<string>('export_result', { id, format, path, includeTranslation });

export function modelDownload(
  id: string,
  onEvent: (event: ProgressEvent) => void,
): Promise<unknown> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onEvent;
  return invoke('model_download', { id, onEvent: channel });
}

export const modelImport = (path: string) => invoke<ModelStatus>('model_import', { path });

export const modelRemove = (id: string) => invoke<unknown>('model_remove', { id });

// ---- the reader's glossary, per target language ----------------------------------------

/** The language's entries, sorted by term. */
export const glossaryList = (language: string) =>
  invoke<StoredTerm[]>('glossary_list', { language });

/** Adds an entry (`id` null) or changes entry `id`; returns it as stored. */
export const glossarySave = (id: number | null, language: string, term: UserTerm) =>
  invoke<StoredTerm>('glossary_save', { id, language, term });

export const glossaryDelete = (id: number) => invoke<null>('glossary_delete', { id });

/** Adds a CSV/TSV file's entries, each replacing the glossary's for the same term. */
export const glossaryImport = (language: string, path: string) =>
  invoke<ImportSummary>('glossary_import', { language, path });

/** Writes the language's glossary as CSV to `path`; returns the path written. */
export const glossaryExport = (language: string, path: string) =>
  invoke<string>('glossary_export', { language, path });

// ---- the remote engine (an OpenAI-compatible server in place of the local model) ----------

/** The remote engine's saved set-up and whether a key is stored or set in the environment. */
export const remoteStatusGet = () => invoke<RemoteStatus>('remote_status_get');

/** Saves the set-up; turning it on is refused (remote_unreachable, …) for settings that cannot work. */
export const remoteSetupSave = (setup: RemoteSetup) =>
  invoke<RemoteStatus>('remote_setup_save', { setup });

/** Stores the API key (an empty one removes it); the key itself never comes back. */
export const remoteKeySave = (key: string) => invoke<RemoteStatus>('remote_key_save', { key });

/**
 * Asks the server for a one-token answer with `settings` and the stored key; may take up to the
 * timeout. `cancel` stops it (with a `cancelled` error).
 */
export const remoteTest = (settings: RemoteSettings) =>
  invoke<RemoteProbe>('remote_test', { settings });

/** The dialog plugin returns one path, several, or null when the user closes the dialog. */
function paths(picked: string | string[] | null): string[] {
  if (picked == null) return [];
  return Array.isArray(picked) ? picked : [picked];
}

export async function pickArticles(): Promise<string[]> {
  return paths(
    await open({
      multiple: true,
      filters: [{ name: 'Articles', extensions: ARTICLE_EXTENSIONS }],
    }),
  );
}

export async function pickGguf(): Promise<string | null> {
  return (
    paths(
      await open({
        multiple: false,
        filters: [{ name: 'GGUF model', extensions: ['gguf'] }],
      }),
    )[0] ?? null
  );
}

/** Extensions offered for a glossary file (the backend reads the delimiter from the file). */
export const GLOSSARY_EXTENSIONS = ['csv', 'tsv', 'txt'];

export async function pickGlossaryFile(): Promise<string | null> {
  return (
    paths(
      await open({
        multiple: false,
        filters: [{ name: 'Glossary (CSV, TSV)', extensions: GLOSSARY_EXTENSIONS }],
      }),
    )[0] ?? null
  );
}

export async function pickGlossaryExportPath(language: string): Promise<string | null> {
  const picked = await save({
    defaultPath: `glossary-${language}.csv`,
    filters: [{ name: 'CSV', extensions: ['csv'] }],
  });
  return picked ?? null;
}

const FORMAT_NAMES: Record<ExportFormat, string> = {
  md: 'Markdown',
  txt: 'Plain text',
  html: 'HTML',
  json: 'JSON',
  docx: 'Word document',
  pdf: 'PDF',
};

export function formatName(format: ExportFormat): string {
  return FORMAT_NAMES[format];
}

/** The last component of a path (either separator). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** A file name made from an article title: no path separators or reserved characters. */
export function fileStem(title: string): string {
  const stem = title
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '')
    .slice(0, 100)
    .trim();
  return stem || 'precis';
}

export async function pickExportPath(title: string, format: ExportFormat): Promise<string | null> {
  const picked = await save({
    defaultPath: `${fileStem(title)}.${format}`,
    filters: [{ name: FORMAT_NAMES[format], extensions: [format] }],
  });
  return picked ?? null;
}
