/**
 * What both transports do with the AMQP properties of a delivery (design §5.2, issue 14 item 5): the properties a
 * dead letter carries, where a request's reply goes, and the error a requester gets when its request is refused.
 * One set of rules, so the in-memory transport behaves as the AMQP one does.
 */
import { amqpPropertiesFor, type Envelope } from './envelope.js';
import type { SerializedError } from '../../core/errors.js';
import { DEAD_LETTER_REASON_HEADER, DEAD_LETTERED_ERROR } from '../transport.js';

/** A message's properties as a consumer sees them, by amqplib's names (`timestamp` in seconds; unset: undefined). */
export interface MessageProperties {
  readonly contentType?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
  /** 2: persistent; 1 (or absent): transient. */
  readonly deliveryMode?: number | undefined;
  readonly priority?: number | undefined;
  readonly correlationId?: string | undefined;
  readonly replyTo?: string | undefined;
  readonly expiration?: string | undefined;
  readonly messageId?: string | undefined;
  readonly timestamp?: number | undefined;
  readonly type?: string | undefined;
  readonly userId?: string | undefined;
  readonly appId?: string | undefined;
}

/** The properties a consumer sees of a message the transports published (amqpPropertiesFor, as delivered). */
export function deliveredPropertiesOf(envelope: Envelope): MessageProperties {
  const { persistent, mandatory: _mandatory, ...properties } = amqpPropertiesFor(envelope);
  return { ...properties, deliveryMode: persistent ? 2 : 1, headers: {} };
}

/** Where what the broker would act on again goes in a dead letter: `x-openaperture-original-<name>`. */
const originalHeaderOf = (name: 'expiration' | 'user-id' | 'cc'): string => `x-openaperture-original-${name}`;

/**
 * A dead letter's properties: every property and header of the original, plus the reason. Three are moved into
 * headers of their own (originalHeaderOf) because the broker would act on them again: an `expiration` would make the
 * dead letter expire in `<queue>_error` (RabbitMQ's own dead-lettering drops it too), a `user_id` is refused by
 * RabbitMQ from a connection of another user (and the refusal closes the publishing channel), and a `CC` header
 * would route copies of the dead letter into the queues it names.
 */
export function deadLetterPropertiesOf(original: MessageProperties, reason: string): DeadLetterProperties {
  const { expiration, userId, headers, ...kept } = original;
  const { CC: cc, ...otherHeaders } = headers ?? {};
  const moved: Record<string, unknown> = {};
  if (expiration !== undefined) moved[originalHeaderOf('expiration')] = expiration;
  if (userId !== undefined) moved[originalHeaderOf('user-id')] = userId;
  if (cc !== undefined) moved[originalHeaderOf('cc')] = cc;
  return { ...setOnly(kept), headers: { ...otherHeaders, ...moved, [DEAD_LETTER_REASON_HEADER]: reason } };
}

/** Only the properties that are set, as a publish takes them. */
type SetOnly<T> = { readonly [K in keyof T]?: Exclude<T[K], undefined> };
export type DeadLetterProperties = SetOnly<Omit<MessageProperties, 'expiration' | 'userId'>>;

function setOnly<T extends object>(properties: T): SetOnly<T> {
  // The entries left are T's own, each with a value that is not undefined: what SetOnly<T> says.
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined)) as SetOnly<T>;
}

/** Where a request's reply goes, and the id that matches it to the request. */
export interface ReplyAddress {
  readonly replyTo: string;
  readonly correlationId: string | undefined;
}

const nonEmpty = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The reply address of a delivery: the `reply_to` property first (RabbitMQ rewrites it for direct reply-to), else the
 * envelope's; undefined when nobody waits for a reply. Bytes that are no envelope are answered by their properties.
 */
export function replyAddressOf(properties: MessageProperties, envelope: Envelope | undefined): ReplyAddress | undefined {
  const replyTo = nonEmpty(properties.replyTo) ?? envelope?.reply_to;
  if (replyTo === undefined) return undefined;
  return { replyTo, correlationId: envelope?.correlation_id ?? nonEmpty(properties.correlationId) };
}

/** What a requester gets when its request went to `<queue>_error`: the reason, not to be retried as it is. */
export const deadLetteredError = (reason: string): SerializedError => ({ name: DEAD_LETTERED_ERROR, message: reason, retryable: false });
