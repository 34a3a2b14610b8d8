import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import type { Messaging } from '../messaging/transport.js';
import type { ProcessMetrics } from '../metrics/process-metrics.js';
import type { ActorChildSpec, ActorMode, SupervisorSpec, Watchdog } from './supervisor-spec.js';
import type { Backoff, Intensity, RestartType } from './core/restart-policy.js';

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

/**
 * The messages an actor sends only to itself (OTP's handle_info): timers and continuations, by topic. Nobody else
 * can reach these topics; they have no reply. `{ tick: { round: number } }`
 */
export type InfoProtocol<I> = { [K in keyof I]: unknown };
export type NoInfo = Record<never, never>;

export type InfoHandlers<I extends InfoProtocol<I>> = { [K in keyof I]: (msg: I[K]) => Promise<void> | void };

/** What a behaviour module builds: its handlers, its info handlers, and what to do when the actor stops. */
export interface Behaviour<P extends Protocol<P>, I extends InfoProtocol<I> = NoInfo> {
  readonly handlers: Handlers<P>;
  /** Handlers of the messages the actor sends itself (`ctx.self.tell`, `ctx.sendAfter`); one that throws crashes it. */
  readonly info?: InfoHandlers<I>;
  /** Called once when the actor stops, on shutdown or before a restart; its pending timers are cancelled first. */
  stop?(): Promise<void> | void;
}

/** Where a message to oneself runs: the main lane by default, or a named lane beside it (mailbox.ts). */
export interface SelfSendOptions {
  readonly lane?: string;
}

/** A pending `sendAfter`. */
export interface Timer {
  /** The message is not delivered if it was not yet; a no-op after. */
  cancel(): void;
}

/** The actor itself, as it may address itself. */
export interface SelfRef<I extends InfoProtocol<I>> {
  readonly name: string;
  /** Queues `msg` for the info handler of `topic`, behind what the lane holds already. */
  tell<K extends keyof I & string>(topic: K, msg: I[K], options?: SelfSendOptions): void;
}

/** What the runtime gives a behaviour, in the process that runs it. */
export interface ActorContext<A, I extends InfoProtocol<I> = NoInfo, C = undefined> {
  readonly name: string;
  /** Plain data, as the spec gave it (it may have crossed a process boundary). */
  readonly args: A;
  /**
   * What the parent supervisor provides its in-memory children in their own process (ports, shared clients): never
   * in `args`, never across a process boundary (supervisor-spec.ts, DynamicSupervisorSpec).
   */
  readonly capabilities: C;
  readonly log: Logger;
  /** This process's messaging: publish and request. Queues reach an actor only through its intake declarations. */
  readonly transport: Messaging;
  /** The process's metrics registry; absent in a forked actor and in trees started without one (tests). */
  readonly metrics: ProcessMetrics | undefined;
  readonly self: SelfRef<I>;
  /** The time, on the process's clock (a test may give the tree a ManualClock). */
  now(): number;
  /** Delivers `msg` to the info handler of `topic` after `delayMs`, through the mailbox; cancelled if the actor stops. */
  sendAfter<K extends keyof I & string>(delayMs: number, topic: K, msg: I[K], options?: SelfSendOptions): Timer;
  /** Starts a supervisor whose children live in this actor's process; if it gives up, this actor crashes. */
  supervise(spec: SupervisorSpec): Promise<SupervisorRef>;
  /** Starts a dynamic supervisor (OTP simple_one_for_one): many children of one spec, found by id in O(1). */
  superviseDynamic<P extends Protocol<P>, CA, CC>(spec: DynamicSupervisorSpec<P, CA, CC>): Promise<DynamicSupervisorRef<P, CA>>;
  /** Stops this actor normally: a transient child is then not restarted. */
  exit(): void;
  /** Crashes this actor from outside a handler (a connection): its supervisor decides what happens next. */
  fail(error: Error): void;
}

export type BehaviourFactory<P extends Protocol<P>, A, I extends InfoProtocol<I> = NoInfo, C = undefined> = (
  ctx: ActorContext<A, I, C>,
) => Behaviour<P, I> | Promise<Behaviour<P, I>>;

