import { describe, expect, it } from 'vitest';
import { JobQueue } from '../src/lib/queue';
import { tick } from './helpers';

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

  it('goes on after a job fails', async () => {
    const done: string[] = [];
    const errors: string[] = [];
    const q = new JobQueue<string>(
      async (item) => {
        if (item === 'bad') throw new Error('nope');
        done.push(item);
      },
      (err, item) => errors.push(`${item}: ${(err as Error).message}`),
    );
    q.push('a', 'bad', 'c');
    await q.idle();
    expect(done).toEqual(['a', 'c']);
    expect(errors).toEqual(['bad: nope']);
  });

  it('reports the queue length and can drop waiting jobs', async () => {
    const seen: number[] = [];
    const ran: string[] = [];
    const q = new JobQueue<string>(async (item) => {
      ran.push(item);
      await tick(1);
    });
    q.subscribe((pending) => seen.push(pending));
    q.push('a', 'b', 'c');
    expect(q.pending).toBe(2);
    expect(q.clear()).toBe(2);
    await q.idle();
    expect(ran).toEqual(['a']);
    expect(seen[seen.length - 1]).toBe(0);
    q.push('d');
    await q.idle();
    expect(ran).toEqual(['a', 'd']);
  });
});
