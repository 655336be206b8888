import { describe, expect, it } from 'vitest';
import { inputName, JobQueue, type JobResult } from '../src/lib/queue';
import { deferred, makeDocument, tick } from './helpers';

/** A queue of named jobs each finished by hand: `finish(name, result)`. */
function handQueue() {
  const started: string[] = [];
  const jobs = new Map<string, ReturnType<typeof deferred<JobResult | void>>>();
  const q = new JobQueue<string>((item) => {
    started.push(item);
    const job = deferred<JobResult | void>();
    jobs.set(item, job);
    return job.promise;
  });
  const finish = async (item: string, result?: JobResult) => {
    jobs.get(item)!.resolve(result);
    await tick();
  };
  const states = () => q.items.map((i) => `${i.name}:${i.state}`);
  return { q, started, finish, states };
}

const ids = (q: JobQueue<string>) => Object.fromEntries(q.items.map((i) => [i.name, i.id]));

describe('JobQueue', () => {
  it('runs jobs one after another in order', async () => {
    const log: string[] = [];
    let active = 0;
    const q = new JobQueue<string>(async (item) => {
      active++;
      expect(active).toBe(1);
      log.push(`start ${item}`);
      await tick(1);
      log.push(`end ${item}`);
      active--;
    });
    q.push('a', 'b');
    q.push('c');
    expect(q.busy).toBe(true);
    expect(q.pending).toBe(2);
    await q.idle();
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(q.busy).toBe(false);
    expect(q.pending).toBe(0);
  });

  it('goes on after a job fails, and keeps why', async () => {
    const done: string[] = [];
    const errors: string[] = [];
    const q = new JobQueue<string>(
      async (item) => {
        if (item === 'bad') throw new Error('nope');
        if (item === 'refused') return { state: 'failed', error: 'not an article' };
        done.push(item);
        return { state: 'done', historyId: done.length };
      },
      (err, item) => errors.push(`${item}: ${(err as Error).message}`),
    );
    q.push('a', 'bad', 'refused', 'c');
    await q.idle();
    expect(done).toEqual(['a', 'c']);
    expect(errors).toEqual(['bad: nope']);
    expect(q.items.map(({ name, state, error, historyId }) => ({ name, state, error, historyId }))).toEqual([
      { name: 'a', state: 'done', error: null, historyId: 1 },
      { name: 'bad', state: 'failed', error: 'nope', historyId: null },
      { name: 'refused', state: 'failed', error: 'not an article', historyId: null },
      { name: 'c', state: 'done', error: null, historyId: 2 },
    ]);
  });

  it('lists every item with its state, and tells listeners of each change', async () => {
    const { q, finish, states } = handQueue();
    const seen: string[][] = [];
    q.subscribe(() => seen.push(states()));
    q.push('a', 'b');
    expect(states()).toEqual(['a:running', 'b:waiting']);
    await finish('a', { state: 'cancelled' });
    expect(states()).toEqual(['a:cancelled', 'b:running']);
    await finish('b');
    expect(states()).toEqual(['a:cancelled', 'b:done']);
    expect(seen).toContainEqual(['a:waiting', 'b:waiting']);
    expect(seen[seen.length - 1]).toEqual(['a:cancelled', 'b:done']);
    // Copies: changing one changes nothing.
    q.items[0].state = 'waiting';
    expect(states()[0]).toBe('a:cancelled');
    // Ids are unique and stay with their item.
    expect(new Set(q.items.map((i) => i.id)).size).toBe(2);
  });

  it('pauses after the running job and resumes where it stopped', async () => {
    const { q, started, finish, states } = handQueue();
    q.push('a', 'b', 'c');
    q.pause();
    expect(q.paused).toBe(true);
    expect(q.busy).toBe(true);
    await finish('a');
    await q.idle();
    expect(started).toEqual(['a']);
    expect(q.busy).toBe(false);
    expect(states()).toEqual(['a:done', 'b:waiting', 'c:waiting']);
    // Added while paused: waits too.
    q.push('d');
    await tick();
    expect(started).toEqual(['a']);
    q.resume();
    expect(q.paused).toBe(false);
    expect(started).toEqual(['a', 'b']);
    await finish('b');
    await finish('c');
    await finish('d');
    await q.idle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('moves waiting jobs up and down, and runs them in the new order', async () => {
    const { q, started, finish, states } = handQueue();
    q.push('a', 'b', 'c', 'd');
    const id = ids(q);
    // The running one and the ends do not move.
    expect(q.move(id.a, 1)).toBe(false);
    expect(q.canMove(id.b, -1)).toBe(false);
    expect(q.move(id.b, -1)).toBe(false);
    expect(q.canMove(id.d, 1)).toBe(false);
    expect(q.move(id.d, -1)).toBe(true);
    expect(q.move(id.d, -1)).toBe(true);
    expect(q.canMove(id.d, -1)).toBe(false);
    expect(q.move(id.b, 1)).toBe(true);
    expect(states()).toEqual(['a:running', 'd:waiting', 'c:waiting', 'b:waiting']);
    for (const name of ['a', 'd', 'c', 'b']) await finish(name);
    expect(started).toEqual(['a', 'd', 'c', 'b']);
  });

  it('moves past finished items to the next waiting one', async () => {
    const { q, finish, states } = handQueue();
    q.push('a');
    await finish('a', { state: 'failed', error: 'x' });
    q.pause();
    q.push('b');
    q.retry(ids(q).a);
    expect(states()).toEqual(['b:waiting', 'a:waiting']);
    expect(q.move(ids(q).a, -1)).toBe(true);
    expect(states()).toEqual(['a:waiting', 'b:waiting']);
  });

  it('removes any job but the running one', async () => {
    const { q, started, finish, states } = handQueue();
    q.push('a', 'b', 'c');
    const id = ids(q);
    expect(q.remove(id.a)).toBe(false);
    expect(q.remove(id.b)).toBe(true);
    expect(q.remove(id.b)).toBe(false);
    await finish('a');
    expect(q.remove(id.a)).toBe(true);
    await finish('c');
    expect(started).toEqual(['a', 'c']);
    expect(states()).toEqual(['c:done']);
  });

  it('retries a failed or cancelled job after the waiting ones', async () => {
    const { q, started, finish, states } = handQueue();
    q.push('a', 'b', 'c');
    const id = ids(q);
    expect(q.retry(id.a)).toBe(false); // running
    await finish('a', { state: 'failed', error: 'model crashed' });
    expect(q.retry(id.c)).toBe(false); // waiting
    expect(q.retry(id.a)).toBe(true);
    expect(states()).toEqual(['b:running', 'c:waiting', 'a:waiting']);
    expect(q.items[2].error).toBeNull();
    await finish('b', { state: 'cancelled' });
    await finish('c');
    expect(q.retry(id.b)).toBe(true);
    await finish('a', { state: 'done', historyId: 4 });
    expect(q.retry(id.a)).toBe(false); // done
    await finish('b');
    expect(started).toEqual(['a', 'b', 'c', 'a', 'b']);
    expect(states()).toEqual(['c:done', 'a:done', 'b:done']);
  });

  it('clears the finished jobs, or the waiting ones', async () => {
    const { q, started, finish, states } = handQueue();
    q.push('a', 'b', 'c', 'd', 'e');
    await finish('a');
    await finish('b', { state: 'failed', error: 'x' });
    await finish('c', { state: 'cancelled' });
    expect(states()).toEqual(['a:done', 'b:failed', 'c:cancelled', 'd:running', 'e:waiting']);
    expect(q.clearFinished()).toBe(3);
    expect(states()).toEqual(['d:running', 'e:waiting']);
    expect(q.clearWaiting()).toBe(1);
    expect(q.clearWaiting()).toBe(0);
    expect(states()).toEqual(['d:running']);
    await finish('d');
    await q.idle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    // It runs again when something is added.
    q.push('f');
    await finish('f');
    expect(states()).toEqual(['d:done', 'f:done']);
  });

  it('cancels the waiting jobs, which stay listed', async () => {
    const { q, started, finish, states } = handQueue();
    q.push('a', 'b', 'c');
    expect(q.cancelWaiting()).toBe(2);
    expect(q.pending).toBe(0);
    await finish('a', { state: 'cancelled' });
    await q.idle();
    expect(started).toEqual(['a']);
    expect(states()).toEqual(['a:cancelled', 'b:cancelled', 'c:cancelled']);
  });

  it('saves what is worth keeping, and restores it held, ahead of what came meanwhile', async () => {
    const { q, finish } = handQueue();
    q.push('a', 'b', 'c', 'd');
    await finish('a', { state: 'done', historyId: 12 });
    await finish('b', { state: 'failed', error: 'unreadable' });
    q.cancelWaiting();
    await finish('c', { state: 'cancelled' });
    q.retry(ids(q).d);
    // The app closes while d runs.
    const saved = q.snapshot();
    expect(saved).toEqual({
      paused: false,
      items: [
        { input: 'a', state: 'done', error: null, historyId: 12 },
        { input: 'b', state: 'failed', error: 'unreadable', historyId: null },
        { input: 'c', state: 'cancelled', error: null, historyId: null },
        { input: 'd', state: 'running', error: null, historyId: null },
      ],
    });

    const next = handQueue();
    next.q.push('new');
    next.q.restore(saved);
    // The one running when the app closed waits again; waiting ones are held until Resume.
    expect(next.states()).toEqual(['a:done', 'b:failed', 'c:cancelled', 'd:waiting', 'new:running']);
    expect(next.q.held).toBe(1);
    expect(next.q.items.find((i) => i.name === 'b')!.error).toBe('unreadable');
    expect(next.q.items.find((i) => i.name === 'a')!.historyId).toBe(12);
    // What the reader adds now runs ahead of the held ones...
    next.q.push('newer');
    expect(next.states().slice(3)).toEqual(['newer:waiting', 'd:waiting', 'new:running']);
    await next.finish('new');
    await next.finish('newer');
    await next.q.idle();
    expect(next.started).toEqual(['new', 'newer']);
    // ...and they run on Resume.
    next.q.resume();
    expect(next.q.held).toBe(0);
    await next.finish('d');
    expect(next.started).toEqual(['new', 'newer', 'd']);
  });

  it('restores a paused queue paused', async () => {
    const { q, started } = handQueue();
    q.restore({ paused: true, items: [{ input: 'a', state: 'waiting', error: null, historyId: null }] });
    expect(q.paused).toBe(true);
    q.push('b');
    await tick();
    expect(started).toEqual([]);
    q.resume();
    expect(started).toEqual(['a']);
  });
});

describe('inputName', () => {
  it('names a file by its name, a document by its title, pasted text by its first words', () => {
    expect(inputName({ kind: 'file', path: '/home/me/news/rain.txt' })).toBe('rain.txt');
    expect(inputName({ kind: 'file', path: 'C:\\news\\snow.pdf' })).toBe('snow.pdf');
    expect(inputName({ kind: 'document', document: makeDocument('Rain in Spain'), source_path: null })).toBe(
      'Rain in Spain',
    );
    expect(inputName({ kind: 'document', document: { ...makeDocument(''), source_name: 'x.txt' }, source_path: null })).toBe(
      'x.txt',
    );
    expect(inputName({ kind: 'text', text: '  Rain falls\non the plain. ' })).toBe('Pasted text: Rain falls on the plain.');
    expect(
      inputName({ kind: 'text', text: 'The rain in Spain stays mainly in the plain, said the professor twice.' }),
    ).toBe('Pasted text: The rain in Spain stays mainly in the…');
    expect(inputName({ kind: 'text', text: '西'.repeat(100) })).toBe(`Pasted text: ${'西'.repeat(48)}…`);
  });
});
