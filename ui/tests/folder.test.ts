// Dropping, opening or handing over a folder queues the articles inside it (articles_in_folder).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import App from '../src/App.svelte';
import { announce, announcement } from '../src/lib/announce.svelte';
import { AppState } from '../src/lib/app.svelte';
import { resetSettingsStore } from '../src/lib/settings';
import type { FolderArticles } from '../src/lib/types';
import { deferred, installBackend, makeDocument, makeOutcome, tick, type Handler } from './helpers';

afterEach(() => {
  cleanup();
  clearMocks();
  resetSettingsStore();
});

const stem = (path: string) => path.replace(/^.*\//, '').replace(/\.\w+$/, '');

/**
 * A backend whose folders are `folders` (path → what articles_in_folder answers; an Error-like
 * object to reject); any other path comes back as itself, as the backend does for a file.
 */
function folderBackend(
  folders: Record<string, FolderArticles | { code: string; message: string }>,
  extra: Record<string, Handler> = {},
) {
  let nextId = 1;
  return installBackend(
    {
      articles_in_folder: ({ path }) => {
        const found = folders[path];
        if (!found) return { articles: [path], problems: [] };
        if ('code' in found) throw found;
        return found;
      },
      read_article: ({ path }) => makeDocument(stem(path)),
      process_article: ({ input }) => ({
        history_id: nextId++,
        outcome: makeOutcome(makeDocument(input.document.title)),
      }),
      ...extra,
    },
    { windows: true },
  );
}

const NEWS: FolderArticles = {
  articles: ['/home/me/news/a.txt', '/home/me/news/sub/b.html', '/home/me/news/sub/c.pdf'],
  problems: [],
};

const read = (backend: ReturnType<typeof installBackend>) =>
  backend.of('read_article').map((c) => c.args.path);

/** Waits until every folder is listed and every queued article has run. */
async function settle(app: AppState, listing: Promise<void>) {
  await listing;
  await app.queue.idle();
}

describe('a dropped folder', () => {
  it('is listed by the backend and its articles are processed in order', async () => {
    const backend = folderBackend({ '/home/me/news': NEWS });
    const app = new AppState();
    const detach = app.attach(window);
    await app.init();
    await emit('tauri://drag-drop', { paths: ['/home/me/news'], position: { x: 1, y: 1 } });
    await vi.waitFor(() => expect(read(backend)).toHaveLength(3));
    await app.queue.idle();
    detach();
    expect(backend.of('articles_in_folder').map((c) => c.args)).toEqual([{ path: '/home/me/news' }]);
    expect(read(backend)).toEqual(NEWS.articles);
    expect(backend.of('process_article')).toHaveLength(3);
    expect(app.phase).toBe('done');
    expect(app.error).toBeNull();
  });

  it('says how many articles the folder added', async () => {
    const world = { articles: ['/home/me/world/x.txt', '/home/me/world/y.txt'], problems: [] };
    folderBackend({ '/home/me/world/': world });
    const app = new AppState();
    await app.init();
    const listing = app.enqueuePaths(['/home/me/world/']);
    // While the folder is walked the status line says so.
    expect(app.status).toBe('Looking for articles in world…');
    await settle(app, listing);
    await vi.waitFor(() => expect(announcement.message).toBe('Queued 2 articles from world'));
    expect(app.status).toBe('y — Qwen2.5 1.5B Instruct');
  });

  it('shows the entries that could not be read, and still queues the rest', async () => {
    const backend = folderBackend({
      '/home/me/news': {
        articles: ['/home/me/news/a.txt'],
        problems: [
          '/home/me/news/loop: symbolic-link loop',
          '/home/me/news/private: permission denied',
          '/elsewhere/x: gone',
          '/home/me/news/y: permission denied',
        ],
      },
    });
    const app = new AppState();
    await app.init();
    await settle(app, app.enqueuePaths(['/home/me/news']));
    expect(read(backend)).toEqual(['/home/me/news/a.txt']);
    expect(app.errors).toEqual([
      {
        context: 'news',
        message:
          '4 entries could not be read: loop: symbolic-link loop; private: permission denied; ' +
          '/elsewhere/x: gone; and 1 more',
      },
    ]);
    // Not fatal: the article ran.
    expect(app.phase).toBe('done');
  });

  it('shows the notice in the error banner', async () => {
    folderBackend({
      '/home/me/news': { articles: [], problems: ['/home/me/news/loop: symbolic-link loop'] },
    });
    const app = new AppState();
    render(App, { props: { app } });
    await waitFor(() => expect(app.modelsLoaded).toBe(true));
    await app.enqueuePaths(['/home/me/news']);
    await waitFor(() => expect(document.getElementById('error-banner')).not.toBeNull());
    expect(document.getElementById('error-banner')!.textContent).toContain(
      'news: 1 entry could not be read: loop: symbolic-link loop',
    );
    // Nothing was queued: the status line is as it was.
    expect(app.status).not.toContain('Looking for articles');
  });

  it('shows a folder without articles as an error naming it', async () => {
    const backend = folderBackend({
      '/home/me/empty': {
        code: 'read_failed',
        message: 'the folder /home/me/empty holds no articles (.txt, .html, .pdf, .docx, …)',
      },
    });
    const app = new AppState();
    await app.init();
    const before = app.status;
    await settle(app, app.enqueuePaths(['/home/me/empty']));
    expect(app.errors).toEqual([
      {
        context: 'empty',
        message: 'the folder /home/me/empty holds no articles (.txt, .html, .pdf, .docx, …)',
      },
    ]);
    expect(read(backend)).toEqual([]);
    expect(app.status).toBe(before);
    expect(app.phase).toBe('idle');
  });

  it('clears the last batch’s errors when dropped, and keeps each folder’s own', async () => {
    const backend = folderBackend({
      '/empty': { code: 'read_failed', message: 'the folder /empty holds no articles' },
      '/news': NEWS,
    });
    const app = new AppState();
    await app.init();
    app.showError('an old failure', 'old.txt');
    await settle(app, app.enqueuePaths(['/empty', '/news']));
    // The second folder's articles do not clear the first folder's error.
    expect(app.errors.map((e) => e.context)).toEqual(['empty']);
    expect(read(backend)).toEqual(NEWS.articles);
  });
});

describe('article paths', () => {
  it('are queued at once, whatever the case of the extension, with no folder listing', async () => {
    const backend = folderBackend({});
    const app = new AppState();
    await app.init();
    const listing = app.enqueuePaths(['/news/Rain.TXT', '/news/Snow.Html']);
    // Synchronously: the first is running, the second waits.
    expect(app.queue.busy).toBe(true);
    expect(app.pending).toBe(1);
    await settle(app, listing);
    expect(backend.of('articles_in_folder')).toHaveLength(0);
    expect(read(backend)).toEqual(['/news/Rain.TXT', '/news/Snow.Html']);
  });

  it('come before a folder dropped with them, in either order', async () => {
    const backend = folderBackend({ '/home/me/news': NEWS });
    const app = new AppState();
    await app.init();
    await settle(app, app.enqueuePaths(['/home/me/news', '/b.md', '/a.txt']));
    expect(read(backend)).toEqual(['/b.md', '/a.txt', ...NEWS.articles]);
    expect(backend.of('articles_in_folder').map((c) => c.args.path)).toEqual(['/home/me/news']);
  });

  it('a file without an article extension is asked about and queued as itself, silently', async () => {
    const backend = folderBackend({});
    const app = new AppState();
    await app.init();
    // An earlier test's announcement may still be on its way.
    announce('');
    await settle(app, app.enqueuePaths(['/notes/README']));
    expect(backend.of('articles_in_folder').map((c) => c.args.path)).toEqual(['/notes/README']);
    expect(read(backend)).toEqual(['/notes/README']);
    await tick(80);
    expect(announcement.message).toBe('');
  });
});

describe('several folders', () => {
  it('are queued in the order given, whichever answers first', async () => {
    const first = deferred<FolderArticles>();
    const backend = folderBackend(
      {},
      {
        articles_in_folder: ({ path }) =>
          path === '/one' ? first.promise : { articles: ['/two/b.txt', '/two/c.txt'], problems: [] },
      },
    );
    const app = new AppState();
    await app.init();
    const listing = app.enqueuePaths(['/one', '/two']);
    await tick();
    // The second folder has answered; it waits for the first.
    expect(read(backend)).toEqual([]);
    first.resolve({ articles: ['/one/a.txt'], problems: [] });
    await settle(app, listing);
    expect(read(backend)).toEqual(['/one/a.txt', '/two/b.txt', '/two/c.txt']);
  });
});

describe('cancel', () => {
  it('drops the articles of a folder still being listed', async () => {
    const listed = deferred<FolderArticles>();
    const finish = deferred<unknown>();
    const backend = folderBackend(
      {},
      {
        articles_in_folder: () => listed.promise,
        process_article: () => finish.promise,
        cancel: () => {
          finish.reject({ code: 'cancelled', message: 'Cancelled' });
          return null;
        },
      },
    );
    const app = new AppState();
    await app.init();
    const listing = app.enqueuePaths(['/a.txt', '/news']);
    await vi.waitFor(() => expect(app.running).toBe(true));
    await app.cancel();
    listed.resolve(NEWS);
    await settle(app, listing);
    expect(read(backend)).toEqual(['/a.txt']);
    expect(app.phase).toBe('cancelled');
    expect(app.pending).toBe(0);
  });
});

describe('other ways in', () => {
  it('a folder handed over from outside is listed and its articles queued', async () => {
    const backend = folderBackend(
      { '/home/me/news': NEWS },
      { take_opened_files: () => ['/home/me/news'] },
    );
    const app = new AppState();
    await app.init();
    await app.queue.idle();
    expect(read(backend)).toEqual(NEWS.articles);
  });

  it('the Open dialog’s files still go straight to the queue', async () => {
    const backend = folderBackend({}, { 'plugin:dialog|open': () => ['/a.txt', '/b.md'] });
    const app = new AppState();
    await app.init();
    await app.openFiles();
    await app.queue.idle();
    expect(read(backend)).toEqual(['/a.txt', '/b.md']);
    expect(backend.of('articles_in_folder')).toHaveLength(0);
  });
});
