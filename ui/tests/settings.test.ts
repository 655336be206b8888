import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import {
  DEFAULT_SETTINGS,
  loadSettings,
  processOptions,
  resetSettingsStore,
  sanitizeSettings,
  saveSettings,
} from '../src/lib/settings';
import { installBackend, storeHandlers } from './helpers';

afterEach(() => {
  clearMocks();
  resetSettingsStore();
});

describe('settings through the store plugin', () => {
  it('loads the saved settings from settings.json, key "settings"', async () => {
    const backend = installBackend(
      storeHandlers({ settings: { target: 'ja', length: 'long', style: 'bullets', engine: 'extractive', model: 'm1', translate: false } }),
    );
    const s = await loadSettings();
    expect(s).toMatchObject({ target: 'ja', length: 'long', style: 'bullets', engine: 'extractive', model: 'm1', translate: false });
    expect(backend.of('plugin:store|load')[0].args.path).toBe('settings.json');
    expect(backend.of('plugin:store|get')[0].args).toEqual({ rid: 42, key: 'settings' });
  });

  it('falls back to the defaults when nothing is stored', async () => {
    installBackend(storeHandlers({}));
    expect(await loadSettings()).toEqual(DEFAULT_SETTINGS);
  });

  it('falls back to the defaults when the store is unavailable', async () => {
    installBackend({
      'plugin:store|load': () => {
        throw 'store plugin not allowed';
      },
    });
    expect(await loadSettings()).toEqual(DEFAULT_SETTINGS);
    expect(await saveSettings({ ...DEFAULT_SETTINGS })).toBe(false);
  });

  it('saves with set + save', async () => {
    const data: Record<string, unknown> = {};
    const backend = installBackend(storeHandlers(data));
    const s = { ...DEFAULT_SETTINGS, target: 'fr', translate: false };
    expect(await saveSettings(s)).toBe(true);
    expect(data.settings).toEqual(s);
    expect(backend.of('plugin:store|set')[0].args).toMatchObject({ rid: 42, key: 'settings' });
    expect(backend.of('plugin:store|save')).toHaveLength(1);
    // and round-trips
    resetSettingsStore();
    expect(await loadSettings()).toEqual(s);
  });

  it('drops invalid stored values', () => {
    expect(sanitizeSettings({ length: 'huge', style: 'poem', engine: 'gpt', target: 3, translate: 'yes' })).toEqual(
      DEFAULT_SETTINGS,
    );
    expect(sanitizeSettings(null)).toEqual(DEFAULT_SETTINGS);
    // A text size off the scale snaps to it; a non-number is the default.
    expect(sanitizeSettings({ textSize: 1000 }).textSize).toBe(200);
    expect(sanitizeSettings({ textSize: 134 }).textSize).toBe(130);
    expect(sanitizeSettings({ textSize: 'big' }).textSize).toBe(100);
  });

  it('keeps a known layout and drops any other', () => {
    expect(DEFAULT_SETTINGS.layout).toBe('three');
    for (const layout of ['three', 'translation', 'bilingual']) {
      expect(sanitizeSettings({ layout }).layout).toBe(layout);
    }
    for (const layout of ['four', 'Bilingual', '', 2, null, { kind: 'three' }]) {
      expect(sanitizeSettings({ layout }).layout).toBe('three');
    }
    // An older settings file without the field.
    expect(sanitizeSettings({ target: 'fr' }).layout).toBe('three');
  });

  it('turns settings into process options', () => {
    expect(processOptions({ ...DEFAULT_SETTINGS })).toEqual({
      target: 'zh-Hans',
      length: 'medium',
      style: 'prose',
      engine: null,
      translate: true,
      summaryInTarget: true,
      model: null,
      translationModel: null,
    });
    expect(processOptions({ ...DEFAULT_SETTINGS, engine: 'llm', model: 'qwen' })).toMatchObject({
      engine: 'llm',
      model: 'qwen',
    });
    expect(processOptions({ ...DEFAULT_SETTINGS, translationModel: 'opus-mt-en-zh' })).toMatchObject({
      translationModel: 'opus-mt-en-zh',
    });
    expect(sanitizeSettings({ translationModel: 7 }).translationModel).toBe('');
  });
});
