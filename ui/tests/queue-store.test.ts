// The queue kept between runs: the store file, what is saved, and the window's state restoring it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import { AppState } from '../src/lib/app.svelte';
import {
  loadQueue,
  MAX_SAVED_INPUT_CHARS,
  resetQueueStore,
  sanitizeSavedQueue,
  savableQueue,
  saveQueue,
} from '../src/lib/queue-store';
import { resetSettingsStore } from '../src/lib/settings';
import type { Input } from '../src/lib/types';
import { deferred, installBackend, makeDocument, makeOutcome, storeHandlers, tick, type Handler } from './helpers';

afterEach(() => {
  clearMocks();
  resetSettingsStore();
  resetQueueStore();
});

const file = (path: string): Input => ({ kind: 'file', path });
const stem = (path: string) => path.replace(/^.*\//, '').replace(/\.\w+$/, '');

describe('the queue store', () => {
  it('saves to queue.json under "queue", and loads it back', async () => {
    const data: Record<string, unknown> = {};
    const backend = installBackend(storeHandlers(data));
    const queue = {
      paused: true,
      items: [
        { input: file('/a.txt'), state: 'done' as const, error: null, historyId: 3 },
        { input: { kind: 'text', text: 'Hello' } as Input, state: 'failed' as const, error: 'too short', historyId: null },
      ],
    };
    expect(await saveQueue(queue)).toBe(true);
    expect(backend.of('plugin:store|load')[0].args.path).toBe('queue.json');
    expect(backend.of('plugin:store|set')[0].args).toMatchObject({ rid: 42, key: 'queue' });
    expect(backend.of('plugin:store|save')).toHaveLength(1);
    resetQueueStore();
    expect(await loadQueue()).toEqual(queue);
  });

  it('gives an empty queue when nothing is saved or the store is unavailable', async () => {
    installBackend(storeHandlers({}));
    expect(await loadQueue()).toEqual({ paused: false, items: [] });
    clearMocks();
    resetQueueStore();
    installBackend({
      'plugin:store|load': () => {
        throw 'store plugin not allowed';
      },
    });
    expect(await loadQueue()).toEqual({ paused: false, items: [] });
    expect(await saveQueue({ paused: false, items: [] })).toBe(false);
  });

  it('keeps the valid items of a stored value', () => {
    const doc = makeDocument('Kept');
    expect(
      sanitizeSavedQueue({
        paused: 'yes',
        items: [
          { input: file('/a.txt'), state: 'running', error: 7, historyId: 1.5 },
          { input: { kind: 'file', path: '' }, state: 'waiting' },
          { input: { kind: 'url', url: 'https://x' }, state: 'waiting' },
          { input: file('/b.txt'), state: 'lost' },
          { input: { kind: 'document', document: { title: 'no paragraphs' }, source_path: null }, state: 'done' },
          { input: { kind: 'document', document: doc, source_path: '/k.txt' }, state: 'done', historyId: 4 },
          null,
        ],
      }),
    ).toEqual({
      paused: false,
      items: [
        { input: file('/a.txt'), state: 'running', error: null, historyId: null },
        { input: { kind: 'document', document: doc, source_path: '/k.txt' }, state: 'done', error: null, historyId: 4 },
      ],
    });
    expect(sanitizeSavedQueue('garbage')).toEqual({ paused: false, items: [] });
    expect(sanitizeSavedQueue({ paused: true, items: 'x' })).toEqual({ paused: true, items: [] });
  });

  it('leaves out a document (or a paste) too large to save on every change', () => {
    const big = makeDocument('Big', 1);
    big.paragraphs[0].text = 'x'.repeat(MAX_SAVED_INPUT_CHARS);
    const small = makeDocument('Small');
    const item = (input: Input) => ({ input, state: 'waiting' as const, error: null, historyId: null });
    const saved = savableQueue({
      paused: false,
      items: [
        item(file('/a.txt')),
        item({ kind: 'document', document: big, source_path: '/big.pdf' }),
        item({ kind: 'document', document: small, source_path: null }),
        item({ kind: 'text', text: 'y'.repeat(MAX_SAVED_INPUT_CHARS + 1) }),
        item({ kind: 'text', text: 'a short paste' }),
      ],
    });
    expect(saved.items.map((i) => (i.input.kind === 'document' ? i.input.document.title : i.input.kind))).toEqual([
      'file',
      'Small',
      'text',
    ]);
  });
});

/**
 * A backend whose process_article waits to be finished by hand, one deferred per article path,
 * over a store kept in `data` (shared by the app instances of one test, as the file would be).
 */
function queueBackend(data: Record<string, unknown>, extra: Record<string, Handler> = {}) {
  const jobs = new Map<string, ReturnType<typeof deferred<unknown>>>();
  let nextId = 20;
  const backend = installBackend({
    ...storeHandlers(data),
    read_article: ({ path }) => makeDocument(stem(path)),
    process_article: ({ input }) => {
      const job = deferred<unknown>();
      jobs.set(input.source_path, job);
      return job.promise;
    },
    ...extra,
  });
  const finish = async (path: string, ok = true) => {
    await vi.waitFor(() => expect(jobs.has(path)).toBe(true));
    const job = jobs.get(path)!;
    if (ok) job.resolve({ history_id: nextId++, outcome: makeOutcome(makeDocument(stem(path))) });
    else job.reject({ code: 'read_failed', message: `${stem(path)} could not be read` });
    await tick();
  };
  const processed = () => backend.of('process_article').map((c) => c.args.input.source_path);
  return { backend, finish, processed };
}

const states = (app: AppState) => app.queueItems.map((i) => `${i.name}:${i.state}`);

describe('the window’s queue between runs', () => {
  it('is saved as it changes, and comes back held: the running one waits again', async () => {
    const data: Record<string, unknown> = {};
    const first = queueBackend(data);
    const app = new AppState();
    await app.init();
    void app.enqueuePaths(['/a.txt', '/b.txt', '/c.txt', '/d.txt']);
    await first.finish('/a.txt');
    await first.finish('/b.txt', false);
    expect(states(app)).toEqual(['a.txt:done', 'b.txt:failed', 'c.txt:running', 'd.txt:waiting']);
    // Saved on its own, shortly after the change.
    await vi.waitFor(() =>
      expect((data.queue as any)?.items.map((i: any) => i.state)).toEqual(['done', 'failed', 'running', 'waiting']),
    );
    expect((data.queue as any).items[1].error).toBe('b could not be read');

    // The app closes while c runs; a new one starts on the same store.
    clearMocks();
    resetQueueStore();
    resetSettingsStore();
    const second = queueBackend(data);
    const next = new AppState();
    await next.init();
    expect(states(next)).toEqual(['a.txt:done', 'b.txt:failed', 'c.txt:waiting', 'd.txt:waiting']);
    expect(next.queueItems[0].historyId).toBe(20);
    expect(next.queueItems[1].error).toBe('b could not be read');
    expect(next.queueHeld).toBe(2);
    expect(next.queuePaused).toBe(false);
    await tick(20);
    expect(second.processed()).toEqual([]);
    expect(next.running).toBe(false);

    next.resumeQueue();
    await second.finish('/c.txt');
    await second.finish('/d.txt');
    await next.queue.idle();
    expect(second.processed()).toEqual(['/c.txt', '/d.txt']);
    expect(states(next)).toEqual(['a.txt:done', 'b.txt:failed', 'c.txt:done', 'd.txt:done']);
  });

  it('comes back paused when it was paused', async () => {
    const data: Record<string, unknown> = {};
    const first = queueBackend(data);
    const app = new AppState();
    await app.init();
    void app.enqueuePaths(['/a.txt', '/b.txt']);
    app.pauseQueue();
    await first.finish('/a.txt');
    await app.queue.idle();
    expect(await app.saveQueueNow()).toBe(true);
    expect((data.queue as any).paused).toBe(true);

    clearMocks();
    resetQueueStore();
    const second = queueBackend(data);
    const next = new AppState();
    await next.init();
    expect(next.queuePaused).toBe(true);
    expect(states(next)).toEqual(['a.txt:done', 'b.txt:waiting']);
    // Paused means paused: what is added now waits too, after the rest.
    await next.enqueuePaths(['/new.txt']);
    await tick(20);
    expect(second.processed()).toEqual([]);
    expect(states(next)).toEqual(['a.txt:done', 'b.txt:waiting', 'new.txt:waiting']);
    next.resumeQueue();
    await second.finish('/b.txt');
    await second.finish('/new.txt');
    expect(second.processed()).toEqual(['/b.txt', '/new.txt']);
  });

  it('runs a file handed over at start-up ahead of the held ones', async () => {
    const data: Record<string, unknown> = {
      queue: { paused: false, items: [{ input: file('/old.txt'), state: 'waiting', error: null, historyId: null }] },
    };
    const { finish, processed } = queueBackend(data, { take_opened_files: () => ['/opened.txt'] });
    const app = new AppState();
    await app.init();
    await finish('/opened.txt');
    await app.queue.idle();
    expect(processed()).toEqual(['/opened.txt']);
    expect(states(app)).toEqual(['opened.txt:done', 'old.txt:waiting']);
    expect(app.queueHeld).toBe(1);
  });

  it('is neither restored nor saved outside the app', async () => {
    const app = new AppState();
    await app.init();
    expect(app.queueItems).toEqual([]);
    expect(await app.saveQueueNow()).toBe(false);
  });
});
