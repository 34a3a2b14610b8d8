import { LRUCache } from 'lru-cache';

/**
 * Work done once per key in this process (issue 14: at-least-once delivery, effects once). A copy that arrives while
 * the work of its key is in flight waits for that work instead of starting it again; once the work has ended in an
 * outcome `keep` accepts, later copies get that outcome without running anything, for `ttlMs` and among the newest
 * `max` keys. An outcome `keep` refuses (and a thrown error) is forgotten, so the next copy runs the work again.
 *
 * What it cannot do: remember across a restart of the process. Each user says what covers that case.
 */
export interface OnceOptions<T> {
  readonly max: number;
  readonly ttlMs: number;
  /** Whether an outcome settles its key for good; every outcome does by default. */
  readonly keep?: (outcome: T) => boolean;
}

/** An outcome, and whether this call ran the work (`fresh`) or joined or repeated a run of another copy. */
export interface OnceOutcome<T> {
  readonly outcome: T;
  readonly fresh: boolean;
}

export class Once<T extends {}> {
  readonly #running = new Map<string, Promise<T>>();
  readonly #done: LRUCache<string, T>;
  readonly #keep: (outcome: T) => boolean;

  constructor(opts: OnceOptions<T>) {
    this.#done = new LRUCache<string, T>({ max: opts.max, ttl: opts.ttlMs });
    this.#keep = opts.keep ?? (() => true);
  }

  async run(key: string, work: () => Promise<T>): Promise<OnceOutcome<T>> {
    const done = this.#done.get(key);
    if (done !== undefined) return { outcome: done, fresh: false };
    const running = this.#running.get(key);
    if (running !== undefined) return { outcome: await running, fresh: false };
    const started = work().then((outcome) => {
      if (this.#keep(outcome)) this.#done.set(key, outcome);
      return outcome;
    });
    this.#running.set(key, started);
    try {
      return { outcome: await started, fresh: true };
    } finally {
      this.#running.delete(key);
    }
  }
}
