// The window's state module against a mocked backend (no components).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { AppState } from '../src/lib/app.svelte';
import { resetSettingsStore } from '../src/lib/settings';
import type { Input } from '../src/lib/types';
import {
  HISTORY,
  deferred,
  installBackend,
  makeDocument,
  makeOutcome,
  sendEvents,
  storeHandlers,
  tick,
} from './helpers';

beforeEach(() => {
  document.body.dataset.state = '';
});

afterEach(() => {
  clearMocks();
  resetSettingsStore();
  vi.useRealTimers();
});

function titleOf(input: Input): string {
  if (input.kind === 'document') return input.document.title;
  return input.kind === 'file' ? input.path.replace(/^.*\//, '').replace(/\.\w+$/, '') : 'Pasted';
}

/** The settings saved, in order (the queue is saved to the store too, under its own key). */
function settingsSaved(backend: ReturnType<typeof installBackend>): any[] {
  return backend.of('plugin:store|set').filter((c) => c.args.key === 'settings').map((c) => c.args.value);
}

/** A backend that processes any article successfully, streaming a few events. */
function okBackend(extra: Record<string, (args: any) => unknown> = {}) {
  let nextId = 100;
  return installBackend({
    read_article: ({ path }) => makeDocument(titleOf({ kind: 'file', path })),
    read_pasted: () => makeDocument('Pasted'),
    process_article: ({ input, onEvent }) => {
      sendEvents(onEvent, [
        { event: 'progress', stage: 'translating', done: 0, total: 3, tokens: 0 },
        { event: 'token', stage: 'translating', paragraph_id: 'p1', text: '第' },
      ]);
      return { history_id: nextId++, outcome: makeOutcome(makeDocument(titleOf(input))) };
    },
    ...extra,
  });
}

describe('processing', () => {
  it('reads, processes with the contract arguments, and shows the outcome', async () => {
    const backend = okBackend();
    const app = new AppState();
    await app.init();
    app.enqueuePaths(['/news/Rain.txt']);
    await app.queue.idle();

    expect(backend.of('read_article')[0].args).toMatchObject({ path: '/news/Rain.txt' });
    const call = backend.of('process_article')[0].args;
    // The article as read goes to the engine: the file is read once.
    expect(call.input).toEqual({
      kind: 'document',
      document: makeDocument('Rain'),
      source_path: '/news/Rain.txt',
    });
    expect(call.options).toEqual({
      target: 'zh-Hans',
      length: 'medium',
      style: 'prose',
      engine: null,
      translate: true,
      summaryInTarget: true,
      model: null,
      translationModel: null,
    });
    expect(call.onEvent.constructor.name).toBe('Channel');
    expect(app.phase).toBe('done');
    expect(document.body.dataset.state).toBe('done');
    expect(app.historyId).toBe(100);
    expect(app.outcome?.document.title).toBe('Rain');
    expect(app.status).toBe('Rain — Qwen2.5 1.5B Instruct');
    expect(app.error).toBeNull();
    // history refreshed after the job
    await tick();
    expect(backend.of('history_list').length).toBeGreaterThanOrEqual(2);
  });

  it('streams channel events into the panes while running', async () => {
    const finish = deferred<unknown>();
    let channel: any;
    installBackend({
      read_article: () => makeDocument(),
      process_article: ({ onEvent }) => {
        channel = onEvent;
        return finish.promise;
      },
    });
    const app = new AppState();
    await app.init();
    app.enqueuePaths(['/a.txt']);
    await vi.waitFor(() => expect(channel).toBeDefined());
    expect(app.phase).toBe('running');
    expect(document.body.dataset.state).toBe('running');
    expect(app.document?.title).toBe('Rain in Spain');
    sendEvents(channel, [
      { event: 'token', stage: 'summarizing', paragraph_id: null, text: 'It rained.' },
      { event: 'progress', stage: 'translating', done: 1, total: 3, tokens: 5 },
      { event: 'token', stage: 'translating', paragraph_id: 'p2', text: '下' },
      { event: 'token', stage: 'translating', paragraph_id: 'p2', text: '雨' },
    ]);
    expect(app.stream.summary).toBe('It rained.');
    expect(app.stream.translation).toEqual([{ id: 'p2', text: '下雨', done: false }]);
    expect(app.stream.done).toBe(1);
    sendEvents(channel, [{ event: 'paragraph_done', paragraph_id: 'p2', text: '下雨了。' }]);
    expect(app.stream.translation[0]).toEqual({ id: 'p2', text: '下雨了。', done: true });
    finish.resolve({ history_id: 1, outcome: makeOutcome() });
    await app.queue.idle();
    expect(app.phase).toBe('done');
  });

  it('reads pasted text, then processes the article as read', async () => {
    const backend = okBackend();
    const app = new AppState();
    await app.init();
    app.enqueue({ kind: 'text', text: 'Some article text.' });
    await app.queue.idle();
    expect(backend.of('read_pasted')[0].args).toEqual({ text: 'Some article text.' });
    expect(backend.of('process_article')[0].args.input).toEqual({
      kind: 'document',
      document: makeDocument('Pasted'),
      source_path: null,
    });
  });

  it('shows an error from process_article with its message', async () => {
    installBackend({
      read_article: () => makeDocument(),
      process_article: () => Promise.reject({ code: 'model_missing', message: 'Translation needs a model. Download one in Models.' }),
    });
    const app = new AppState();
    await app.init();
    app.enqueuePaths(['/x/bad.txt']);
    await app.queue.idle();
    expect(app.phase).toBe('error');
    expect(document.body.dataset.state).toBe('error');
    expect(app.error).toEqual({ message: 'Translation needs a model. Download one in Models.', context: 'bad.txt' });
    app.dismissError();
    expect(app.error).toBeNull();
  });

  it('treats a cancelled job as cancelled, not as an error', async () => {
    installBackend({
      read_article: () => makeDocument(),
      process_article: () => Promise.reject({ code: 'cancelled', message: 'cancelled by the user' }),
    });
    const app = new AppState();
    await app.init();
    app.enqueuePaths(['/x/a.txt']);
    await app.queue.idle();
    expect(app.phase).toBe('cancelled');
    expect(document.body.dataset.state).toBe('cancelled');
    expect(app.error).toBeNull();
    expect(app.status).toBe('Cancelled');
  });

  it('processes queued paths in order and goes on after an error', async () => {
    const backend = okBackend({
      read_article: ({ path }) =>
        path === '/b.txt'
          ? Promise.reject({ code: 'unsupported', message: 'b.txt is not an article' })
          : makeDocument(path),
    });
    const app = new AppState();
    await app.init();
    app.enqueuePaths(['/a.txt', '/b.txt', '/c.txt']);
    expect(app.pending).toBe(2);
    await app.queue.idle();
    expect(backend.of('read_article').map((c) => c.args.path)).toEqual(['/a.txt', '/b.txt', '/c.txt']);
    expect(backend.of('process_article').map((c) => c.args.input.source_path)).toEqual(['/a.txt', '/c.txt']);
    expect(app.pending).toBe(0);
    expect(app.phase).toBe('done');
    // the failure stays visible after the queue went on
    expect(app.errors.map((e) => e.message)).toEqual(['b.txt is not an article']);
  });

  it('cancel invokes cancel and cancels the queued files (listed, not run)', async () => {
    const finish = deferred<unknown>();
    const backend = installBackend({
      read_article: () => makeDocument(),
      process_article: () => finish.promise,
      cancel: () => {
        finish.reject({ code: 'cancelled', message: 'Cancelled.' });
        return null;
      },
    });
    const app = new AppState();
    await app.init();
    await app.cancel(); // not running: nothing to do
    expect(backend.of('cancel')).toHaveLength(0);
    app.enqueuePaths(['/a.txt', '/b.txt']);
    await vi.waitFor(() => expect(backend.of('process_article')).toHaveLength(1));
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' })); // not attached
    expect(backend.of('cancel')).toHaveLength(0);
    await app.cancel();
    await app.queue.idle();
    expect(backend.of('cancel')).toHaveLength(1);
    expect(backend.of('read_article')).toHaveLength(1);
    expect(app.phase).toBe('cancelled');
    expect(app.pending).toBe(0);
    expect(app.queueItems.map((i) => [i.name, i.state])).toEqual([
      ['a.txt', 'cancelled'],
      ['b.txt', 'cancelled'],
    ]);
  });
});

describe('settings', () => {
  it('restores saved settings on start and saves changes', async () => {
    const data: Record<string, unknown> = { settings: { target: 'fr', style: 'bullets', engine: 'llm', model: 'qwen2.5-1.5b-instruct' } };
    const backend = okBackend(storeHandlers(data));
    const app = new AppState();
    await app.init();
    expect(app.settings.target).toBe('fr');
    expect(app.settings.model).toBe('qwen2.5-1.5b-instruct');
    await app.setSetting('length', 'short');
    expect((data.settings as any).length).toBe('short');
    expect(backend.of('plugin:store|save').length).toBeGreaterThan(0);
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    expect(backend.of('process_article')[0].args.options).toMatchObject({
      target: 'fr',
      length: 'short',
      style: 'bullets',
      engine: 'llm',
      model: 'qwen2.5-1.5b-instruct',
    });
  });

  it('forgets a saved model that is no longer installed', async () => {
    okBackend(storeHandlers({ settings: { model: 'gone' } }));
    const app = new AppState();
    await app.init();
    expect(app.settings.model).toBe('');
  });
});

describe('history', () => {
  it('lists, searches (debounced), reopens and deletes', async () => {
    const backend = okBackend({
      history_get: ({ id }) => ({
        id,
        created_at: '2025-05-01T10:00:00Z',
        options: { target: 'ja', length: 'short', style: 'prose', engine: null, translate: true, summaryInTarget: true, model: null },
        outcome: makeOutcome(makeDocument('Stored')),
      }),
      history_delete: () => null,
    });
    const app = new AppState();
    await app.init();
    expect(backend.of('history_list')[0].args).toEqual({ query: null });
    expect(app.history).toEqual(HISTORY);

    vi.useFakeTimers();
    app.setHistoryQuery('r');
    app.setHistoryQuery('ra');
    app.setHistoryQuery('rain ');
    expect(backend.of('history_list')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    vi.useRealTimers();
    expect(backend.of('history_list')).toHaveLength(2);
    expect(backend.of('history_list')[1].args).toEqual({ query: 'rain' });

    await app.openHistory(7);
    expect(backend.of('history_get')[0].args).toEqual({ id: 7 });
    expect(app.outcome?.document.title).toBe('Stored');
    expect(app.historyId).toBe(7);
    expect(app.resultTarget).toBe('ja');
    expect(app.phase).toBe('done');
    expect(app.canExport).toBe(true);

    await app.deleteHistory(7);
    expect(backend.of('history_delete')[0].args).toEqual({ id: 7 });
    expect(app.historyId).toBeNull();
    expect(app.canExport).toBe(false);
    expect(backend.of('history_list')).toHaveLength(3);
  });
});

describe('export', () => {
  it('asks for a path with the save dialog, then calls export_result', async () => {
    const backend = okBackend({
      'plugin:dialog|save': ({ options }) => `/out/${options.defaultPath}`,
      export_result: ({ path }) => path,
    });
    const app = new AppState();
    await app.init();
    expect(app.canExport).toBe(false);
    app.enqueuePaths(['/news/Rain.txt']);
    await app.queue.idle();
    await app.setSetting('includeTranslation', false);
    await app.exportAs('docx');
    const dialog = backend.of('plugin:dialog|save')[0].args.options;
    expect(dialog.defaultPath).toBe('Rain.docx');
    expect(dialog.filters).toEqual([{ name: 'Word document', extensions: ['docx'] }]);
    expect(backend.of('export_result')[0].args).toEqual({
      id: 100,
      format: 'docx',
      path: '/out/Rain.docx',
      includeTranslation: false,
    });
    expect(app.status).toBe('Exported to /out/Rain.docx');
    // Ctrl+E exports to the last used format
    app.onKeydown(new KeyboardEvent('keydown', { key: 'e', ctrlKey: true }));
    await vi.waitFor(() => expect(backend.of('export_result')).toHaveLength(2));
    expect(backend.of('export_result')[1].args.format).toBe('docx');
  });

  it('does nothing when the save dialog is cancelled', async () => {
    const backend = okBackend({ 'plugin:dialog|save': () => null, export_result: () => '' });
    const app = new AppState();
    await app.init();
    app.enqueuePaths(['/a.txt']);
    await app.queue.idle();
    await app.exportAs('md');
    expect(backend.of('plugin:dialog|save')).toHaveLength(1);
    expect(backend.of('export_result')).toHaveLength(0);
    expect(app.error).toBeNull();
  });
});

describe('window input', () => {
  it('queues files from the open dialog (multiple, article filters)', async () => {
    const backend = okBackend({ 'plugin:dialog|open': () => ['/a.txt', '/b.md'] });
    const app = new AppState();
    await app.init();
    app.onKeydown(new KeyboardEvent('keydown', { key: 'o', metaKey: true }));
    await vi.waitFor(() => expect(backend.of('process_article')).toHaveLength(2));
    const opts = backend.of('plugin:dialog|open')[0].args.options;
    expect(opts.multiple).toBe(true);
    expect(opts.filters[0].extensions).toEqual(
      expect.arrayContaining(['txt', 'md', 'html', 'pdf', 'docx', 'odt', 'epub', 'rtf']),
    );
    // Only what the reader accepts (the list comes from the core's table).
    expect(opts.filters[0].extensions).not.toContain('mhtml');
  });

  it('processes pasted text outside form fields only', async () => {
    const backend = okBackend();
    const app = new AppState();
    await app.init();
    const detach = app.attach(window);
    const paste = (target: EventTarget, text: string) => {
      const e = new Event('paste', { bubbles: true, cancelable: true }) as ClipboardEvent;
      Object.defineProperty(e, 'clipboardData', { value: { getData: (t: string) => (t === 'text/plain' ? text : '') } });
      target.dispatchEvent(e);
    };
    const input = document.createElement('input');
    document.body.append(input);
    paste(input, 'typed into a field');
    paste(document.body, 'An article pasted into the window.');
    await app.queue.idle();
    detach();
    input.remove();
    expect(backend.of('read_pasted').map((c) => c.args.text)).toEqual(['An article pasted into the window.']);
  });

  it('shows the drop overlay while dragging and queues dropped paths', async () => {
    const backend = installBackend(okBackend().handlers, { windows: true });
    const app = new AppState();
    const detach = app.attach(window);
    await tick();
    await emit('tauri://drag-enter', { paths: ['/a.txt'], position: { x: 1, y: 1 } });
    expect(app.dragging).toBe(true);
    await emit('tauri://drag-leave', null);
    expect(app.dragging).toBe(false);
    await emit('tauri://drag-drop', { paths: ['/a.txt', '/b.txt'], position: { x: 1, y: 1 } });
    expect(app.dragging).toBe(false);
    await vi.waitFor(() => expect(app.phase).toBe('done'));
    await app.queue.idle();
    detach();
    expect(backend.of('read_article').map((c) => c.args.path)).toEqual(['/a.txt', '/b.txt']);
  });

  it('queues the files the app was opened with, then those a second launch hands over', async () => {
    const handed = [['/news/First.txt'], [], ['/news/Second.html', '/news/Third.pdf']];
    const backend = installBackend(
      { ...okBackend().handlers, take_opened_files: () => handed.shift() ?? [] },
      { windows: true },
    );
    const app = new AppState();
    const detach = app.attach(window);
    await app.init();
    await app.queue.idle();
    expect(backend.of('read_article').map((c) => c.args.path)).toEqual(['/news/First.txt']);
    // A second launch: the backend emits, the window takes what waits (nothing twice).
    await emit('opened-files', null);
    await emit('opened-files', null);
    await vi.waitFor(() => expect(backend.of('read_article')).toHaveLength(3));
    await app.queue.idle();
    detach();
    expect(backend.of('read_article').map((c) => c.args.path)).toEqual([
      '/news/First.txt',
      '/news/Second.html',
      '/news/Third.pdf',
    ]);
    expect(backend.of('take_opened_files')).toHaveLength(3);
  });

  it('Ctrl+= / Ctrl+- / Ctrl+0 change the text size within its limits and keep it', async () => {
    const backend = installBackend();
    const app = new AppState();
    await app.init();
    const detach = app.attach(window);
    const key = (k: string) => window.dispatchEvent(new KeyboardEvent('keydown', { key: k, ctrlKey: true }));
    key('=');
    key('+');
    expect(app.settings.textSize).toBe(120);
    for (let i = 0; i < 20; i++) key('-');
    expect(app.settings.textSize).toBe(70);
    key('0');
    expect(app.settings.textSize).toBe(100);
    detach();
    const lastSaved = () => settingsSaved(backend).slice(-1)[0]?.textSize;
    await vi.waitFor(() => expect(lastSaved()).toBe(100));
  });

  it('Ctrl+F / Cmd+F open the find bar from anywhere; F3 and Ctrl+G move; Escape closes it first', async () => {
    installBackend();
    const app = new AppState();
    await app.init();
    const detach = app.attach(window);
    const field = document.createElement('input');
    document.body.appendChild(field);
    const opened = new KeyboardEvent('keydown', { key: 'f', ctrlKey: true, cancelable: true, bubbles: true });
    field.dispatchEvent(opened);
    expect(opened.defaultPrevented).toBe(true);
    expect(app.find.open).toBe(true);
    expect(app.find.focusRequests).toBe(1);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F', metaKey: true }));
    expect(app.find.focusRequests).toBe(2);
    // The bar reports its count; the keys step through it, wrapping.
    app.find.query = 'rain';
    app.find.total = 3;
    app.find.current = 0;
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F3' }));
    expect(app.find.current).toBe(1);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'g', ctrlKey: true }));
    expect(app.find.current).toBe(2);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'g', ctrlKey: true }));
    expect(app.find.current).toBe(0);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F3', shiftKey: true }));
    expect(app.find.current).toBe(2);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    expect(app.find).toMatchObject({ open: false, query: '', total: 0, current: -1 });
    // Closed, F3 does nothing.
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F3' }));
    expect(app.find.current).toBe(-1);
    detach();
    field.remove();
  });

  it('Ctrl+1 / Ctrl+2 / Ctrl+3 choose the layout and keep it', async () => {
    const backend = installBackend();
    const app = new AppState();
    await app.init();
    const detach = app.attach(window);
    const key = (k: string) => window.dispatchEvent(new KeyboardEvent('keydown', { key: k, ctrlKey: true }));
    key('3');
    expect(app.settings.layout).toBe('bilingual');
    key('2');
    expect(app.settings.layout).toBe('translation');
    key('1');
    expect(app.settings.layout).toBe('three');
    key('2');
    detach();
    const lastSaved = () => settingsSaved(backend).slice(-1)[0]?.layout;
    await vi.waitFor(() => expect(lastSaved()).toBe('translation'));
  });

  it('Escape cancels a running job', async () => {
    const finish = deferred<unknown>();
    const backend = installBackend({
      read_article: () => makeDocument(),
      process_article: () => finish.promise,
      cancel: () => {
        finish.reject({ code: 'cancelled', message: 'Cancelled.' });
        return null;
      },
    });
    const app = new AppState();
    await app.init();
    const detach = app.attach(window);
    app.enqueuePaths(['/a.txt']);
    await vi.waitFor(() => expect(backend.of('process_article')).toHaveLength(1));
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await app.queue.idle();
    detach();
    expect(backend.of('cancel')).toHaveLength(1);
    expect(app.phase).toBe('cancelled');
  });
});

