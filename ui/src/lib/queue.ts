// The job queue: jobs run one after another, in the order listed, and each stays listed with its
// state (waiting, running, done, failed, cancelled) until the reader clears it, so a folder's run
// can be reviewed. A job that fails does not stop the ones after it. The queue can be paused
// (the running job finishes, no next one starts), reordered, and saved and restored (see
// queue-store.ts). Plain TypeScript: the window's state mirrors it, the tests drive it directly.
import type { Input } from './types';

export type JobState = 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';

/** The states of a job that has ended ("Clear finished" drops them). */
export const FINISHED_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

export const isFinished = (state: JobState): boolean => FINISHED_STATES.includes(state);

/** How a job ended, as its runner tells it; a runner that returns nothing has succeeded. */
export type JobResult =
  | { state: 'done'; historyId: number | null }
  | { state: 'failed'; error: string }
  | { state: 'cancelled' };

export interface QueueItem<T> {
  readonly id: number;
  readonly input: T;
  /** What the list shows: a file name, a pasted text's first words, an article's title. */
  readonly name: string;
  state: JobState;
  /** Why it failed (the backend's message); null unless failed. */
  error: string | null;
  /** Where a done job's result is kept in the history; null when it was not stored. */
  historyId: number | null;
  /**
   * Restored from last time: waits for Resume, while what the reader adds now runs ahead of it
   * (a restart should not start minutes of model work unasked, nor keep a newly opened file
   * waiting behind it).
   */
  held: boolean;
}

/** An item as saved between runs (ids and names are made again on restore). */
export interface SavedItem<T> {
  input: T;
  state: JobState;
  error: string | null;
  historyId: number | null;
}

export interface SavedQueue<T> {
  paused: boolean;
  items: SavedItem<T>[];
}

export type QueueListener = () => void;

