import type { Backoff, Intensity, RestartType, Strategy } from './core/restart-policy.js';

/** Where an actor runs. `threaded` and `remote` are refused (comedy-notes §1.2, §4.1). */
export type ActorMode = 'in-memory' | 'forked';
export const ACTOR_MODES: readonly ActorMode[] = ['in-memory', 'forked'];

/** Ping forked children every `intervalMs`; one that does not answer within `timeoutMs` is killed and restarted. */
export interface Watchdog {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** A child actor: its behaviour module, the JSON arguments it starts with, and how it is supervised. */
export interface ActorChildSpec<A = unknown> {
  readonly name: string;
  readonly actor: { readonly module: string };
  readonly args?: A;
  /** Default `in-memory`. */
  readonly mode?: ActorMode;
  /** Default `permanent`. */
  readonly restart?: RestartType;
  /** A handler that throws crashes the actor, which restarts with fresh state (default true, OTP "let it crash"). */
  readonly crashOnError?: boolean;
  /** Default timeout of asks to this actor; the supervisor's default otherwise. */
  readonly askTimeoutMs?: number;
  /**
   * In-process capabilities (functions, shared clients) handed to the actor as `ctx.capabilities`, by reference, in
   * its own process: in-memory actors only. `args` stay plain data (checked when the child starts).
   */
  readonly capabilities?: unknown;
}

/** A child supervisor: its failure (intensity exceeded) is a crash of this child. */
export interface SupervisorChildSpec {
  readonly name: string;
  readonly supervisor: SupervisorSpec;
  /** Default `permanent`. */
  readonly restart?: RestartType;
}

export type ChildSpec = ActorChildSpec | SupervisorChildSpec;

export interface SupervisorSpec {
  readonly strategy: Strategy;
  readonly intensity: Intensity;
  readonly backoff: Backoff;
  readonly watchdog?: Watchdog;
  readonly children: readonly ChildSpec[];
}

export const isSupervisorChild = (spec: ChildSpec): spec is SupervisorChildSpec => 'supervisor' in spec;

/** OTP's defaults (3 restarts in 5 s), with a short backoff. */
export const DEFAULT_INTENSITY: Intensity = { maxRestarts: 3, withinMs: 5_000 };
export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 10_000, factor: 2 };
export const DEFAULT_WATCHDOG: Watchdog = { intervalMs: 1_000, timeoutMs: 3_000 };
