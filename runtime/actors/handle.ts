import type { HostRef } from './comedy.js';
import { ActorCrashedError, ActorUnavailableError, AskTimeoutError, RemoteActorError } from './errors.js';
import type { ActorHandle, AskArgs, HandleStatus, MsgArgs, MsgOf, Protocol, ReplyOf } from './protocol.js';
import { withTimeout } from '../core/promises.js';

const isComedyCrash = (err: unknown): boolean => err instanceof Error && /^Actor crashed/.test(err.message);

/** The supervisor's side of a handle: it points the handle at each new incarnation of the actor. */
export class HandleSlot<P extends Protocol<P>> implements ActorHandle<P> {
  private target: HostRef | undefined;
  private current: HandleStatus = 'starting';

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

  async ask<K extends keyof P & string>(topic: K, ...args: AskArgs<MsgOf<P, K>>): Promise<ReplyOf<P, K>> {
    const [msg, options] = args;
    const target = this.running();
    const timeoutMs = options?.timeoutMs ?? this.askTimeoutMs;
    const result = await withTimeout(target.call(topic, msg), timeoutMs, () => new AskTimeoutError(this.name, topic, timeoutMs)).catch(
      (err: unknown) => {
        throw isComedyCrash(err) ? new ActorCrashedError(this.name, 'its process exited', { cause: err }) : err;
      },
    );
    if (result.ok) return result.value as ReplyOf<P, K>;
    throw new RemoteActorError(this.name, result.error);
  }

  async tell<K extends keyof P & string>(topic: K, ...args: MsgArgs<MsgOf<P, K>>): Promise<void> {
    const target = this.running();
    const result = await withTimeout(target.cast(topic, args[0]), this.askTimeoutMs, () => new AskTimeoutError(this.name, topic, this.askTimeoutMs));
    if (!result.accepted) throw new ActorUnavailableError(this.name, result.state);
  }

  private running(): HostRef {
    if (this.target === undefined || this.current !== 'running') throw new ActorUnavailableError(this.name, this.current);
    return this.target;
  }
}