/** A behaviour module: the file the host loads (by path, in whichever process runs it) and its factory. */
export interface ActorDef<P extends Protocol<P>, A, C = undefined> {
  readonly module: string;
  /** The runtime calls it with the context of the actor's own info protocol; callers see only P, A and C. */
  readonly create: BehaviourFactory<P, A, never, C>;
}

/**
 * Declares a behaviour module. Call it as the module's default export with `import.meta.url`, so the host can load
 * the same file in a forked process:
 * `export default defineActor<CounterProtocol, CounterArgs>(import.meta.url, (ctx) => ({ handlers: {...} }))`.
 */
export function defineActor<P extends Protocol<P>, A = undefined, I extends InfoProtocol<I> = NoInfo, C = undefined>(
  moduleUrl: string,
  create: BehaviourFactory<P, A, I, C>,
): ActorDef<P, A, C> {
  return { module: fileURLToPath(moduleUrl), create: create as unknown as BehaviourFactory<P, A, never, C> };
}

/** The message argument of `tell`: a topic whose message is `void` takes none. */
export type MsgArgs<M> = [M] extends [void] ? [msg?: undefined] : [msg: M];

export interface AskOptions {
  readonly timeoutMs?: number;
  /** The mailbox lane the message runs in (intake's `perKey`/`parallel`); the main lane when absent. */
  readonly lane?: string;
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
  /** Calls `listener` on every change of status until the returned function is called (a monitor, no polling). */
  onStatus(listener: (status: HandleStatus) => void): () => void;
  /** Resolves once the actor runs (at once if it does); rejects if it stops for good or `timeoutMs` pass first. */
  whenRunning(timeoutMs: number): Promise<void>;
  ask<K extends keyof P & string>(topic: K, ...args: AskArgs<MsgOf<P, K>>): Promise<ReplyOf<P, K>>;
  /** Resolves once the message is in the actor's mailbox; the handler's failure is the actor's crash, not the caller's. */
  tell<K extends keyof P & string>(topic: K, ...args: MsgArgs<MsgOf<P, K>>): Promise<void>;
}

/** A child spec whose behaviour module carries its protocol and argument types. */
export type TypedChildSpec<P extends Protocol<P>, A> = Omit<ActorChildSpec<A>, 'actor'> & { readonly actor: ActorDef<P, A, undefined> };

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
  handle<P extends Protocol<P>>(name: string, actor: ActorDef<P, never, never>): ActorHandle<P>;
  /** The handle of a child, untyped: for runtime plumbing (queue routing), not for components. */
  untypedHandle(name: string): ActorHandle<Record<string, { msg: unknown; reply: unknown }>>;
  /** A child supervisor started from the spec. */
  supervisor(name: string): SupervisorRef;
  children(): ChildInfo[];
}

/** A running dynamic supervisor: children of its one spec, each under its own id. */
export interface DynamicSupervisorRef<P extends Protocol<P>, A> {
  readonly name: string;
  /** Children running or starting. */
  readonly size: number;
  /** The child `id`, if it runs or is starting. */
  get(id: string): ActorHandle<P> | undefined;
  /**
   * The child `id`, started with `args` unless one runs. A child of that id still being taken down is waited for
   * first; concurrent calls for one id share one start. Children start side by side, not one after another.
   */
  ensure(id: string, args: A): Promise<ActorHandle<P>>;
  terminate(id: string): Promise<void>;
  children(): ChildInfo[];
}

/** A dynamic supervisor's one child spec and policy (OTP simple_one_for_one: every child is its own restart group). */
export interface DynamicSupervisorSpec<P extends Protocol<P>, A, C> {
  readonly child: {
    readonly actor: ActorDef<P, A, C>;
    /** Default `in-memory`. */
    readonly mode?: ActorMode;
    /** Default `transient`: a child that exits normally is removed, one that crashes is restarted. */
    readonly restart?: RestartType;
    readonly crashOnError?: boolean;
    readonly askTimeoutMs?: number;
    /** Handed to every child as `ctx.capabilities`, by reference: in-memory children only. */
    readonly capabilities?: C;
  };
  readonly intensity: Intensity;
  readonly backoff: Backoff;
  readonly watchdog?: Watchdog;
}
