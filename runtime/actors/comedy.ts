import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystem, type Actor, type ActorRef } from 'comedy';
import { ActorCrashedError, RemoteActorError, type SerializedError } from './errors.js';
import type { ActorMode } from './supervisor-spec.js';
import type { Clock } from '../clock.js';
import type { LogLevel } from '../logger.js';
import type { MessagingEnv } from '../config.js';
import type { Transport } from '../messaging/transport.js';
import type { ProcessMetrics } from '../metrics/process-metrics.js';

/** The only file besides host.actor.ts that touches comedy: it turns comedy's stringly API into HostRef. */

/** What the host actor starts from; passed to the process that runs it as comedy custom parameters. */
export interface HostParams {
  readonly module: string;
  readonly name: string;
  readonly args: unknown;
  readonly crashOnError: boolean;
  readonly logLevel: LogLevel;
  readonly forked: boolean;
  /** In-memory actors only: the key the host registers itself under (registerLocalHost). */
  readonly localKey?: string;
  /** In-memory actors only: the process's transport, by reference (comedy shallow-copies in-memory parameters). */
  readonly transport?: Transport;
  /** In-memory actors only: the tree's clock, by reference; a forked actor runs on the real one. */
  readonly clock?: Clock;
  /** In-memory actors only: the process's metrics registry, by reference. */
  readonly metrics?: ProcessMetrics;
  /** In-memory actors only: what the parent provides (ActorChildSpec.capabilities), by reference. */
  readonly capabilities?: unknown;
  /** Forked actors only: how to open their own process's transport. */
  readonly messaging?: MessagingSettings;
}

/** What a forked process needs to open its own transport: plain data, it crosses the fork. */
export interface MessagingSettings {
  readonly kind: 'in-memory' | 'amqp';
  readonly env: MessagingEnv;
}

export type CallResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError; readonly crashed: boolean };

export type CastResult = { readonly accepted: true } | { readonly accepted: false; readonly state: string };

/** Why a host stopped running its behaviour. `shutdown` is a stop the supervisor asked for. */
export type ExitInfo =
  | { readonly reason: 'normal' }
  | { readonly reason: 'shutdown' }
  | { readonly reason: 'crash'; readonly error: SerializedError };

export interface PingInfo {
  readonly pid: number;
  readonly depth: number;
  /** Set when the behaviour failed to start. */
  readonly initError?: SerializedError;
}

/** A running host actor, in this process or a forked one. */
export interface HostRef {
  /** An in-memory host answers a synchronous handler synchronously; a failure to deliver rejects (the host is gone). */
  call(topic: string, msg: unknown, lane?: string): Promise<CallResult> | CallResult;
  cast(topic: string, msg: unknown): Promise<CastResult> | CastResult;
  /** Resolves when the behaviour stops; rejects when the host's process dies. */
  watch(): Promise<ExitInfo>;
  /** Answered outside the mailbox: a busy actor still answers, a hung process does not. */
  ping(): Promise<PingInfo>;
  /** Stops intake, drains the mailbox for up to `deadlineMs`, stops the behaviour. */
  shutdown(deadlineMs: number): Promise<void>;
  destroy(): Promise<void>;
}

/** Creates host actors as children of one comedy actor (the root, or a host that supervises children). */
export interface Spawner {
  /** Resolves once the behaviour has started; rejects with its own error (name, code, stack) if it failed to. */
  spawn(params: HostParams, mode: ActorMode): Promise<{ ref: HostRef; pid: number }>;
}

/** A module next to this one (.ts under tsx, .js once built), as a path comedy takes as absolute (`//...`). */
function sibling(name: string): string {
  const here = fileURLToPath(import.meta.url);
  return `/${here.slice(0, -extname(here).length - 'comedy'.length)}${name}${extname(here)}`;
}
const HOST_MODULE = sibling('host.actor');

/** What a host actor answers: the methods comedy calls on it (host.actor.ts). */
export interface LocalHost {
  call(topic: string, msg: unknown, lane?: string): Promise<CallResult> | CallResult;
  cast(topic: string, msg: unknown): CastResult;
  watch(): Promise<ExitInfo>;
  ping(): PingInfo;
  shutdown(deadlineMs: number): Promise<void>;
}

/**
 * Hosts created in this process, by the key their parameters carry. A process-wide table on `globalThis`: comedy
 * loads host.actor.ts itself (by path), which may give it a module instance of its own.
 */
