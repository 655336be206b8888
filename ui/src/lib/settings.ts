// User settings, persisted with @tauri-apps/plugin-store under the key 'settings' in
// settings.json. Loading falls back to the defaults when the store is unavailable (plain
// browser, missing permission, unreadable file) or holds values this version does not know.
import { load, type Store } from '@tauri-apps/plugin-store';
import type { ExportFormat, Length, ProcessOptions, Style, SummaryEngine } from './types';
import { EXPORT_FORMATS } from './types';

export interface Settings {
  target: string;
  length: Length;
  style: Style;
  engine: 'auto' | SummaryEngine;
  /** Model id; '' = the default model. */
  model: string;
  /** Translation model id; '' = the LLM translates. */
  translationModel: string;
  translate: boolean;
  /** Show the summary in English rather than the target language. */
  summaryEnglish: boolean;
  includeTranslation: boolean;
  exportFormat: ExportFormat;
  /** The panes' text size in percent (Ctrl+= / Ctrl+- / Ctrl+0). */
  textSize: number;
  /** How the panes are laid out (Ctrl+1 / Ctrl+2 / Ctrl+3). */
  layout: Layout;
}

/**
 * 'three': original, summary and translation side by side; 'translation': the translation
 * alone; 'bilingual': each original paragraph followed by its translation, beside the summary.
 */
export type Layout = 'three' | 'translation' | 'bilingual';

export const LAYOUTS: readonly Layout[] = ['three', 'translation', 'bilingual'];

export const TEXT_SIZES = { min: 70, max: 200, step: 10, default: 100 } as const;

/** `size` moved by `steps` of TEXT_SIZES.step, kept within the limits. */
export function stepTextSize(size: number, steps: number): number {
  const next = Math.round(size / TEXT_SIZES.step + steps) * TEXT_SIZES.step;
  return Math.min(TEXT_SIZES.max, Math.max(TEXT_SIZES.min, next));
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  target: 'zh-Hans',
  length: 'medium',
  style: 'prose',
  engine: 'auto',
  model: '',
  translationModel: '',
  translate: true,
  summaryEnglish: false,
  includeTranslation: true,
  exportFormat: 'md',
  textSize: TEXT_SIZES.default,
  layout: 'three',
});

export const STORE_FILE = 'settings.json';
export const STORE_KEY = 'settings';

const LENGTHS: readonly Length[] = ['short', 'medium', 'long'];
const STYLES: readonly Style[] = ['prose', 'bullets'];
const ENGINES: readonly Settings['engine'][] = ['auto', 'llm', 'extractive'];

function oneOf<T>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** Keeps the known, valid fields of a stored value; defaults for the rest. */
export function sanitizeSettings(raw: unknown): Settings {
  const d = DEFAULT_SETTINGS;
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  return {
    target: typeof r.target === 'string' && r.target ? r.target : d.target,
    length: oneOf(r.length, LENGTHS, d.length),
    style: oneOf(r.style, STYLES, d.style),
    engine: oneOf(r.engine, ENGINES, d.engine),
    model: typeof r.model === 'string' ? r.model : d.model,
    translationModel:
      typeof r.translationModel === 'string' ? r.translationModel : d.translationModel,
    translate: typeof r.translate === 'boolean' ? r.translate : d.translate,
    summaryEnglish: typeof r.summaryEnglish === 'boolean' ? r.summaryEnglish : d.summaryEnglish,
    includeTranslation:
      typeof r.includeTranslation === 'boolean' ? r.includeTranslation : d.includeTranslation,
    exportFormat: oneOf(r.exportFormat, EXPORT_FORMATS, d.exportFormat),
    textSize:
      typeof r.textSize === 'number' && Number.isFinite(r.textSize)
        ? stepTextSize(r.textSize, 0)
        : d.textSize,
    layout: oneOf(r.layout, LAYOUTS, d.layout),
  };
}

/** The options process_article gets for these settings. */
export function processOptions(s: Settings): ProcessOptions {
  return {
    target: s.target,
    length: s.length,
    style: s.style,
    engine: s.engine === 'auto' ? null : s.engine,
    translate: s.translate,
    summaryInTarget: true,
    model: s.model || null,
    translationModel: s.translationModel || null,
  };
}

/** Where settings are kept; the plugin store in the app, anything with get/set/save in tests. */
export interface SettingsBackend {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  save(): Promise<void>;
}

let storePromise: Promise<Store> | null = null;

function pluginStore(): Promise<Store> {
  if (!storePromise) {
    storePromise = load(STORE_FILE, { defaults: {}, autoSave: false });
    // A failed load is retried next time rather than cached.
    storePromise.catch(() => {
      storePromise = null;
    });
  }
  return storePromise;
}

/** Forgets the cached store handle (tests mock a fresh backend each time). */
export function resetSettingsStore(): void {
  storePromise = null;
}

export async function loadSettings(backend?: SettingsBackend): Promise<Settings> {
  try {
    const store = backend ?? (await pluginStore());
    return sanitizeSettings(await store.get<unknown>(STORE_KEY));
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

/** Saves; a store that cannot be written is not worth an error banner, so failures are returned. */
export async function saveSettings(
  settings: Settings,
  backend?: SettingsBackend,
): Promise<boolean> {
  try {
    const store = backend ?? (await pluginStore());
    await store.set(STORE_KEY, { ...settings });
    await store.save();
    return true;
  } catch {
    return false;
  }
}
