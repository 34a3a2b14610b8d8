/**
 * `messaging_changed` (issue 19 item 1): the Manager broadcasts it into every exchange once a change of its messaging
 * tables (exchanges, brokers, connections, restrictions) has committed; every process that reads its metadata from
 * the Manager loads it again on receipt, and its transport moves where the change requires.
 */
import type { MetadataSource } from './metadata-source.js';
import type { Subscription, Transport } from './transport.js';
import type { Logger } from '../logger.js';

export const MESSAGING_CHANGED_QUEUE = 'messaging_changed';
/** The envelope type of the broadcast. */
export const MESSAGING_CHANGED = 'messaging.changed';

/** The payload: what changed, for the log (`PUT /messaging/brokers/:id` on broker 2); receivers load everything again. */
export interface MessagingChanged {
  readonly change: string;
}

/** Any object is taken: what it says is only logged, and an older or newer Manager may say more or less. */
function decodeChange(payload: unknown): { ok: true; value: MessagingChanged } {
  const change = (payload as { change?: unknown } | null)?.change;
  return { ok: true, value: { change: typeof change === 'string' ? change : 'unspecified' } };
}

/** Every process's own copy of the broadcast (on AMQP an exclusive queue of its own), each one a refresh of `source`. */
export function followMessagingChanges(transport: Transport, source: MetadataSource, log: Logger): Promise<Subscription> {
  return transport.consume({
    queue: MESSAGING_CHANGED_QUEUE,
    broadcast: true,
    maxInFlight: 1,
    decode: decodeChange,
    handle: ({ change }) => {
      log.debug({ change }, 'messaging_changed received');
      // Acked at once: the refresh may reconnect the very channel this came on, and a burst of changes needs one load.
      void source.refresh(`messaging_changed (${change})`);
      return Promise.resolve({ type: 'ack' });
    },
  });
}
