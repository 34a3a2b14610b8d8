/**
 * Intake as data (design §5.2, §11): a component declares each queue it consumes, and the runtime owns the consumer.
 * Each delivery becomes an ask to the component's actor, in the mailbox lane its concurrency says, bounded by the
 * declared `timeoutMs` rather than the process's ask timeout; the actor's reply is the delivery's Outcome.
 */
import type { z } from 'zod';
import type { Decoded, Outcome, Subscription, Transport } from './transport.js';
import { isActorCrashed, isActorUnavailable } from '../actors/errors.js';
import type { ActorHandle } from '../actors/protocol.js';
import type { Logger } from '../logger.js';

/** A message as an actor receives it from a queue: the payload already checked by the component's schema. */
export interface Delivered<M> {
  readonly id: string;
  readonly type: string;
  readonly payload: M;
  readonly redelivered: boolean;
  /** Somebody waits for the reply (the envelope has `reply_to`): a thrown error goes back to them. */
  readonly request: boolean;
}

/** The protocol of an actor topic that takes a queue's deliveries: a delivery in, the Outcome out (style R7). */
export type QueueTopic<M> = { msg: Delivered<M>; reply: Outcome };

/**
 * How many deliveries of a queue the actor takes at once:
 * - `serial`: one at a time, in the actor's main lane, in turn with its asks and timers (a plain actor);
 * - `perKey`: one at a time per key (per cluster, per workflow), different keys side by side, at most `max` at once;
 * - `parallel`: up to `n` at once.
 */
export type Concurrency<M> = 'serial' | { readonly perKey: (msg: M) => string; readonly max: number } | { readonly parallel: number };

export interface Intake<M> {
  readonly queue: string;
  /** The topic of the component's actor that takes the deliveries (a QueueTopic). */
  readonly topic: string;
  /** Checks the payload with the component's schema; a refused one goes to `<queue>_error` with the reason. */
  readonly decode: (payload: unknown, type: string) => Decoded<M>;
  readonly concurrency: Concurrency<M>;
  /** How long one delivery may be in the actor, waiting in its lane included; then it counts as failed. */
  readonly timeoutMs: number;
  /** A copy of every message of the queue for this consumer (ConsumerSpec.broadcast), e.g. live build logs. */
  readonly broadcast?: boolean;
}

/** Any intake, whatever its message type (a component's list of them). */
export type AnyIntake = Intake<never>;

/** Declares an intake, checking its message type against its decoder and its concurrency. */
export const intake = <M>(spec: Intake<M>): AnyIntake => spec as unknown as AnyIntake;

/** The reason for a payload a schema refused: each field that is wrong, by path. */
export const reasonOf = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');

/** A decoder that checks the envelope type (when given) and the payload against `schema`. */
export function decodeWith<S extends z.ZodType>(schema: S, type?: string): (payload: unknown, got: string) => Decoded<z.infer<S>> {
  return (payload, got) => {
    if (type !== undefined && got !== type) return { ok: false, reason: `unexpected message type ${JSON.stringify(got)} (expected ${type})` };
    const parsed = schema.safeParse(payload);
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: reasonOf(parsed.error) };
  };
}

/** Deliveries with the broker at once for this consumer (its prefetch): what the concurrency lets run, no more. */
export function prefetchOf(concurrency: Concurrency<never>): number {
  if (concurrency === 'serial') return 1;
  return 'parallel' in concurrency ? concurrency.parallel : concurrency.max;
}

/** How a declaration reads in the intake table printed at start. */
export function describeConcurrency(concurrency: Concurrency<never>): string {
  if (concurrency === 'serial') return 'serial';
  return 'parallel' in concurrency ? `parallel ${concurrency.parallel}` : `per key, at most ${concurrency.max}`;
}

type Loose = Record<string, { msg: unknown; reply: unknown }>;

/** How long a delivery waits for an actor that is restarting, and how often it is let through a crashing actor. */
const RESTART_WAIT_MS = 30_000;
const MAX_CRASH_REDELIVERIES = 3;

/**
 * Feeds a queue into an actor (design §5.2: queue -> mailbox). The actor's reply is the delivery's Outcome; a
 * handler error counts as a failed attempt (requeue once, then dead-letter). An actor that is restarting is waited
 * for (its handle says when it runs again), so a restart does not burn a message's one retry; a message that keeps
 * crashing its actor is given up after a few tries, since it is likely what crashes it.
 */
export function startIntake<M>(opts: {
  readonly transport: Transport;
  readonly handle: ActorHandle<Loose>;
  readonly intake: Intake<M>;
  readonly log: Logger;
}): Promise<Subscription> {
  const { handle, intake: spec, log } = opts;
  const { concurrency } = spec;
  let seq = 0;
  // Parallel: a lane of its own per delivery (the prefetch is the bound), so none waits behind a long one.
  const laneOf = (msg: M): string | undefined => {
    if (concurrency === 'serial') return undefined;
    if ('parallel' in concurrency) return `${spec.queue}#${seq++}`;
    return `${spec.queue}:${concurrency.perKey(msg)}`;
  };
  return opts.transport.consume({
    queue: spec.queue,
    decode: spec.decode,
    maxInFlight: prefetchOf(concurrency as Concurrency<never>),
    ...(spec.broadcast === true ? { broadcast: true } : {}),
    handle: async (payload, info) => {
      const envelope = info.envelope;
      const delivered: Delivered<M> = { id: envelope.id, type: envelope.type, payload, redelivered: info.redelivered, request: envelope.reply_to !== undefined };
      const lane = laneOf(payload);
      const options = lane === undefined ? { timeoutMs: spec.timeoutMs } : { timeoutMs: spec.timeoutMs, lane };
      for (let crashes = 0; ; ) {
        try {
          return (await handle.ask(spec.topic, delivered, options)) as Outcome;
        } catch (err) {
          if (isActorCrashed(err)) crashes += 1;
          const waitable = isActorUnavailable(err) || (isActorCrashed(err) && crashes < MAX_CRASH_REDELIVERIES);
          if (!waitable) throw err;
          log.debug({ queue: spec.queue, actor: handle.name, err }, 'actor not available; waiting for it');
          await handle.whenRunning(RESTART_WAIT_MS);
        }
      }
    },
  });
}