describe('models', () => {
  it('shows a failed download in the models panel state', async () => {
    installBackend({
      model_download: ({ onEvent }) => {
        sendEvents(onEvent, [{ event: 'progress', stage: 'downloading', done: 10, total: 100, tokens: 0 }]);
        return Promise.reject({ code: 'download_failed', message: 'No network: run precis models fetch later.' });
      },
    });
    const app = new AppState();
    await app.init();
    await app.downloadModel('qwen2.5-0.5b-instruct');
    expect(app.downloads['qwen2.5-0.5b-instruct']).toMatchObject({
      done: 10,
      total: 100,
      error: 'No network: run precis models fetch later.',
    });
    expect(app.error).toBeNull();
  });

  it('imports a GGUF picked in the open dialog and removes models', async () => {
    const backend = installBackend({
      'plugin:dialog|open': () => '/tmp/my.gguf',
      model_import: ({ path }) => ({ id: 'my', name: 'my', installed: path }),
      model_remove: () => null,
    });
    const app = new AppState();
    await app.init();
    await app.importModel();
    expect(backend.of('plugin:dialog|open')[0].args.options.filters).toEqual([{ name: 'GGUF model', extensions: ['gguf'] }]);
    expect(backend.of('model_import')[0].args).toEqual({ path: '/tmp/my.gguf' });
    await app.removeModel('qwen2.5-1.5b-instruct');
    expect(backend.of('model_remove')[0].args).toEqual({ id: 'qwen2.5-1.5b-instruct' });
    expect(backend.of('list_models').length).toBe(3);
  });
});

describe('models', () => {
  it('never offers a test model for articles', async () => {
    installBackend({});
    const app = new AppState();
    const base = {
      architecture: 'llama',
      tested: true,
      parameters: '135M',
      approx_size_mb: 98,
      license: 'Apache-2.0',
      installed_bytes: 98_000_000,
      tile_cache_bytes: null,
      sources: ['pypi'],
      removable: true,
    };
    app.models = [
      { ...base, id: 'smollm2-135m-instruct', name: 'SmolLM2', purpose: 'test', installed: '/m/s.gguf' },
      { ...base, id: 'my-llama', name: 'Mine', purpose: 'assistant', installed: '/m/l.gguf' },
      { ...base, id: 'opus-mt-en-zh', name: 'OPUS-MT', architecture: 'marian', purpose: 'translation', installed: '/m/opus/model.safetensors' },
      { ...base, id: 'opus-mt-en-fr', name: 'OPUS-MT fr', architecture: 'marian', purpose: 'translation', installed: null },
    ];
    // Translation models are offered as the translator, never as the summary model.
    expect(app.installedModels.map((m) => m.id)).toEqual(['my-llama']);
    expect(app.installedTranslationModels.map((m) => m.id)).toEqual(['opus-mt-en-zh']);
  });
});
