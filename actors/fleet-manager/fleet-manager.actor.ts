/**
 * The FleetManager (reference §1.10, §7.3) over clusters of Docker hosts (design §2): an RPC server on queue
 * `fleet_manager` of its exchange. Its intake (intake.ts) runs requests side by side: one slow host must not queue
 * every other cluster's questions. A request's reply goes back in the `ack`; a failure goes back as an error reply
 * naming the host, a malformed request is dead-lettered and its caller told why (transport.ts).
 */
import { runAction } from './actions.js';
import type { FleetManagerArgs } from './config.js';
import { DockerHostPool } from './hosts.js';
import { parseRequest, type FleetManagerProtocol } from './intake.js';
import { FLEET_MANAGER_QUEUE } from './messages.js';
import { managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';

export type { FleetManagerProtocol } from './intake.js';

export default defineActor<FleetManagerProtocol, FleetManagerArgs>(import.meta.url, (ctx) => {
  const { args } = ctx;
  const client = managerClient({ ...args.manager, log: ctx.log });
  const pool = new DockerHostPool(args.hostTimeoutMs);
  const deps = { clusters: client.clusters, pool, args, log: ctx.log };
  ctx.log.info({ queue: FLEET_MANAGER_QUEUE, hostTimeoutMs: args.hostTimeoutMs, diskProbeImage: args.diskProbeImage }, 'FleetManager ready');
  return {
    handlers: {
      async request(delivered) {
        const parsed = parseRequest(delivered.payload);
        // To `fleet_manager_error` with the reason; a caller waiting for the reply gets the reason as its error.
        if (!parsed.ok) return { type: 'dead-letter', reason: parsed.reason };
        const { action, etcd_token } = parsed.request;
        const log = ctx.log.child({ action, etcdToken: etcd_token, messageId: delivered.id });
        try {
          const reply = await runAction({ ...deps, log }, parsed.request);
          log.debug('FleetManager action answered');
          return { type: 'ack', reply };
        } catch (err) {
          log.warn({ err }, 'FleetManager action failed');
          throw err;
        }
      },
    },
    stop: () => pool.close(),
  };
});
