import type { HostRef } from './comedy.js';
import { ActorCrashedError, ActorUnavailableError, AskTimeoutError, RemoteActorError } from './errors.js';
import type { ActorHandle, AskArgs, HandleStatus, MsgArgs, MsgOf, Protocol, ReplyOf } from './protocol.js';

const isComedyCrash = (err: unknown): boolean => err instanceof Error && /^Actor crashed/.test(err.message);

/** How often pending asks are checked against their deadlines: one timer per handle, not one per ask. */
const SWEEP_MS = 20;

interface Waiter {
  readonly deadline: number;
  readonly expire: () => void;
}

/** The supervisor's side of a handle: it points the handle at each new incarnation of the actor. */
export class HandleSlot<P extends Protocol<P>> implements ActorHandle<P> {
  private target: HostRef | undefined;
  private current: HandleStatus = 'starting';
  private readonly waiting = new Set<Waiter>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly askTimeoutMs: number,
  ) {}

  get status(): HandleStatus {
    return this.current;
  }

  attach(target: HostRef): void {
    this.target = target;
    this.current = 'running';
  }

  detach(status: Exclude<HandleStatus, 'running'>): void {
    this.target = undefined;
    this.current = status;
  }

  ask<K extends keyof P & string>(topic: K, ...args: AskArgs<MsgOf<P, K>>): Promise<ReplyOf<P, K>> {
    const [msg, options] = args;
    const timeoutMs = options?.timeoutMs ?? this.askTimeoutMs;
    return this.deliver(topic, timeoutMs, (target) => target.call(topic, msg), (result, target) => {
      if (result.ok) return result.value as ReplyOf<P, K>;
      // The caller saw this incarnation crash: from now on the handle says so, before the supervisor gets to it.
      if (result.crashed && this.target === target) this.detach('restarting');
      throw new RemoteActorError(this.name, result.error);
    });
  }

  tell<K extends keyof P & string>(topic: K, ...args: MsgArgs<MsgOf<P, K>>): Promise<void> {
    return this.deliver(topic, this.askTimeoutMs, (target) => target.cast(topic, args[0]), (result) => {
      if (!result.accepted) throw new ActorUnavailableError(this.name, result.state);
    });
  }

  /**
   * Sends to the running incarnation and maps its answer with `accept` (which may throw). Rejects at once when no
   * incarnation runs, and with AskTimeout after `timeoutMs` without an answer.
   */
  private deliver<R, T>(topic: string, timeoutMs: number, send: (target: HostRef) => Promise<R>, accept: (answer: R, target: HostRef) => T): Promise<T> {
    const target = this.target;
    if (target === undefined || this.current !== 'running') return Promise.reject(new ActorUnavailableError(this.name, this.current));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        deadline: Date.now() + timeoutMs,
        expire: () => reject(new AskTimeoutError(this.name, topic, timeoutMs)),
      };
      this.watch(waiter);
      send(target).then(
        (answer) => {
          this.waiting.delete(waiter);
          try {
            resolve(accept(answer, target));
          } catch (err) {
            reject(err);
          }
        },
        (err: unknown) => {
          this.waiting.delete(waiter);
          reject(isComedyCrash(err) ? new ActorCrashedError(this.name, 'its process exited', { cause: err }) : err);
        },
      );
    });
  }

  private watch(waiter: Waiter): void {
    this.waiting.add(waiter);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
  }

  private sweep(): void {
    const now = Date.now();
    for (const waiter of this.waiting) {
      if (waiter.deadline > now) continue;
      this.waiting.delete(waiter);
      waiter.expire();
    }
    if (this.waiting.size > 0) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
