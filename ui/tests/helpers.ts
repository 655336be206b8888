// A fake Précis backend for tests: @tauri-apps/api/mocks' mockIPC with per-command handlers,
// a log of every call, and helpers to push Channel events.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type { Channel } from '@tauri-apps/api/core';
import type {
  Document,
  HistoryItem,
  ImportSummary,
  Language,
  ModelStatus,
  Outcome,
  ProgressEvent,
  RemoteStatus,
  StoredTerm,
  UserTerm,
} from '../src/lib/types';

export type Handler = (args: Record<string, any>) => unknown;

export interface Call {
  cmd: string;
  args: Record<string, any>;
}

export const LANGUAGES: Language[] = [
  { code: 'zh-Hans', name: 'Chinese (Simplified)', native: '简体中文' },
  { code: 'zh-Hant', name: 'Chinese (Traditional)', native: '繁體中文' },
  { code: 'ja', name: 'Japanese', native: '日本語' },
  { code: 'fr', name: 'French', native: 'Français' },
];

export const MODELS: ModelStatus[] = [
  {
    id: 'qwen2.5-1.5b-instruct',
    name: 'Qwen2.5 1.5B Instruct',
    architecture: 'qwen2',
    purpose: 'assistant',
    tested: true,
    parameters: '1.5B',
    approx_size_mb: 1100,
    license: 'Apache-2.0',
    installed: '/models/qwen2.5-1.5b-instruct-q4_k_m.gguf',
    installed_bytes: 1_117_000_000,
    tile_cache_bytes: 997_000_000,
    sources: ['hub'],
    removable: true,
  },
  {
    id: 'qwen2.5-0.5b-instruct',
    name: 'Qwen2.5 0.5B Instruct',
    architecture: 'qwen2',
    purpose: 'assistant',
    tested: true,
    parameters: '0.5B',
    approx_size_mb: 490,
    license: 'Apache-2.0',
    installed: null,
    installed_bytes: null,
    tile_cache_bytes: null,
    sources: [],
    removable: false,
  },
];

export function makeDocument(title = 'Rain in Spain', n = 3): Document {
  return {
    title,
    subtitle: null,
    dateline: 'MADRID, May 1',
    source_name: `${title}.txt`,
    format: 'text',
    encoding: 'utf-8',
    language: 'en',
    paragraphs: Array.from({ length: n }, (_, i) => ({
      id: `p${i + 1}`,
      text: `Paragraph ${i + 1} of ${title}.`,
      sentences: [{ id: `p${i + 1}.s1`, text: `Paragraph ${i + 1} of ${title}.` }],
    })),
  };
}

export function makeOutcome(doc: Document = makeDocument(), withModel = true): Outcome {
  return {
    document: doc,
    summary: {
      engine: withModel ? 'llm' : 'extractive',
      model: withModel ? 'Qwen2.5 1.5B Instruct' : null,
      language: 'zh-Hans',
      style: 'bullets',
      points: [
        { text: '西班牙下雨了。', source_sentence_ids: ['p2.s1'] },
        { text: '雨主要落在平原。', source_sentence_ids: ['p3.s1', 'p1.s1'] },
      ],
      seconds: 1.5,
    },
    summary_original: {
      engine: withModel ? 'llm' : 'extractive',
      model: withModel ? 'Qwen2.5 1.5B Instruct' : null,
      language: 'en',
      style: 'bullets',
      points: [
        { text: 'It rained in Spain.', source_sentence_ids: ['p2.s1'] },
        { text: 'Mainly on the plain.', source_sentence_ids: ['p3.s1'] },
      ],
      seconds: 1.5,
    },
    translation: withModel
      ? {
          language: 'zh-Hans',
          model: 'Qwen2.5 1.5B Instruct',
          title: '西班牙的雨',
          subtitle: null,
          paragraphs: doc.paragraphs.map((p, i) => ({
            id: p.id,
            source: p.text,
            text: `第${i + 1}段。`,
            warnings: [],
          })),
          glossary: [],
          glossary_unapplied: [],
          seconds: 3,
        }
      : null,
    model: withModel
      ? {
          name: 'Qwen2.5 1.5B Instruct',
          path: '/m.gguf',
          architecture: 'qwen2',
          size_bytes: 1_117_320_736,
          context_length: 32768,
          layers: 28,
          embedding_length: 1536,
        }
      : null,
    stats: null,
  };
}

