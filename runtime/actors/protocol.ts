import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import type { Transport } from '../messaging/transport.js';
import type { ActorChildSpec, SupervisorSpec } from './supervisor-spec.js';

/**
 * An actor's protocol: for each topic, the message it takes and the reply it gives.
 * `{ add: { msg: number; reply: number }; reset: { msg: void; reply: void } }`
 */
export type Protocol<P> = { [K in keyof P]: { msg: unknown; reply: unknown } };

export type MsgOf<P extends Protocol<P>, K extends keyof P> = P[K]['msg'];
export type ReplyOf<P extends Protocol<P>, K extends keyof P> = P[K]['reply'];

/** The handler for each topic. Messages and replies are plain JSON data (they may cross a process boundary). */
export type Handlers<P extends Protocol<P>> = {
  [K in keyof P]: (msg: MsgOf<P, K>) => Promise<ReplyOf<P, K>> | ReplyOf<P, K>;
};

/** What a behaviour module builds: its handlers, and what to do when the actor stops. */
export interface Behaviour<P extends Protocol<P>> {
  readonly handlers: Handlers<P>;
  /** Called once when the actor stops, on shutdown or before a restart. */
  stop?(): Promise<void> | void;
}

/** What the runtime gives a behaviour, in the process that runs it. */
export interface ActorContext<A> {
  readonly name: string;
  readonly args: A;
  readonly log: Logger;
  /** This process's messaging (publish, request, consume). */
  readonly transport: Transport;
  /** Starts a supervisor whose children live in this actor's process; if it gives up, this actor crashes. */
  supervise(spec: SupervisorSpec): Promise<SupervisorRef>;
  /** Stops this actor normally: a transient child is then not restarted. */
  exit(): void;
  /** Crashes this actor from outside a handler (a timer, a connection): its supervisor decides what happens next. */
  fail(error: Error): void;
}

export type BehaviourFactory<P extends Protocol<P>, A> = (ctx: ActorContext<A>) => Behaviour<P> | Promise<Behaviour<P>>;

/** A behaviour module: the file the host loads (by path, in whichever process runs it) and its factory. */
export interface ActorDef<P extends Protocol<P>, A> {
  readonly module: string;
  readonly create: BehaviourFactory<P, A>;
}

/**
 * Declares a behaviour module. Call it as the module's default export with `import.meta.url`, so the host can load
 * the same file in a forked process:
 * `export default defineActor<CounterProtocol, CounterArgs>(import.meta.url, (ctx) => ({ handlers: {...} }))`.
 */
export function defineActor<P extends Protocol<P>, A = undefined>(
  moduleUrl: string,
  create: BehaviourFactory<P, A>,
): ActorDef<P, A> {
  return { module: fileURLToPath(moduleUrl), create };
}

/** The message argument of `tell`: a topic whose message is `void` takes none. */
export type MsgArgs<M> = [M] extends [void] ? [msg?: undefined] : [msg: M];

export interface AskOptions {
  readonly timeoutMs?: number;
}

/** The arguments of `ask`: the message (none for `void`), then options. */
export type AskArgs<M> = [M] extends [void] ? [msg?: undefined, options?: AskOptions] : [msg: M, options?: AskOptions];

export type HandleStatus = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

/**
 * A stable reference to a supervised actor: it stays valid across restarts. While the actor is not running,
 * asks and tells reject at once with ActorUnavailable (retryable); they never hang, and every ask has a timeout.
 */
export interface ActorHandle<P extends Protocol<P>> {
  readonly name: string;
  readonly status: HandleStatus;
  ask<K extends keyof P & string>(topic: K, ...args: AskArgs<MsgOf<P, K>>): Promise<ReplyOf<P, K>>;
  /** Resolves once the message is in the actor's mailbox; the handler's failure is the actor's crash, not the caller's. */
  tell<K extends keyof P & string>(topic: K, ...args: MsgArgs<MsgOf<P, K>>): Promise<void>;
}

/** A child spec whose behaviour module carries its protocol and argument types. */
export type TypedChildSpec<P extends Protocol<P>, A> = Omit<ActorChildSpec<A>, 'actor'> & { readonly actor: ActorDef<P, A> };

export interface ChildInfo {
  readonly name: string;
  readonly kind: 'actor' | 'supervisor';
  readonly status: 'running' | 'down';
  readonly restarts: number;
  readonly pid?: number;
  readonly children?: readonly ChildInfo[];
}

/** A running supervisor, as seen by its owner. */
export interface SupervisorRef {
  readonly name: string;
  startChild<P extends Protocol<P>, A>(spec: TypedChildSpec<P, A>): Promise<ActorHandle<P>>;
  terminateChild(name: string): Promise<void>;
  /** The handle of a child started from the spec, typed by its behaviour module. */
  handle<P extends Protocol<P>>(name: string, actor: ActorDef<P, never>): ActorHandle<P>;
  /** The handle of a child, untyped: for runtime plumbing (queue routing), not for components. */
  untypedHandle(name: string): ActorHandle<Record<string, { msg: unknown; reply: unknown }>>;
  /** A child supervisor started from the spec. */
  supervisor(name: string): SupervisorRef;
  children(): ChildInfo[];
}
