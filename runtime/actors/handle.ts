import type { CallResult, CastResult, HostRef } from './comedy.js';
import { withTimeout } from '../core/promises.js';
import { ActorUnavailableError, AskTimeoutError, RemoteActorError } from './errors.js';
import type { ActorHandle, AskArgs, HandleStatus, MsgArgs, MsgOf, Protocol, ReplyOf } from './protocol.js';

/** The supervisor's side of a handle: it points the handle at each new incarnation of the actor. */
export class HandleSlot<P extends Protocol<P>> implements ActorHandle<P> {
  private target: HostRef | undefined;
  private current: HandleStatus = 'starting';
  private listeners: Set<(status: HandleStatus) => void> | undefined;

  constructor(
    readonly name: string,
    private readonly askTimeoutMs: number,
  ) {}

  get status(): HandleStatus {
    return this.current;
  }

  attach(target: HostRef): void {
    this.target = target;
    this.become('running');
  }

  detach(status: Exclude<HandleStatus, 'running'>): void {
    this.target = undefined;
    this.become(status);
  }

  onStatus(listener: (status: HandleStatus) => void): () => void {
    (this.listeners ??= new Set()).add(listener);
    return () => void this.listeners?.delete(listener);
  }

  whenRunning(timeoutMs: number): Promise<void> {
    if (this.current === 'running') return Promise.resolve();
    if (this.current === 'stopped') return Promise.reject(new ActorUnavailableError(this.name, 'stopped'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ActorUnavailableError(this.name, `${this.current} for more than ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onStatus((status) => {
        if (status !== 'running' && status !== 'stopped') return;
        off();
        clearTimeout(timer);
        if (status === 'running') resolve();
        else reject(new ActorUnavailableError(this.name, 'stopped'));
      });
    });
  }

  ask<K extends keyof P & string>(topic: K, ...args: AskArgs<MsgOf<P, K>>): Promise<ReplyOf<P, K>> {
    const [msg, options] = args;
    const target = this.target;
    if (target === undefined || this.current !== 'running') return Promise.reject(new ActorUnavailableError(this.name, this.current));
    let answer: Promise<CallResult> | CallResult;
    try {
      answer = target.call(topic, msg, options?.lane);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // An in-memory actor with a synchronous handler has answered already: no timer, no extra promise.
    if (!(answer instanceof Promise)) return this.settled(answer, target);
    const timeoutMs = options?.timeoutMs ?? this.askTimeoutMs;
    return withTimeout(answer, timeoutMs, () => new AskTimeoutError(this.name, topic, timeoutMs)).then((result) => this.settled(result, target));
  }

  tell<K extends keyof P & string>(topic: K, ...args: MsgArgs<MsgOf<P, K>>): Promise<void> {
    const target = this.target;
    if (target === undefined || this.current !== 'running') return Promise.reject(new ActorUnavailableError(this.name, this.current));
    let answer: Promise<CastResult> | CastResult;
    try {
      answer = target.cast(topic, args[0]);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (!(answer instanceof Promise)) return this.accepted(answer);
    return withTimeout(answer, this.askTimeoutMs, () => new AskTimeoutError(this.name, topic, this.askTimeoutMs)).then((result) => this.accepted(result));
  }

  private settled<R>(result: CallResult, target: HostRef): Promise<R> {
    if (result.ok) return Promise.resolve(result.value as R);
    // The caller saw this incarnation crash: from now on the handle says so, before the supervisor gets to it.
    if (result.crashed && this.target === target) this.detach('restarting');
    return Promise.reject(new RemoteActorError(this.name, result.error));
  }

  private accepted(result: CastResult): Promise<void> {
    return result.accepted ? Promise.resolve() : Promise.reject(new ActorUnavailableError(this.name, result.state));
  }

  private become(status: HandleStatus): void {
    this.current = status;
    if (this.listeners === undefined) return;
    for (const listener of [...this.listeners]) listener(status);
  }
}
