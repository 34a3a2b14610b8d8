/**
 * A serial mailbox: jobs run one at a time, in arrival order, whether they resolve or reject.
 * comedy runs handlers concurrently (comedy-notes §1.5); every actor puts its handlers behind one of these.
 */
export class Mailbox {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  /** Jobs queued or running. */
  get depth(): number {
    return this.pending;
  }

  /**
   * Queues `job`. An idle mailbox runs it at once, in the caller's tick, and a synchronous result comes back as a
   * plain value: the hot path of an in-memory ask allocates no promise here.
   */
  run<T>(job: () => Promise<T> | T): Promise<T> | T {
    this.pending += 1;
    let started: Promise<T>;
    if (this.pending === 1) {
      let result: Promise<T> | T;
      try {
        result = job();
      } catch (err) {
        this.settle();
        return Promise.reject(err as Error);
      }
      if (!(result instanceof Promise)) {
        this.settle();
        return result;
      }
      started = result;
    } else {
      started = this.tail.then(job, job);
    }
    const finished = started.then(
      (value) => {
        this.settle();
        return value;
      },
      (err: unknown) => {
        this.settle();
        throw err;
      },
    );
    this.tail = finished.catch(() => undefined);
    return finished;
  }

  /** Resolves when every job queued so far has finished, or after `deadlineMs`; true when it drained. */
  async drain(deadlineMs: number): Promise<boolean> {
    if (this.pending === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)));
    try {
      return await Promise.race([idle, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private settle(): void {
    this.pending -= 1;
    if (this.pending > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
