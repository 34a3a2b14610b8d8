import type { ConsumerSpec, Outcome, Transport } from './transport.js';
import { isRpcTimeout } from './transport.js';
import type { ProcessMetrics, Settlement } from '../metrics/process-metrics.js';

/**
 * A transport that records what its consumers settle and how its requests end (`openaperture_messaging_*`,
 * `openaperture_rpc_duration_seconds`), whichever transport it wraps: one hook at the edge, none in the consumers.
 * Bytes that are not an envelope never reach a consumer's decoder, so they are not counted.
 */
export function meteredTransport(transport: Transport, metrics: ProcessMetrics): Transport {
  return {
    publish: (to, type, payload, options) => transport.publish(to, type, payload, options),
    request: async (to, type, payload, options) => {
      const ended = metrics.rpcStarted(to.queue);
      try {
        const reply = await transport.request(to, type, payload, options);
        ended('ok');
        return reply;
      } catch (err) {
        ended(isRpcTimeout(err) ? 'timeout' : 'error');
        throw err;
      }
    },
    consume: (spec) => transport.consume(metered(spec, metrics)),
    close: () => transport.close(),
  };
}

function metered<M>(spec: ConsumerSpec<M>, metrics: ProcessMetrics): ConsumerSpec<M> {
  const { queue } = spec;
  return {
    ...spec,
    decode: (payload, type) => {
      metrics.delivered(queue);
      const decoded = spec.decode(payload, type);
      if (!decoded.ok) metrics.settled(queue, 'dead_letter');
      return decoded;
    },
    handle: async (msg, info) => {
      try {
        const outcome = await spec.handle(msg, info);
        metrics.settled(queue, settlementOf(outcome, info.redelivered));
        return outcome;
      } catch (err) {
        // A request's error goes back to its caller and the delivery is acked; anything else counts as a retry.
        metrics.settled(queue, info.envelope.reply_to !== undefined ? 'ack' : retried(info.redelivered));
        throw err;
      }
    },
  };
}

/** What the transports do with an outcome (ConsumerSpec): a retry of a redelivered message is its dead letter. */
export function settlementOf(outcome: Outcome, redelivered: boolean): Settlement {
  switch (outcome.type) {
    case 'ack':
      return 'ack';
    case 'retry':
      return retried(redelivered);
    case 'dead-letter':
      return 'dead_letter';
  }
}

/** A retry requeues once; a message already redelivered goes to `<queue>_error` instead. */
const retried = (redelivered: boolean): Settlement => (redelivered ? 'dead_letter' : 'retry');