const LOCAL_HOSTS: Map<string, LocalHost> = ((globalThis as { [k: symbol]: Map<string, LocalHost> | undefined })[Symbol.for('openaperture.local-hosts')] ??= new Map());

/** Called by an in-memory host once it has started, so its parent can call it without a hop through comedy. */
export function registerLocalHost(key: string, host: LocalHost): () => void {
  LOCAL_HOSTS.set(key, host);
  return () => void LOCAL_HOSTS.delete(key);
}

let nextKey = 0;

/**
 * Any rejection of a call through comedy is a failure to deliver: the host itself always answers with a CallResult,
 * so what rejects is comedy's channel to it, and that means its process is gone (no need to read comedy's text).
 */
const delivery = <T>(name: string, sent: Promise<unknown>): Promise<T> =>
  // comedy's promises are Bluebird's: adopted into a native one, which the handle recognises.
  Promise.resolve(sent).then(
    (answer) => answer as T,
    (err: unknown) => Promise.reject(new ActorCrashedError(name, 'its process exited', { cause: err })),
  );

/** A forked host, through comedy's IPC channel. */
function forkedRef(name: string, ref: ActorRef): HostRef {
  return {
    call: (topic, msg, lane) => delivery<CallResult>(name, lane === undefined ? ref.sendAndReceive('call', topic, msg) : ref.sendAndReceive('call', topic, msg, lane)),
    cast: (topic, msg) => delivery<CastResult>(name, ref.sendAndReceive('cast', topic, msg)),
    watch: () => ref.sendAndReceive('watch') as Promise<ExitInfo>,
    ping: () => ref.sendAndReceive('ping') as Promise<PingInfo>,
    shutdown: (deadlineMs) => ref.sendAndReceive('shutdown', deadlineMs) as Promise<void>,
    destroy: () => ref.destroy(),
  };
}

/**
 * An in-memory host, called directly: comedy created it in this process and still destroys it, but a message is a
 * method call, as comedy's own in-memory mode makes it (comedy-notes §1.2), without its Bluebird promise per call.
 */
class LocalRef implements HostRef {
  constructor(
    private readonly host: LocalHost,
    private readonly ref: ActorRef,
  ) {}

  call(topic: string, msg: unknown, lane?: string): Promise<CallResult> | CallResult {
    return this.host.call(topic, msg, lane);
  }

  cast(topic: string, msg: unknown): CastResult {
    return this.host.cast(topic, msg);
  }

  watch(): Promise<ExitInfo> {
    return this.host.watch();
  }

  ping(): Promise<PingInfo> {
    return Promise.resolve(this.host.ping());
  }

  shutdown(deadlineMs: number): Promise<void> {
    return this.host.shutdown(deadlineMs);
  }

  destroy(): Promise<void> {
    return this.ref.destroy();
  }
}

export function spawnerFor(parent: Actor): Spawner {
  return {
    async spawn(params, mode) {
      const localKey = mode === 'in-memory' ? `${process.pid}:${nextKey++}` : undefined;
      const comedyRef = await parent.createChild(HOST_MODULE, { mode, name: params.name, customParameters: { ...params, localKey } });
      const local = localKey === undefined ? undefined : LOCAL_HOSTS.get(localKey);
      const ref = local === undefined ? forkedRef(params.name, comedyRef) : new LocalRef(local, comedyRef);
      const { pid, initError } = await ref.ping();
      if (initError === undefined) return { ref, pid };
      await ref.destroy();
      throw new RemoteActorError(params.name, initError);
    },
  };
}

/** A comedy system whose signal handlers are removed: the runtime owns SIGINT/SIGTERM (comedy-notes §1.11). */
export async function createComedySystem(): Promise<{ spawner: Spawner; destroy(): Promise<void> }> {
  const system = createSystem({ config: {}, logger: sibling('comedy-logger') });
  releaseSignals(system);
  const root = await system.rootActor();
  return { spawner: spawnerFor(root), destroy: () => system.destroy() };
}

/** comedy installs SIGINT/SIGTERM handlers that call process.exit(0) in every system, forked children included. */
export function releaseSignals(system: object): void {
  const handlers = system as { sigintHandler?: () => void; sigtermHandler?: () => void };
  if (handlers.sigintHandler) process.removeListener('SIGINT', handlers.sigintHandler);
  if (handlers.sigtermHandler) process.removeListener('SIGTERM', handlers.sigtermHandler);
}
