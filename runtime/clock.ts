/**
 * Time as the actor runtime sees it: what the time is, and a way to be called back later. Actors never call
 * setTimeout themselves (design §11, timers are messages): `ctx.sendAfter` goes through the process's clock, so a
 * test can hand the tree a ManualClock and move time by hand, with no sleep as synchronisation.
 */
export interface Clock {
  now(): number;
  /** Calls `fire` once, `delayMs` from now; the returned function cancels it (a no-op once fired). */
  schedule(delayMs: number, fire: () => void): () => void;
}

/** setTimeout's longest wait; a later one is reached in steps of this length. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock. Timers are unref'd: a pending timer never keeps a process alive that has nothing else to do. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fire) {
    const dueAt = Date.now() + Math.max(delayMs, 0);
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const left = dueAt - Date.now();
      timer = setTimeout(left > MAX_TIMER_MS ? arm : fire, Math.min(Math.max(left, 0), MAX_TIMER_MS));
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};

interface Pending {
  readonly dueAt: number;
  readonly seq: number;
  readonly fire: () => void;
}

/**
 * A clock that moves only when told: `advance(ms)` fires, in due order, every timer due within that time, each with
 * `now()` at its due time, including timers scheduled by the ones that fire. For tests.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly pending = new Set<Pending>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, fire: () => void): () => void {
    const entry: Pending = { dueAt: this.current + Math.max(delayMs, 0), seq: this.seq++, fire };
    this.pending.add(entry);
    return () => void this.pending.delete(entry);
  }

  /** Timers waiting to fire. */
  get scheduled(): number {
    return this.pending.size;
  }

  /** When the next timer is due, if any. */
  get nextDueAt(): number | undefined {
    return this.next()?.dueAt;
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (let due = this.next(); due !== undefined && due.dueAt <= until; due = this.next()) {
      this.pending.delete(due);
      this.current = Math.max(this.current, due.dueAt);
      due.fire();
    }
    this.current = until;
  }

  private next(): Pending | undefined {
    let first: Pending | undefined;
    for (const p of this.pending) if (first === undefined || p.dueAt < first.dueAt || (p.dueAt === first.dueAt && p.seq < first.seq)) first = p;
    return first;
  }
}
