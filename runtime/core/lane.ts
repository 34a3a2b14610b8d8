/**
 * One serial lane: jobs run one at a time, in arrival order, whether they resolve or reject. An idle lane runs a job
 * at once, in the caller's tick, and a synchronous result comes back as a plain value: the hot path of an in-memory
 * ask allocates no promise here.
 */
export class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  pending = 0;

  /** `settled` hears of each job that ended, once the lane counts it out. */
  constructor(private readonly settled: (lane: Lane) => void = () => undefined) {}

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

  private settle(): void {
    this.pending -= 1;
    this.settled(this);
  }
}
