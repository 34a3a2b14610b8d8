/** Errors of the actor runtime. Recognise them by `name` (the prototype does not survive a fork). */

import { RemoteError, type SerializedError } from '../core/errors.js';

export { serializeError, type SerializedError } from '../core/errors.js';

/** The ask did not get a reply in time. The handler may still run to completion. */
export class AskTimeoutError extends Error {
  override readonly name = 'AskTimeout';
  readonly retryable = true;
  constructor(
    readonly actor: string,
    readonly topic: string,
    readonly timeoutMs: number,
  ) {
    super(`actor ${actor} did not answer "${topic}" within ${timeoutMs} ms`);
  }
}

/** The actor is not running (restarting, stopping or stopped), so the message was not delivered. */
export class ActorUnavailableError extends Error {
  override readonly name = 'ActorUnavailable';
  readonly retryable = true;
  constructor(
    readonly actor: string,
    readonly state: string,
  ) {
    super(`actor ${actor} is ${state}; message not delivered`);
  }
}

/** The actor crashed while the message was queued or being handled. */
export class ActorCrashedError extends Error {
  override readonly name = 'ActorCrashed';
  readonly retryable = true;
  constructor(
    readonly actor: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`actor ${actor} crashed: ${detail}`, options);
  }
}

/** A supervisor restarted its children more often than its intensity allows and gave up. */
export class RestartIntensityExceededError extends Error {
  override readonly name = 'RestartIntensityExceeded';
  readonly retryable = false;
  constructor(
    readonly supervisor: string,
    readonly maxRestarts: number,
    readonly withinMs: number,
    options?: ErrorOptions,
  ) {
    super(`supervisor ${supervisor}: more than ${maxRestarts} restarts within ${withinMs} ms`, options);
  }
}

/** An error raised in another actor (possibly another process), rebuilt with its name, message, code and stack. */
export class RemoteActorError extends RemoteError {
  constructor(
    readonly actor: string,
    serialized: SerializedError,
  ) {
    super(serialized);
  }
}

export const errorName = (e: unknown): string | undefined => (e instanceof Error ? e.name : undefined);
export const isAskTimeout = (e: unknown): e is AskTimeoutError => errorName(e) === 'AskTimeout';
export const isActorUnavailable = (e: unknown): e is ActorUnavailableError => errorName(e) === 'ActorUnavailable';
export const isActorCrashed = (e: unknown): e is ActorCrashedError => errorName(e) === 'ActorCrashed';
export const isRestartIntensityExceeded = (e: unknown): e is RestartIntensityExceededError =>
  errorName(e) === 'RestartIntensityExceeded';