export const HISTORY: HistoryItem[] = [
  {
    id: 7,
    title: 'Rain in Spain',
    source_name: 'rain.txt',
    target: 'zh-Hans',
    model: 'Qwen2.5 1.5B Instruct',
    created_at: '2025-05-01T10:00:00Z',
    has_translation: true,
  },
  {
    id: 3,
    title: 'Snow in Norway',
    source_name: 'snow.html',
    target: 'fr',
    model: null,
    created_at: '2025-04-01T09:00:00Z',
    has_translation: false,
  },
];

/** A reader's glossary: three zh-Hans entries (one kept as written, one in any case), one fr. */
export const GLOSSARY: StoredTerm[] = [
  { id: 1, language: 'zh-Hans', source: 'Aleppo', target: '阿勒颇', note: 'Syrian city', caseSensitive: true, doNotTranslate: false, updatedAt: '2025-05-01T10:00:00Z' },
  { id: 2, language: 'zh-Hans', source: 'The Economist', target: '', note: 'publication', caseSensitive: true, doNotTranslate: true, updatedAt: '2025-05-01T10:00:00Z' },
  { id: 3, language: 'zh-Hans', source: 'un security council', target: '联合国安理会', note: '', caseSensitive: false, doNotTranslate: false, updatedAt: '2025-05-01T10:00:00Z' },
  { id: 4, language: 'fr', source: 'Aleppo', target: 'Alep', note: '', caseSensitive: true, doNotTranslate: false, updatedAt: '2025-05-01T10:00:00Z' },
];

export interface FakeGlossary {
  /** The stored entries, all languages. */
  terms: StoredTerm[];
  handlers: Record<string, Handler>;
}

const invalid = (message: string) => ({ code: 'glossary_invalid', message });

/** Why an entry cannot be kept, as the backend words it (UserTerm::problem), or null. */
function problem(term: UserTerm): string | null {
  const source = term.source.trim();
  if (!source) return 'the term is empty';
  if (/[\r\n]/.test(term.source + term.target)) {
    return `"${source}": a term and its rendering must fit on one line`;
  }
  if (!term.doNotTranslate && !term.target.trim()) {
    return `"${source}" has no rendering; give one or mark it "do not translate"`;
  }
  return null;
}

function cleaned(term: UserTerm): UserTerm {
  return {
    ...term,
    source: term.source.trim(),
    target: term.doNotTranslate ? '' : term.target.trim(),
    note: term.note.trim(),
  };
}

/**
 * The glossary commands over an in-memory store, refusing what the backend refuses (an empty
 * term or rendering, a term the language already has). `files` are what glossary_import reads:
 * a path's rows as parsed; a path not listed cannot be read.
 */
