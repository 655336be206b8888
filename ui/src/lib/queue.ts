// A FIFO of jobs run one after another. A job that throws does not stop the ones after it.

export type QueueListener = (pending: number, busy: boolean) => void;

export class JobQueue<T> {
  private items: T[] = [];
  private running = false;
  private drained: Promise<void> = Promise.resolve();
  private listeners = new Set<QueueListener>();

  constructor(
    private readonly run: (item: T) => Promise<void>,
    private readonly onError: (err: unknown, item: T) => void = () => {},
  ) {}

  /** Jobs waiting (not counting the one running). */
  get pending(): number {
    return this.items.length;
  }

  get busy(): boolean {
    return this.running;
  }

  subscribe(listener: QueueListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  push(...items: T[]): void {
    if (items.length === 0) return;
    this.items.push(...items);
    this.notify();
    if (!this.running) this.drained = this.drain();
  }

  /** Drops the waiting jobs (not the running one); returns how many were dropped. */
  clear(): number {
    const n = this.items.length;
    this.items = [];
    if (n) this.notify();
    return n;
  }

  /** Resolves once every job queued so far has finished. */
  idle(): Promise<void> {
    return this.drained;
  }

  private notify(): void {
    for (const l of this.listeners) l(this.items.length, this.running);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.items.length > 0) {
        const item = this.items.shift() as T;
        this.notify();
        try {
          await this.run(item);
        } catch (err) {
          this.onError(err, item);
        }
      }
    } finally {
      this.running = false;
      this.notify();
    }
  }
}
