import { Lane } from '../core/lane.js';

/**
 * An actor's mailbox (comedy runs handlers concurrently, comedy-notes §1.5). Messages without a lane share the main
 * lane and run one at a time, in arrival order: asks, tells, timers. A message with a lane (intake declared as
 * `perKey` or `parallel`, runtime/messaging/intake.ts) runs one at a time with the others of its lane, beside the
 * other lanes: the concurrency a component declares is the concurrency its actor sees.
 */
export class Mailbox {
  private readonly main = new Lane(() => this.settled());
  private readonly lanes = new Map<string, Lane>();
  private idleWaiters: Array<() => void> = [];
  private pending = 0;

  /** Jobs queued or running, in every lane. */
  get depth(): number {
    return this.pending;
  }

  /** Queues `job` in `lane` (the main lane when absent). */
  run<T>(job: () => Promise<T> | T, lane?: string): Promise<T> | T {
    this.pending += 1;
    if (lane === undefined) return this.main.run(job);
    let queue = this.lanes.get(lane);
    if (queue === undefined) {
      const created = new Lane((l) => {
        if (l.pending === 0) this.lanes.delete(lane);
        this.settled();
      });
      this.lanes.set(lane, created);
      queue = created;
    }
    return queue.run(job);
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

  private settled(): void {
    this.pending -= 1;
    if (this.pending > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
