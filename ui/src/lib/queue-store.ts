// The job queue kept between runs, with @tauri-apps/plugin-store under the key 'queue' in
// queue.json (a file of its own: it is written on every change, settings.json rarely). Loading
// gives nothing when the store is unavailable (plain browser, tests without it, unreadable
// file) and drops what this version does not understand, item by item.
import { load, type Store } from '@tauri-apps/plugin-store';
import type { SettingsBackend } from './settings';
import type { JobState, SavedItem, SavedQueue } from './queue';
import type { Input } from './types';

export const QUEUE_STORE_FILE = 'queue.json';
export const QUEUE_STORE_KEY = 'queue';

/**
 * An input whose JSON is longer than this is not saved. Only an article already read (a document:
 * a line restored into a text page is run again as one) or a very long paste gets near it: a
 * long PDF's text can run to megabytes, and the queue is written on every change. The file of a
 * document, if it had one, can be dropped again.
 */
export const MAX_SAVED_INPUT_CHARS = 1_000_000;

const STATES: readonly JobState[] = ['waiting', 'running', 'done', 'failed', 'cancelled'];

function isInput(raw: unknown): raw is Input {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r !== 'object') return false;
  if (r.kind === 'file') return typeof r.path === 'string' && r.path !== '';
  if (r.kind === 'text') return typeof r.text === 'string';
  if (r.kind === 'document') {
    const d = r.document as Record<string, unknown> | null;
    return (
      !!d &&
      typeof d === 'object' &&
      typeof d.title === 'string' &&
      typeof d.source_name === 'string' &&
      Array.isArray(d.paragraphs) &&
      (r.source_path === null || typeof r.source_path === 'string')
    );
  }
  return false;
}

/** Keeps the valid items of a stored value; an empty, unpaused queue for anything else. */
export function sanitizeSavedQueue(raw: unknown): SavedQueue<Input> {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const items: SavedItem<Input>[] = [];
  for (const entry of Array.isArray(r.items) ? r.items : []) {
    const e = entry as Record<string, unknown> | null;
    if (!e || !isInput(e.input) || !STATES.includes(e.state as JobState)) continue;
    items.push({
      input: e.input,
      state: e.state as JobState,
      error: typeof e.error === 'string' ? e.error : null,
      historyId: typeof e.historyId === 'number' && Number.isInteger(e.historyId) ? e.historyId : null,
    });
  }
  return { paused: r.paused === true, items };
}

/** The queue as it is saved: inputs too large to save (MAX_SAVED_INPUT_CHARS) left out. */
export function savableQueue(queue: SavedQueue<Input>): SavedQueue<Input> {
  return {
    paused: queue.paused,
    items: queue.items.filter(
      (item) =>
        item.input.kind === 'file' || JSON.stringify(item.input).length <= MAX_SAVED_INPUT_CHARS,
    ),
  };
}

let storePromise: Promise<Store> | null = null;

function pluginStore(): Promise<Store> {
  if (!storePromise) {
    storePromise = load(QUEUE_STORE_FILE, { defaults: {}, autoSave: false });
    // A failed load is retried next time rather than cached.
    storePromise.catch(() => {
      storePromise = null;
    });
  }
  return storePromise;
}

/** Forgets the cached store handle (tests mock a fresh backend each time). */
export function resetQueueStore(): void {
  storePromise = null;
}

/** The saved queue; an empty one when there is none or the store cannot be read. */
export async function loadQueue(backend?: SettingsBackend): Promise<SavedQueue<Input>> {
  try {
    const store = backend ?? (await pluginStore());
    return sanitizeSavedQueue(await store.get<unknown>(QUEUE_STORE_KEY));
  } catch {
    return { paused: false, items: [] };
  }
}

/** Saves; a queue that cannot be kept is not worth an error banner, so failures are returned. */
export async function saveQueue(
  queue: SavedQueue<Input>,
  backend?: SettingsBackend,
): Promise<boolean> {
  try {
    const store = backend ?? (await pluginStore());
    await store.set(QUEUE_STORE_KEY, savableQueue(queue));
    await store.save();
    return true;
  } catch {
    return false;
  }
}
