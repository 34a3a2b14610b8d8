import type { Envelope } from './core/envelope.js';
import { RemoteError, serializedErrorOf } from '../core/errors.js';

/**
 * The messaging contract both transports keep (design §5): the in-memory one for the embedded default and unit tests,
 * the AMQP one across processes, hosts and exchanges. Which one a process uses is configuration, not code.
 */

/** Where a message goes: a queue in an exchange (reference §4.1: `<routing_key>.<queue>` on the root exchange). */
export interface Destination {
  readonly exchangeId: number;
  readonly queue: string;
}

/** What a handler decides about one delivery (style R7); the transport turns it into ack, requeue or dead-letter. */
export type Outcome =
  | { readonly type: 'ack'; readonly reply?: unknown }
  /** Requeue once; if it was already redelivered, dead-letter with `reason`. */
  | { readonly type: 'retry'; readonly reason: string }
  /** Straight to `<queue>_error` with `reason`. */
  | { readonly type: 'dead-letter'; readonly reason: string };

export type Decoded<M> = { readonly ok: true; readonly value: M } | { readonly ok: false; readonly reason: string };

/** Facts about a delivery a handler may want: not the channel, nor the delivery tag (style R7). */
export interface DeliveryInfo {
  readonly queue: string;
  readonly redelivered: boolean;
  readonly envelope: Envelope;
}

/**
 * A consumer of one queue of the local exchange. `decode` checks the payload with the component's own schema; a
 * payload it refuses is dead-lettered at once with its reason. `handle` throwing counts as `retry` with the error's
 * message. For a request (the envelope has `reply_to`) the `reply` of an `ack` goes back to the caller; a thrown
 * error goes back as an error reply instead of being retried, so the caller learns at once and a request never runs
 * twice by the transport's doing. A request that is dead-lettered (refused by `decode`, an outcome of `dead-letter`,
 * a retry used up) lands in `<queue>_error` like any message, and its caller gets a `DeadLettered` error reply.
 */
export interface ConsumerSpec<M> {
  readonly queue: string;
  /**
   * Fan-out instead of competing consumers (reference §4.8): this consumer gets its own copy of every message sent to
   * `queue` of the own exchange, in a queue of its own that lives as long as the consumer (on AMQP an exclusive,
   * auto-delete `<queue>.broadcast.<uuid>` bound to the queue's routing key; always declared, whatever auto-declare
   * says, since nobody can provision it ahead). Its dead letters still go to `<queue>_error`.
   */
  readonly broadcast?: boolean;
  /** Deliveries of this consumer in its handler at once; the transport's setting when absent. */
  readonly maxInFlight?: number;
  readonly decode: (payload: unknown, type: string) => Decoded<M>;
  readonly handle: (msg: M, info: DeliveryInfo) => Promise<Outcome>;
}

export interface Subscription {
  readonly queue: string;
  /** Stops new deliveries, waits for those in flight. */
  cancel(): Promise<void>;
}

export interface PublishOptions {
  readonly correlationId?: string;
  /**
   * The message's id, when it names the effect rather than the send: a consumer that drops copies by id then drops a
   * second send of the same effect too (a workflow's completion e-mail). A fresh UUID by default.
   */
  readonly messageId?: string;
  /**
   * For broadcast consumers only (ConsumerSpec.broadcast): no shared queue is declared or filled, and a message that
   * no broadcast consumer listens for is dropped instead of refused as unroutable (live logs, nobody watching).
   */
  readonly broadcast?: boolean;
}

export interface RequestOptions {
  readonly timeoutMs: number;
}

/**
 * What a component does with messaging: it sends. What it receives it declares (runtime/messaging/intake.ts), and
 * the runtime consumes for it: no component holds a consumer of its own.
 */
export interface Messaging {
  /** Resolves once the message is safely with the broker (publisher confirm); rejects if it cannot be. */
  publish(to: Destination, type: string, payload: unknown, options?: PublishOptions): Promise<void>;
  /** Sends a request and resolves with the reply's payload; rejects with RpcTimeout, or RemoteRequestError. */
  request(to: Destination, type: string, payload: unknown, options: RequestOptions): Promise<unknown>;
}

/** A process's transport, as the runtime holds it. */
export interface Transport extends Messaging {
  consume<M>(spec: ConsumerSpec<M>): Promise<Subscription>;
  /** Cancels every consumer (intake), waits for deliveries in flight, then closes. */
  close(): Promise<void>;
}

/** Header carrying why a message was dead-lettered. */
export const DEAD_LETTER_REASON_HEADER = 'x-openaperture-reason';

/** The dead-letter queue of a queue (reference §4.3). */
export const errorQueueOf = (queue: string): string => `${queue}_error`;

/** The envelope type of a reply that carries an error instead of a result. */
export const ERROR_REPLY_TYPE = 'rpc.error';

/** The error name a requester gets when its request was refused to `<queue>_error`; the message is the reason. */
export const DEAD_LETTERED_ERROR = 'DeadLettered';

export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeout';
  readonly retryable = true;
  constructor(
    readonly destination: Destination,
    readonly type: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to ${type} from queue ${destination.queue} of exchange ${destination.exchangeId} within ${timeoutMs} ms`);
  }
}

/** The server of a request failed; name, message, code and stack are the server's. */
export class RemoteRequestError extends RemoteError {}

/** The error an error reply carries (`serializeError` of the server's); a malformed one still becomes an error. */
export const remoteRequestErrorOf = (payload: unknown): RemoteRequestError => new RemoteRequestError(serializedErrorOf(payload));

/** A publish the broker did not confirm in time, or refused. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  readonly retryable = true;
  constructor(
    readonly destination: Destination,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`publish to queue ${destination.queue} of exchange ${destination.exchangeId} failed: ${message}`, options);
  }
}

/** The transport was closed (shutdown): the message was not sent, or its reply will not come. */
export class TransportClosedError extends Error {
  override readonly name = 'TransportClosed';
  readonly retryable = true;
}

/** The actor has no transport it can use; `reason` says why and what to configure. */
export class TransportUnavailableError extends Error {
  override readonly name = 'TransportUnavailable';
  readonly retryable = false;
}

/** A transport that refuses everything with `reason`, for actors whose process has none. */
export function unavailableTransport(reason: string): Transport {
  const refuse = (): Promise<never> => Promise.reject(new TransportUnavailableError(reason));
  return { publish: refuse, request: refuse, consume: refuse, close: () => Promise.resolve() };
}

export const isRpcTimeout = (e: unknown): e is RpcTimeoutError => e instanceof Error && e.name === 'RpcTimeout';
export const isPublishError = (e: unknown): e is PublishError => e instanceof Error && e.name === 'PublishError';
