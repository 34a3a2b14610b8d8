import type { Decoded, Outcome, Subscription, Transport } from './transport.js';
import { isActorCrashed, isActorUnavailable } from '../actors/errors.js';
import type { ActorHandle } from '../actors/protocol.js';
import { sleep } from '../core/promises.js';
import type { Logger } from '../logger.js';

/** A message as an actor receives it from a queue: the payload already checked by the component's schema. */
export interface Delivered<M> {
  readonly id: string;
  readonly type: string;
  readonly payload: M;
  readonly redelivered: boolean;
}

/** The protocol of an actor topic that consumes a queue: a delivery in, the Outcome out (style R7). */
export type QueueTopic<M> = { msg: Delivered<M>; reply: Outcome };

/** Which queue of the own exchange feeds which topic of an actor, and the component schema that checks it. */
export interface QueueRoute<M> {
  readonly queue: string;
  readonly topic: string;
  readonly decode: (payload: unknown, type: string) => Decoded<M>;
  /**
   * For a topic whose handler runs long (a build): how long one delivery may take in the actor, instead of the
   * process's ask timeout. Pair it with `maxInFlight: 1`, so a delivery never waits behind another in the mailbox and
   * the other deliveries stay with the broker for the next free consumer.
   */
  readonly askTimeoutMs?: number;
  readonly maxInFlight?: number;
}

type Loose = Record<string, { msg: unknown; reply: unknown }>;

/** How long a delivery waits for an actor that is restarting, and how often it is let through a crashing actor. */
const RESTART_WAIT_MS = 30_000;
const MAX_CRASH_REDELIVERIES = 3;

/**
 * Feeds a queue into an actor (design §5.2: queue -> mailbox). The actor's reply is the delivery's Outcome; a
 * handler error counts as a failed attempt (requeue once, then dead-letter). An actor that is restarting is waited
 * for instead, so a restart does not burn a message's one retry; a message that keeps crashing its actor is given up
 * after a few tries, since it is likely what crashes it.
 */
export function consumeInto<M>(opts: {
  readonly transport: Transport;
  readonly handle: ActorHandle<Loose>;
  readonly route: QueueRoute<M>;
  readonly log: Logger;
}): Promise<Subscription> {
  const { handle, route, log } = opts;
  return opts.transport.consume({
    queue: route.queue,
    decode: route.decode,
    ...(route.maxInFlight === undefined ? {} : { maxInFlight: route.maxInFlight }),
    handle: async (payload, info) => {
      const delivered: Delivered<M> = { id: info.envelope.id, type: info.envelope.type, payload, redelivered: info.redelivered };
      for (let crashes = 0; ; ) {
        try {
          const options = route.askTimeoutMs === undefined ? undefined : { timeoutMs: route.askTimeoutMs };
          return (await handle.ask(route.topic, delivered, options)) as Outcome;
        } catch (err) {
          if (isActorCrashed(err)) crashes += 1;
          const waitable = isActorUnavailable(err) || (isActorCrashed(err) && crashes < MAX_CRASH_REDELIVERIES);
          if (!waitable) throw err;
          log.debug({ queue: route.queue, actor: handle.name, err }, 'actor not available; waiting for it');
          await waitRunning(handle, RESTART_WAIT_MS);
        }
      }
    },
  });
}

async function waitRunning(handle: ActorHandle<Loose>, timeoutMs: number): Promise<void> {
  const deadlineAt = Date.now() + timeoutMs;
  while (handle.status !== 'running') {
    if (handle.status === 'stopped' || Date.now() > deadlineAt) throw new Error(`actor ${handle.name} is ${handle.status}`);
    await sleep(25);
  }
}
