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

  run<T>(job: () => Promise<T> | T): Promise<T> {
    this.pending += 1;
    const result = this.tail.then(job, job).finally(() => this.settle());
    this.tail = result.catch(() => undefined);
    return result;
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