/** The message of anything thrown: an ErrorInfo's, an Error's, or the thing itself. */
function errorText(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

export class JobQueue<T> {
  private list: QueueItem<T>[] = [];
  private nextId = 1;
  private running = false;
  private stopped = false;
  private drained: Promise<void> = Promise.resolve();
  private listeners = new Set<QueueListener>();

  /**
   * `run` does one job and tells how it ended; one that throws has failed (and `onError` hears
   * of it). `describe` names an input for the list.
   */
  constructor(
    private readonly run: (input: T) => Promise<JobResult | void>,
    private readonly onError: (err: unknown, input: T) => void = () => {},
    private readonly describe: (input: T) => string = String,
  ) {}

  /** Every item, in order, as copies (changing them changes nothing). */
  get items(): QueueItem<T>[] {
    return this.list.map((item) => ({ ...item }));
  }

  /** Jobs waiting (not counting the one running), held ones included. */
  get pending(): number {
    return this.list.filter((i) => i.state === 'waiting').length;
  }

  /** Waiting jobs restored from last time, which wait for Resume. */
  get held(): number {
    return this.list.filter((i) => i.state === 'waiting' && i.held).length;
  }

  /** A job is running (the queue may be paused: then it is the last one before the pause). */
  get busy(): boolean {
    return this.running;
  }

  /** Paused by the reader: no next job starts until resume(). */
  get paused(): boolean {
    return this.stopped;
  }

  /** Told after every change: an item added, started, ended, moved or removed; pause, resume. */
  subscribe(listener: QueueListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Queues jobs; they run after those waiting now (but ahead of the ones held from last time). */
  push(...inputs: T[]): void {
    if (inputs.length === 0) return;
    this.insertWaiting(inputs.map((input) => this.newItem(input)));
    this.notify();
    this.kick();
  }

  /** No next job starts (the running one finishes) until resume(). */
  pause(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.notify();
  }

  /** Starts the waiting jobs again, the ones held from last time included. */
  resume(): void {
    const held = this.list.filter((i) => i.held);
    if (!this.stopped && held.length === 0) return;
    this.stopped = false;
    for (const item of held) item.held = false;
    this.notify();
    this.kick();
  }

  /**
   * Moves a waiting job one place earlier (-1) or later (+1) among the waiting ones; returns
   * whether it moved.
   */
  move(id: number, by: -1 | 1): boolean {
    const from = this.list.findIndex((i) => i.id === id);
    if (from < 0 || this.list[from].state !== 'waiting') return false;
    let to = from + by;
    while (to >= 0 && to < this.list.length && this.list[to].state !== 'waiting') to += by;
    if (to < 0 || to >= this.list.length) return false;
    [this.list[from], this.list[to]] = [this.list[to], this.list[from]];
    this.notify();
    return true;
  }

  /** Whether a waiting job can move one place earlier (-1) or later (+1). */
  canMove(id: number, by: -1 | 1): boolean {
    const from = this.list.findIndex((i) => i.id === id);
    if (from < 0 || this.list[from].state !== 'waiting') return false;
    for (let to = from + by; to >= 0 && to < this.list.length; to += by) {
      if (this.list[to].state === 'waiting') return true;
    }
    return false;
  }

  /** Takes a job off the list (not the running one: Cancel stops that); returns whether it did. */
  remove(id: number): boolean {
    const i = this.list.findIndex((item) => item.id === id);
    if (i < 0 || this.list[i].state === 'running') return false;
    this.list.splice(i, 1);
    this.notify();
    return true;
  }

  /** Puts a failed or cancelled job back to waiting, after the others; returns whether it did. */
  retry(id: number): boolean {
    const i = this.list.findIndex((item) => item.id === id);
    const item = this.list[i];
    if (!item || (item.state !== 'failed' && item.state !== 'cancelled')) return false;
    this.list.splice(i, 1);
    Object.assign(item, { state: 'waiting', error: null, historyId: null, held: false });
    this.insertWaiting([item]);
    this.notify();
    this.kick();
    return true;
  }

  /** Drops the done, failed and cancelled jobs; returns how many. */
  clearFinished(): number {
    return this.dropWhere((i) => isFinished(i.state));
  }

  /** Drops the waiting jobs (not the running one); returns how many. */
  clearWaiting(): number {
    return this.dropWhere((i) => i.state === 'waiting');
  }

  /** Marks the waiting jobs cancelled (they stay listed, and can be retried); returns how many. */
  cancelWaiting(): number {
    const waiting = this.list.filter((i) => i.state === 'waiting');
    for (const item of waiting) Object.assign(item, { state: 'cancelled', held: false });
    if (waiting.length) this.notify();
    return waiting.length;
  }

  /** What is worth keeping between runs. */
  snapshot(): SavedQueue<T> {
    return {
      paused: this.stopped,
      items: this.list.map(({ input, state, error, historyId }) => ({
        input,
        state,
        error,
        historyId,
      })),
    };
  }

  /**
   * Puts a saved queue back, ahead of anything queued meanwhile. A job that was running when the
   * app closed did not finish: it waits again. The waiting jobs are held until resume() (a queue
   * saved paused comes back paused: then everything waits, in order, and nothing is held).
   */
  restore(saved: SavedQueue<T>): void {
    const pausing = saved.paused || this.stopped;
    const restored = saved.items.map((s) => {
      const item = this.newItem(s.input);
      const state = s.state === 'running' ? 'waiting' : s.state;
      item.state = state;
      item.held = state === 'waiting' && !pausing;
      if (state === 'failed') item.error = s.error ?? '';
      if (state === 'done') item.historyId = s.historyId;
      return item;
    });
    if (restored.length === 0 && !saved.paused) return;
    this.list = [...restored, ...this.list];
    this.stopped = pausing;
    this.notify();
  }

  /** Resolves once the queue stops: every startable job has run, or it was paused. */
  idle(): Promise<void> {
    return this.drained;
  }

  private newItem(input: T): QueueItem<T> {
    return {
      id: this.nextId++,
      input,
      name: this.describe(input),
      state: 'waiting',
      error: null,
      historyId: null,
      held: false,
    };
  }

  /** Adds jobs after the last waiting one not held (so they come before the held ones). */
  private insertWaiting(items: QueueItem<T>[]): void {
    const firstHeld = this.list.findIndex((i) => i.state === 'waiting' && i.held);
    if (firstHeld < 0) this.list.push(...items);
    else this.list.splice(firstHeld, 0, ...items);
  }

  private dropWhere(drop: (item: QueueItem<T>) => boolean): number {
    const before = this.list.length;
    this.list = this.list.filter((i) => !drop(i));
    const n = before - this.list.length;
    if (n) this.notify();
    return n;
  }

  private next(): QueueItem<T> | undefined {
    if (this.stopped) return undefined;
    return this.list.find((i) => i.state === 'waiting' && !i.held);
  }

  private kick(): void {
    if (!this.running && this.next()) this.drained = this.drain();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        item.state = 'running';
        this.notify();
        let result: JobResult;
        try {
          result = (await this.run(item.input)) ?? { state: 'done', historyId: null };
        } catch (err) {
          this.onError(err, item.input);
          result = { state: 'failed', error: errorText(err) };
        }
        item.state = result.state;
        item.error = result.state === 'failed' ? result.error : null;
        item.historyId = result.state === 'done' ? result.historyId : null;
        this.notify();
      }
    } finally {
      this.running = false;
      this.notify();
    }
  }
}

/** How the queue lists an article: its file's name, a pasted text's first words, its title. */
export function inputName(input: Input): string {
  if (input.kind === 'file') {
    const parts = input.path.split(/[\\/]/);
    return parts[parts.length - 1] || input.path;
  }
  if (input.kind === 'document') return input.document.title || input.document.source_name;
  return `Pasted text: ${firstWords(input.text)}`;
}

const NAME_WORDS = 8;
const NAME_CHARS = 48;

/** The start of a text, cut at a word within NAME_WORDS words and NAME_CHARS characters. */
function firstWords(text: string): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  let shown = '';
  for (const word of words.slice(0, NAME_WORDS)) {
    const next = shown ? `${shown} ${word}` : word;
    if (next.length > NAME_CHARS) {
      // A text in a language without spaces is one long "word": cut it by characters.
      if (!shown) shown = [...word].slice(0, NAME_CHARS).join('');
      break;
    }
    shown = next;
  }
  return shown.length < words.join(' ').length ? `${shown}…` : shown;
}
