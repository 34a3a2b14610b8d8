/**
 * The FleetManager (reference §1.10, §7.3) over clusters of Docker hosts (design §2): an RPC server on queue
 * `fleet_manager` of its exchange. It consumes the queue itself rather than through an actor topic, so requests run
 * side by side (up to the transport's in-flight cap): one slow host must not queue every other cluster's questions.
 * A request's reply goes back in the `ack`; a failure goes back as an error reply naming the host (transport.ts).
 */
import { runAction } from './actions.js';
import type { FleetManagerArgs } from './config.js';
import { FleetRequestError } from './errors.js';
import { DockerHostPool } from './hosts.js';
import { decodeRaw, parseRequest, type RawRequest } from './intake.js';
import { FLEET_MANAGER_QUEUE } from './messages.js';
import { managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { DeliveryInfo, Outcome } from '../../runtime/messaging/transport.js';

/** No topics: everything arrives by the queue. */
export type FleetManagerProtocol = Record<never, { msg: unknown; reply: unknown }>;

export default defineActor<FleetManagerProtocol, FleetManagerArgs>(import.meta.url, async (ctx) => {
  const { args } = ctx;
  const client = managerClient({ ...args.manager, log: ctx.log });
  const pool = new DockerHostPool(args.hostTimeoutMs);
  const deps = { clusters: client.clusters, pool, args, log: ctx.log };

  async function answer(raw: RawRequest, info: DeliveryInfo): Promise<Outcome> {
    const parsed = parseRequest(raw);
    if (!parsed.ok) {
      // Nobody waits for a plain publish: it goes to `fleet_manager_error` with the reason.
      if (info.envelope.reply_to === undefined) return { type: 'dead-letter', reason: parsed.reason };
      throw new FleetRequestError(parsed.reason);
    }
    const { action, etcd_token } = parsed.request;
    const log = ctx.log.child({ action, etcdToken: etcd_token, messageId: info.envelope.id });
    try {
      const reply = await runAction({ ...deps, log }, parsed.request);
      log.debug('FleetManager action answered');
      return { type: 'ack', reply };
    } catch (err) {
      log.warn({ err }, 'FleetManager action failed');
      throw err;
    }
  }

  const subscription = await ctx.transport.consume({ queue: FLEET_MANAGER_QUEUE, decode: decodeRaw, handle: answer });
  ctx.log.info({ queue: FLEET_MANAGER_QUEUE, hostTimeoutMs: args.hostTimeoutMs, diskProbeImage: args.diskProbeImage }, 'FleetManager ready');
  return {
    handlers: {},
    async stop() {
      await subscription.cancel();
      await pool.close();
    },
  };
});
