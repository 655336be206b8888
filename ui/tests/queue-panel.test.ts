// The queue panel in the mounted window: what it lists and what its buttons do.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../src/App.svelte';
import { AppState } from '../src/lib/app.svelte';
import { resetQueueStore } from '../src/lib/queue-store';
import { resetSettingsStore } from '../src/lib/settings';
import { deferred, installBackend, LANGUAGES, makeDocument, makeOutcome, storeHandlers, tick, type Handler } from './helpers';

afterEach(() => {
  cleanup();
  clearMocks();
  resetSettingsStore();
  resetQueueStore();
});

const $ = (id: string) => document.getElementById(id);
const stem = (path: string) => path.replace(/^.*\//, '').replace(/\.\w+$/, '');

/** process_article waits to be finished by hand, per article path (null: pasted text). */
function handBackend(data: Record<string, unknown> = {}, extra: Record<string, Handler> = {}) {
  const jobs = new Map<string | null, ReturnType<typeof deferred<unknown>>>();
  let nextId = 50;
  const backend = installBackend({
    ...storeHandlers(data),
    read_article: ({ path }) => makeDocument(stem(path)),
    process_article: ({ input }) => {
      const job = deferred<unknown>();
      jobs.set(input.source_path, job);
      return job.promise;
    },
    history_get: ({ id }) => ({
      id,
      created_at: '2025-05-01T10:00:00Z',
      options: null,
      outcome: makeOutcome(makeDocument(`Stored ${id}`)),
    }),
    ...extra,
  });
  const finish = async (path: string | null, ok = true) => {
    await vi.waitFor(() => expect(jobs.has(path)).toBe(true));
    const job = jobs.get(path)!;
    const name = path ? stem(path) : 'Pasted';
    if (ok) job.resolve({ history_id: nextId++, outcome: makeOutcome(makeDocument(name)) });
    else job.reject({ code: 'read_failed', message: `${name} is not an article` });
    await tick();
  };
  const processed = () => backend.of('process_article').map((c) => c.args.input.source_path);
  return { backend, finish, processed };
}

async function mountApp() {
  const app = new AppState();
  render(App, { props: { app } });
  await waitFor(() => expect(($('target-select') as HTMLSelectElement).options.length).toBe(LANGUAGES.length));
  return app;
}

const rows = () => [...document.querySelectorAll<HTMLElement>('#queue-panel .queue-item')];
const listed = () => rows().map((li) => `${li.querySelector('.queue-name')!.textContent}:${li.dataset.state}`);
const row = (name: string) => rows().find((li) => li.querySelector('.queue-name')!.textContent === name)!;
const click = (el: Element | null) => fireEvent.click(el!);

describe('the queue panel', () => {
  it('shows only with items, each with its state as text, in a list', async () => {
    const { finish } = handBackend();
    const app = await mountApp();
    expect($('queue-panel')).toBeNull();
    void app.enqueuePaths(['/news/a.txt', '/news/b.txt', '/news/c.txt']);
    await waitFor(() => expect(listed()).toEqual(['a.txt:running', 'b.txt:waiting', 'c.txt:waiting']));
    expect($('queue-list')!.getAttribute('role')).toBe('list');
    expect(row('a.txt').querySelector('.queue-state')!.textContent).toBe('Running');
    expect(row('a.txt').querySelector('.queue-name')!.getAttribute('title')).toBe('/news/a.txt');
    expect($('queue-summary')!.textContent).toBe('1 running · 2 waiting');
    // The running one cannot be removed or moved (Cancel stops it).
    expect(row('a.txt').querySelector('.queue-remove, .queue-up, .queue-down')).toBeNull();
    await finish('/news/a.txt', false);
    await waitFor(() => expect(row('a.txt').dataset.state).toBe('failed'));
    expect(row('a.txt').querySelector('.queue-state')!.textContent).toBe('Failed: a is not an article');
    await finish('/news/b.txt');
    await finish('/news/c.txt');
    await waitFor(() => expect(listed()).toEqual(['a.txt:failed', 'b.txt:done', 'c.txt:done']));
    expect($('queue-summary')!.textContent).toBe('2 done · 1 failed');
    // Folded away, the heading line stays.
    const toggle = $('queue-toggle')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    await click(toggle);
    expect($('queue-list')).toBeNull();
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await click(toggle);
    expect($('queue-list')).not.toBeNull();
  });

  it('Pause lets the running article finish and starts no other until Resume', async () => {
    const { finish, processed } = handBackend();
    const app = await mountApp();
    void app.enqueuePaths(['/a.txt', '/b.txt']);
    await waitFor(() => expect($('queue-pause')).not.toBeNull());
    expect($('queue-resume')).toBeNull();
    $('queue-pause')!.focus();
    await click($('queue-pause'));
    expect(app.queuePaused).toBe(true);
    await waitFor(() => expect($('queue-resume')).not.toBeNull());
    expect($('queue-pause')).toBeNull();
    // The focus moves to the button that took the place of the one pressed.
    await waitFor(() => expect(document.activeElement?.id).toBe('queue-resume'));
    expect($('queue-notice')!.textContent).toBe('Pausing after the running article');
    await finish('/a.txt');
    await tick(20);
    expect(processed()).toEqual(['/a.txt']);
    expect(listed()).toEqual(['a.txt:done', 'b.txt:waiting']);
    expect($('queue-notice')!.textContent).toBe('Paused');
    expect(row('b.txt').querySelector('.queue-state')!.textContent).toBe('Waiting (paused)');
    await click($('queue-resume'));
    await finish('/b.txt');
    expect(processed()).toEqual(['/a.txt', '/b.txt']);
    await waitFor(() => expect(listed()).toEqual(['a.txt:done', 'b.txt:done']));
    expect($('queue-notice')).toBeNull();
  });

  it('moves waiting articles up and down, and they run in that order', async () => {
    const { finish, processed } = handBackend();
    const app = await mountApp();
    void app.enqueuePaths(['/a.txt', '/b.txt', '/c.txt', '/d.txt']);
    await waitFor(() => expect(rows()).toHaveLength(4));
    const up = (name: string) => row(name).querySelector<HTMLButtonElement>('.queue-up')!;
    const down = (name: string) => row(name).querySelector<HTMLButtonElement>('.queue-down')!;
    // The first waiting one cannot go up, the last not down.
    expect(up('b.txt').disabled).toBe(true);
    expect(down('d.txt').disabled).toBe(true);
    expect(up('d.txt').getAttribute('aria-label')).toBe('Move d.txt up');
    await click(up('d.txt'));
    await click(up('d.txt'));
    await waitFor(() => expect(listed()).toEqual(['a.txt:running', 'd.txt:waiting', 'b.txt:waiting', 'c.txt:waiting']));
    // At the top its Up button is disabled: the focus stays on the item, on Down.
    await waitFor(() => expect(document.activeElement).toBe(down('d.txt')));
    await click(down('b.txt'));
    await waitFor(() => expect(listed()).toEqual(['a.txt:running', 'd.txt:waiting', 'c.txt:waiting', 'b.txt:waiting']));
    for (const path of ['/a.txt', '/d.txt', '/c.txt', '/b.txt']) await finish(path);
    expect(processed()).toEqual(['/a.txt', '/d.txt', '/c.txt', '/b.txt']);
  });

  it('removes a waiting article, retries a failed one, clears the finished and the waiting', async () => {
    const { finish, processed } = handBackend();
    const app = await mountApp();
    void app.enqueuePaths(['/a.txt', '/b.txt', '/c.txt', '/d.txt']);
    await waitFor(() => expect(rows()).toHaveLength(4));
    await click(row('b.txt').querySelector('.queue-remove'));
    await waitFor(() => expect(listed()).toEqual(['a.txt:running', 'c.txt:waiting', 'd.txt:waiting']));
    await finish('/a.txt', false);
    await waitFor(() => expect(row('a.txt').dataset.state).toBe('failed'));
    // The failed one goes back to waiting, after the others.
    await click(row('a.txt').querySelector('.queue-retry'));
    await waitFor(() => expect(listed()).toEqual(['c.txt:running', 'd.txt:waiting', 'a.txt:waiting']));
    await finish('/c.txt');
    await waitFor(() => expect(listed()).toEqual(['c.txt:done', 'd.txt:running', 'a.txt:waiting']));
    await click($('queue-clear-waiting'));
    await waitFor(() => expect(listed()).toEqual(['c.txt:done', 'd.txt:running']));
    expect(($('queue-clear-waiting') as HTMLButtonElement).disabled).toBe(true);
    await finish('/d.txt');
    await app.queue.idle();
    expect(processed()).toEqual(['/a.txt', '/c.txt', '/d.txt']);
    await click($('queue-clear-finished'));
    // Nothing left: the panel goes.
    await waitFor(() => expect($('queue-panel')).toBeNull());
  });

  it('opens a done article’s result from the history', async () => {
    const { backend, finish } = handBackend();
    const app = await mountApp();
    void app.enqueuePaths(['/a.txt', '/b.txt']);
    await finish('/a.txt');
    // Not while another runs: the panes show that one.
    await waitFor(() => expect(row('a.txt').querySelector('.queue-open')).not.toBeNull());
    expect(row('a.txt').querySelector<HTMLButtonElement>('.queue-open')!.disabled).toBe(true);
    await finish('/b.txt');
    await app.queue.idle();
    expect(app.historyId).toBe(51);
    await waitFor(() => expect(row('a.txt').querySelector<HTMLButtonElement>('.queue-open')!.disabled).toBe(false));
    await click(row('a.txt').querySelector('.queue-open'));
    await waitFor(() => expect(app.historyId).toBe(50));
    expect(backend.of('history_get').map((c) => c.args)).toEqual([{ id: 50 }]);
    expect(app.outcome?.document.title).toBe('Stored 50');
  });

  it('Cancel stops the running article; the waiting ones are listed as cancelled, and can be retried', async () => {
    const finishA = deferred<unknown>();
    const { processed } = handBackend(
      {},
      {
        process_article: ({ input }) =>
          input.source_path === '/a.txt'
            ? finishA.promise
            : { history_id: 9, outcome: makeOutcome(makeDocument(stem(input.source_path))) },
        cancel: () => {
          finishA.reject({ code: 'cancelled', message: 'Cancelled.' });
          return null;
        },
      },
    );
    const app = await mountApp();
    void app.enqueuePaths(['/a.txt', '/b.txt']);
    await waitFor(() => expect(($('cancel-button') as HTMLButtonElement).disabled).toBe(false));
    await click($('cancel-button'));
    await waitFor(() => expect(listed()).toEqual(['a.txt:cancelled', 'b.txt:cancelled']));
    expect(app.pending).toBe(0);
    expect(processed()).toEqual(['/a.txt']);
    await click(row('b.txt').querySelector('.queue-retry'));
    await waitFor(() => expect(listed()).toEqual(['a.txt:cancelled', 'b.txt:done']));
    expect(processed()).toEqual(['/a.txt', '/b.txt']);
  });

  it('says what waits from last time, and Resume runs it', async () => {
    const data: Record<string, unknown> = {
      queue: {
        paused: false,
        items: [
          { input: { kind: 'file', path: '/old/a.txt' }, state: 'done', error: null, historyId: 3 },
          { input: { kind: 'file', path: '/old/b.txt' }, state: 'running', error: null, historyId: null },
          { input: { kind: 'text', text: 'Rain falls on the plain in Spain today.' }, state: 'waiting', error: null, historyId: null },
        ],
      },
    };
    const { finish, processed } = handBackend(data, { read_pasted: () => makeDocument('Pasted') });
    await mountApp();
    await waitFor(() => expect($('queue-notice')!.textContent).toBe('2 articles waiting from last time'));
    expect(listed()).toEqual(['a.txt:done', 'b.txt:waiting', 'Pasted text: Rain falls on the plain in Spain today.:waiting']);
    expect(row('b.txt').querySelector('.queue-state')!.textContent).toBe('Waiting from last time');
    expect($('queue-pause')).toBeNull();
    await tick(20);
    expect(processed()).toEqual([]);
    await click($('queue-resume'));
    await finish('/old/b.txt');
    await finish(null);
    await waitFor(() => expect(listed().map((s) => s.split(':').pop())).toEqual(['done', 'done', 'done']));
    expect(processed()).toEqual(['/old/b.txt', null]);
    expect($('queue-notice')).toBeNull();
  });
});
