import type { z } from 'zod';
import { isDatabaseUnavailable } from './database.js';
import { RemoteRequestError } from '../runtime/messaging/transport.js';

/**
 * The errors routes throw, and the one place they become status codes (style R18). Messages follow the original
 * (reference §3.1): `<Item> was not found`, `A <Item> already exists with that identifier`, ...
 */

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export class NotFoundError extends Error {
  override readonly name = 'NotFound';
  constructor(readonly item: string) {
    super(`${item} was not found`);
  }
}

export class ConflictError extends Error {
  override readonly name = 'Conflict';
  constructor(
    readonly item: string,
    detail?: string,
  ) {
    super(`A ${item} already exists with that identifier${detail ? `: ${detail}` : ''}`);
  }
}

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequest';
  constructor(
    readonly item: string,
    readonly fields: readonly FieldProblem[],
  ) {
    super(`One or more fields for ${item} were invalid`);
  }
}

export class UnauthorizedError extends Error {
  override readonly name = 'Unauthorized';
  constructor(readonly reason: string) {
    super('Unauthorized');
  }
}

export class ForbiddenError extends Error {
  override readonly name = 'Forbidden';
  constructor(message: string) {
    super(message);
  }
}

/** Problems of a zod parse, one per field, named by path (`connections[0].port`). */
export function fieldProblems(error: z.ZodError, prefix?: string): FieldProblem[] {
  const fieldOf = (path: readonly PropertyKey[]): string => {
    const joined = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
    return [prefix, joined].filter((s) => s !== undefined && s !== '').join('.') || (prefix ?? 'body');
  };
  return error.issues.flatMap((issue) => {
    // An unknown key is a problem of that key, not of the object holding it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: fieldOf([...issue.path, key]), message: `${fieldOf([...issue.path, key])}: unknown field` }));
    }
    const field = fieldOf(issue.path);
    return [{ field, message: `${field}: ${issue.message}` }];
  });
}

/** A body that cannot be read at all: not decodable (400), too large (413), or of a type or encoding not served (415). */
export class RequestBodyError extends Error {
  override readonly name = 'RequestBody';
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** Too many failed attempts: refused until the lockout ends (login-guard.ts). */
export class TooManyAttemptsError extends Error {
  override readonly name = 'TooManyAttempts';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed attempts; retry in ${retryAfterSeconds} s`);
  }
}

/** Another component answered a request with something its protocol does not allow. */
export class BadGatewayError extends Error {
  override readonly name = 'BadGateway';
}

/** How long a client is asked to wait before repeating a request that met an outage (README "Limits"). */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

export interface ErrorReply {
  readonly status: number;
  /** Sent as `Retry-After`: the failure is the server's, and passing. */
  readonly retryAfterSeconds?: number;
  readonly body: { errors: Array<{ message: string; field?: string }> };
}

/** The response for an error; `undefined` for an unexpected one, which the caller logs and answers 500. */
export function errorReply(err: unknown): ErrorReply | undefined {
  if (!(err instanceof Error)) return undefined;
  const one = (status: number, message: string): ErrorReply => ({ status, body: { errors: [{ message }] } });
  // Before the names below: a remote error keeps the server's name, which must not pass for one of ours. The server
  // names what failed (the host, the unit); `...NotFound` is the server saying the thing asked about does not exist.
  if (err instanceof RemoteRequestError) return one(/NotFound$/.test(err.name) ? 404 : 502, err.message);
  const outage = (message: string): ErrorReply => ({ ...one(503, message), retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS });
  // The cause is not shown: it may name the database's address.
  if (isDatabaseUnavailable(err)) return outage('the database is unavailable; retry later');
  switch (err.name) {
    case 'NotFound':
      return one(404, err.message);
    case 'Conflict':
      return one(409, err.message);
    case 'InvalidRequest': {
      const fields = (err as InvalidRequestError).fields;
      return { status: 400, body: { errors: [{ message: err.message }, ...fields.map((f) => ({ field: f.field, message: f.message }))] } };
    }
    case 'RequestBody':
      return { status: (err as RequestBodyError).status, body: { errors: [{ message: err.message, field: 'body' }] } };
    case 'Unauthorized':
      return one(401, 'Unauthorized');
    case 'TooManyAttempts':
      return { ...one(429, err.message), retryAfterSeconds: (err as TooManyAttemptsError).retryAfterSeconds };
    case 'Forbidden':
      return one(403, err.message);
    // The broker did not take the message: the request may be repeated later (the original answered 202 anyway).
    case 'PublishError':
    case 'TransportClosed':
    case 'TransportUnavailable':
      return outage(err.message);
    // The component asked did not answer in time (a request to it, e.g. a FleetManager action).
    case 'RpcTimeout':
      return one(504, err.message);
    case 'BadGateway':
      return one(502, err.message);
    default:
      return undefined;
  }
}
