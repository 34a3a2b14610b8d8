/** The wire envelope of every AMQP message (design §5.1): JSON, utf-8, checked once where bytes come in. */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';

// Deliberate difference (reference §4.6, §10.1 #1): JSON with snake_case keys, not Erlang terms; times in epoch ms.
// Unknown keys are stripped, not rejected, so a newer sender can add one during a rolling upgrade (reference §8.3).
/** Schema of the envelope; `payload` is checked later by the receiving component's own schema (design §5.1). */
export const Envelope = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  sent_at: z.number().int().nonnegative(),
  correlation_id: z.string().min(1).optional(),
  reply_to: z.string().min(1).optional(),
  // JSON has no undefined, so this only fails when the key is absent; `null` is a valid payload.
  payload: z.unknown().refine((p) => p !== undefined),
});

/** One message on the wire; `sent_at` is epoch ms. */
export interface Envelope<P = unknown> {
  readonly id: string;
  readonly type: string;
  readonly sent_at: number;
  readonly correlation_id?: string;
  readonly reply_to?: string;
  readonly payload: P;
}

/** Result of decoding delivered bytes; `reason` is one sentence, fit for a dead-letter header. */
export type DecodedEnvelope = { ok: true; envelope: Envelope } | { ok: false; reason: string };

/** Builds an envelope; `id` and `now` (epoch ms) come from the shell, so core stays free of randomness and clock. */
export function newEnvelope<P>(
  type: string,
  payload: P,
  opts: { readonly id: string; readonly now: number; readonly correlationId?: string; readonly replyTo?: string },
): Envelope<P> {
  return {
    id: opts.id,
    type,
    sent_at: opts.now,
    ...(opts.correlationId === undefined ? {} : { correlation_id: opts.correlationId }),
    ...(opts.replyTo === undefined ? {} : { reply_to: opts.replyTo }),
    payload,
  };
}

/** JSON, utf-8. Throws a TypeError for an envelope `decodeEnvelope` would refuse, so a bad send fails at the sender. */
export function encodeEnvelope(envelope: Envelope): Buffer {
  const checked = wellFormed(envelope) ?? parsedOrReason(envelope);
  if (typeof checked === 'string') throw new TypeError(`cannot encode envelope: ${checked}`);
  return Buffer.from(JSON.stringify(checked), 'utf8');
}

/** AMQP publish properties of an envelope; a structural subset of amqplib's `Options.Publish`. */
export interface AmqpProperties {
  readonly persistent: boolean;
  /** Present when asked for: the broker returns the message instead of dropping it when nothing is bound. */
  readonly mandatory?: boolean;
  readonly contentType: 'application/json';
  readonly contentEncoding: 'utf-8';
  readonly messageId: string;
  readonly type: string;
  readonly timestamp: number;
  readonly correlationId?: string;
  readonly replyTo?: string;
}

/** How the broker is to treat one publish: persistent unless told otherwise (a reply is not), mandatory if asked. */
export interface Delivery {
  readonly persistent?: boolean;
  readonly mandatory?: boolean;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** `application/json` (issue 3 item 2), with the envelope's ids mirrored for broker tooling; persistent by default. */
export function amqpPropertiesFor(envelope: Envelope, delivery: Delivery = {}): AmqpProperties {
  // Built by assignment, not by spreading optional parts: this runs for every message.
  const properties: Writable<AmqpProperties> = {
    persistent: delivery.persistent ?? true,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    messageId: envelope.id,
    type: envelope.type,
    timestamp: Math.floor(envelope.sent_at / 1000), // the AMQP timestamp property is in seconds
  };
  if (delivery.mandatory !== undefined) properties.mandatory = delivery.mandatory;
  if (envelope.correlation_id !== undefined) properties.correlationId = envelope.correlation_id;
  if (envelope.reply_to !== undefined) properties.replyTo = envelope.reply_to;
  return properties;
}

const MAX_REASON_CHARS = 500; // the reason travels in an AMQP header

/** Decodes delivered bytes; never throws. */
export function decodeEnvelope(bytes: Buffer): DecodedEnvelope {
  if (!isUtf8(bytes)) return reject('message body is not valid UTF-8');
  // A leading byte-order mark is not part of the text (as TextDecoder has it); toString would keep it.
  const text = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.toString('utf8', 3) : bytes.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') return reject('message body is empty');
    return reject(`message body is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return reject(`message body is JSON but not an envelope object (got ${kindOf(raw)})`);
  }
  const envelope = wellFormed(raw) ?? parsedOrReason(raw);
  if (typeof envelope === 'string') return reject(`envelope is invalid: ${envelope}`);
  return { ok: true, envelope };
}

const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isAbsentOrNonEmptyString = (v: unknown): v is string | undefined => v === undefined || isNonEmptyString(v);

/**
 * The envelope's fields as the schema keeps them (unknown keys left out, absent optional keys absent), checked by hand:
 * every message takes this path, and it accepts only what the schema accepts. Anything else is `undefined`, and
 * `parsedOrReason` lets the schema decide and say why.
 */
function wellFormed(raw: { readonly [K in keyof Envelope]?: unknown }): Envelope | undefined {
  const { id, type, sent_at, correlation_id, reply_to, payload } = raw;
  if (!isNonEmptyString(id) || !isNonEmptyString(type) || !Number.isSafeInteger(sent_at) || (sent_at as number) < 0) return undefined;
  if (!isAbsentOrNonEmptyString(correlation_id) || !isAbsentOrNonEmptyString(reply_to) || payload === undefined) return undefined;
  if (correlation_id === undefined && reply_to === undefined) return { id, type, sent_at: sent_at as number, payload };
  // Rebuilt so absent optional keys stay absent (exactOptionalPropertyTypes).
  return {
    id,
    type,
    sent_at: sent_at as number,
    ...(correlation_id === undefined ? {} : { correlation_id }),
    ...(reply_to === undefined ? {} : { reply_to }),
    payload,
  };
}

/** The schema's verdict: the envelope, or one sentence naming each wrong field. */
function parsedOrReason(raw: unknown): Envelope | string {
  const parsed = Envelope.safeParse(raw, { reportInput: true });
  if (!parsed.success) return describeIssues(parsed.error.issues);
  const { correlation_id, reply_to, ...rest } = parsed.data;
  return {
    ...rest,
    ...(correlation_id === undefined ? {} : { correlation_id }),
    ...(reply_to === undefined ? {} : { reply_to }),
  };
}

function reject(reason: string): DecodedEnvelope {
  return { ok: false, reason: reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason };
}

/** JSON-ish name of a value's type, for messages: `null`, `array`, `string`, ... */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** One sentence naming each wrong field, e.g. `missing field "type"; field "sent_at" must be a number, got string`. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    const value = issue.input; // present because every parse here passes `reportInput: true`
    if (value === undefined) return `missing field "${field}"`;
    switch (issue.code) {
      case 'invalid_type': {
        const expected = issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`;
        return `field "${field}" must be ${expected}, got ${kindOf(value)}`;
      }
      case 'too_small':
        return typeof value === 'string' ? `field "${field}" must not be empty` : `field "${field}" must be >= 0`;
      default:
        return `field "${field}" is invalid (${issue.message})`;
    }
  });
  return parts.join('; ');
}