export function glossaryBackend(
  initial: StoredTerm[] = GLOSSARY,
  files: Record<string, UserTerm[]> = {},
): FakeGlossary {
  const terms = initial.map((t) => ({ ...t }));
  let nextId = Math.max(0, ...terms.map((t) => t.id)) + 1;
  const now = '2025-06-01T12:00:00Z';
  const byTerm = (a: StoredTerm, b: StoredTerm) => {
    const [x, y] = [a.source.toLowerCase(), b.source.toLowerCase()];
    return x < y ? -1 : x > y ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
  };
  const handlers: Record<string, Handler> = {
    glossary_list: ({ language }) =>
      terms.filter((t) => t.language === language).sort(byTerm).map((t) => ({ ...t })),
    glossary_save: ({ id, language, term }) => {
      const why = problem(term);
      if (why) throw invalid(why);
      const clean = cleaned(term);
      if (terms.some((t) => t.language === language && t.source === clean.source && t.id !== id)) {
        throw invalid(`"${clean.source}" is already in your ${language} glossary; edit that entry instead`);
      }
      if (id == null) {
        const stored: StoredTerm = { id: nextId++, language, ...clean, updatedAt: now };
        terms.push(stored);
        return { ...stored };
      }
      const i = terms.findIndex((t) => t.id === id);
      if (i < 0) {
        throw { code: 'glossary_entry_not_found', message: `glossary entry ${id} does not exist (it may have been deleted)` };
      }
      terms[i] = { id, language, ...clean, updatedAt: now };
      return { ...terms[i] };
    },
    glossary_delete: ({ id }) => {
      const i = terms.findIndex((t) => t.id === id);
      if (i < 0) {
        throw { code: 'glossary_entry_not_found', message: `glossary entry ${id} does not exist (it may have been deleted)` };
      }
      terms.splice(i, 1);
      return null;
    },
    glossary_import: ({ language, path }) => {
      const rows = files[path];
      if (!rows) throw { code: 'read_failed', message: `Could not read ${path}: no such file` };
      const summary: ImportSummary = { added: 0, replaced: 0, skipped: [] };
      for (const row of rows) {
        const why = problem(row);
        if (why) {
          summary.skipped.push(why);
          continue;
        }
        const clean = cleaned(row);
        const existing = terms.find((t) => t.language === language && t.source === clean.source);
        if (existing) {
          Object.assign(existing, clean, { updatedAt: now });
          summary.replaced++;
        } else {
          terms.push({ id: nextId++, language, ...clean, updatedAt: now });
          summary.added++;
        }
      }
      return summary;
    },
    glossary_export: ({ path }) => path,
  };
  return { terms, handlers };
}

/** The remote engine as a fresh install has it: off, nothing entered, no key. */
export const REMOTE_OFF: RemoteStatus = {
  setup: { enabled: false, settings: null },
  keyStored: false,
  keyInKeyring: false,
  keyFromEnvironment: false,
};

/** The store plugin's commands (as invoked by @tauri-apps/plugin-store's dist code). */
export function storeHandlers(data: Record<string, unknown> = {}): Record<string, Handler> {
  return {
    'plugin:store|load': () => 42,
    'plugin:store|get': ({ key }) => [data[key] ?? null, key in data],
    'plugin:store|set': ({ key, value }) => {
      data[key] = value;
      return null;
    },
    'plugin:store|save': () => null,
  };
}

export function defaultHandlers(): Record<string, Handler> {
  return {
    languages: () => LANGUAGES,
    list_models: () => MODELS,
    history_list: () => HISTORY,
    take_opened_files: () => [],
    remote_status_get: () => REMOTE_OFF,
    ...storeHandlers(),
  };
}

export interface Backend {
  calls: Call[];
  handlers: Record<string, Handler>;
  /** Calls of one command, in order. */
  of(cmd: string): Call[];
}

/**
 * Installs mockIPC with `handlers` over the defaults. A handler may throw or return a rejected
 * promise to make the command reject (use {code, message} objects like the backend).
 */
export function installBackend(
  handlers: Record<string, Handler> = {},
  opts: { windows?: boolean } = {},
): Backend {
  const all = { ...defaultHandlers(), ...handlers };
  const calls: Call[] = [];
  if (opts.windows) mockWindows('main');
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, any>;
      calls.push({ cmd, args });
      const h = all[cmd];
      if (!h) return Promise.reject({ code: 'unknown', message: `no mock for ${cmd}` });
      try {
        return h(args);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    { shouldMockEvents: true },
  );
  return { calls, handlers: all, of: (cmd) => calls.filter((c) => c.cmd === cmd) };
}

/** Delivers events through a Channel the way the Tauri runtime does (indexed messages). */
export function sendEvents(channel: Channel<ProgressEvent>, events: ProgressEvent[]): void {
  const internals = (window as any).__TAURI_INTERNALS__;
  const start = ((channel as any).__sent ?? 0) as number;
  events.forEach((message, i) => internals.runCallback(channel.id, { index: start + i, message }));
  (channel as any).__sent = start + events.length;
}

/** A promise plus its resolve/reject, for commands the test finishes by hand. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
