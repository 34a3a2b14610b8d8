import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystem, type Actor, type ActorRef } from 'comedy';
import { RemoteActorError, type SerializedError } from './errors.js';
import type { ActorMode } from './supervisor-spec.js';
import type { LogLevel } from '../logger.js';
import type { MessagingEnv } from '../config.js';
import type { Transport } from '../messaging/transport.js';

/** The only file besides host.actor.ts that touches comedy: it turns comedy's stringly API into HostRef. */

/** What the host actor starts from; passed to the process that runs it as comedy custom parameters. */
export interface HostParams {
  readonly module: string;
  readonly name: string;
  readonly args: unknown;
  readonly crashOnError: boolean;
  readonly logLevel: LogLevel;
  readonly forked: boolean;
  /** In-memory actors only: the process's transport, by reference (comedy shallow-copies in-memory parameters). */
  readonly transport?: Transport;
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
  call(topic: string, msg: unknown): Promise<CallResult>;
  cast(topic: string, msg: unknown): Promise<CastResult>;
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

function hostRef(ref: ActorRef): HostRef {
  return {
    call: (topic, msg) => ref.sendAndReceive('call', topic, msg) as Promise<CallResult>,
    cast: (topic, msg) => ref.sendAndReceive('cast', topic, msg) as Promise<CastResult>,
    watch: () => ref.sendAndReceive('watch') as Promise<ExitInfo>,
    ping: () => ref.sendAndReceive('ping') as Promise<PingInfo>,
    shutdown: (deadlineMs) => ref.sendAndReceive('shutdown', deadlineMs) as Promise<void>,
    destroy: () => ref.destroy(),
  };
}

export function spawnerFor(parent: Actor): Spawner {
  return {
    async spawn(params, mode) {
      const ref = hostRef(await parent.createChild(HOST_MODULE, { mode, name: params.name, customParameters: params }));
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
