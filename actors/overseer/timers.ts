/**
 * The Overseer's clock-driven work (reference §8: its loops slept between passes; here timers start the passes and no
 * handler ever waits). A pass still running when its next tick comes skips that tick; a failed pass is logged and
 * the next tick tries again; `stop` clears every timer and waits for the passes in flight.
 */
import type { Logger } from '../../runtime/logger.js';

export class Timers {
  private readonly handles = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  /** Runs `task` once after `delayMs`; returns a cancel function. */
  after(delayMs: number, what: string, task: () => Promise<void>): () => void {
    if (this.stopped) return () => undefined;
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      this.run(what, task);
    }, delayMs);
    this.handles.add(handle);
    return () => {
      clearTimeout(handle);
      this.handles.delete(handle);
    };
  }

  /** Runs `task` every `periodMs` (and at once when `immediately`), never two at a time. */
  every(periodMs: number, what: string, task: () => Promise<void>, opts: { immediately?: boolean } = {}): void {
    let current: Promise<void> | undefined;
    const tick = (): void => {
      if (current !== undefined) {
        this.log.debug({ what, periodMs }, 'previous pass still running; skipping this one');
        return;
      }
      current = this.run(what, task).finally(() => (current = undefined));
    };
    const handle = setInterval(tick, periodMs);
    this.handles.add(handle);
    if (opts.immediately === true) tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
    await Promise.allSettled([...this.running]);
  }

  private run(what: string, task: () => Promise<void>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // A pass that fails is logged and retried by the next tick: the Overseer's duties outlive any one Manager hiccup.
    const done = task().catch((err: unknown) => this.log.warn({ err, what }, 'overseer pass failed; the next one tries again'));
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return done;
  }
}

/** Runs tasks of the same key one after another, tasks of different keys side by side. */
export function serialByKey(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    tails.set(key, tail);
    void tail.finally(() => tails.get(key) === tail && tails.delete(key));
    return next;
  };
}
