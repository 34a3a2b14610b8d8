import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeployerArgs } from './config.js';
import { runDeploy, type DeployDeps } from './deploy.js';
import { decodeMilestone } from './routes.js';
import { managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';

/** What the Deployer tells about itself: its queue and the clusters it is deploying to now. */
export interface DeployerProtocol {
  status: { msg: void; reply: { readonly queue: string; readonly deploying: readonly string[] } };
}

/**
 * The Deployer (reference §1.8, §7.1 over Docker hosts): `deployer`, and the same code on `deploy_oa` as Deployer OA.
 *
 * It consumes its queue itself rather than through the catalogue's `consumes`: a queue routed into an actor is an
 * ask bounded by OA_ASK_TIMEOUT_MS, and a rolling deploy takes minutes while its message must stay unacked until the
 * end (reference §7.1). Deploys to one cluster run one after another (they allocate the cluster's ports); deploys
 * to different clusters run side by side. Stopping the actor stops intake and waits for deploys in flight.
 */
export default defineActor<DeployerProtocol, DeployerArgs>(import.meta.url, async (ctx) => {
  const { args } = ctx;
  const log = ctx.log.child({ queue: args.queue });
  const deps: DeployDeps = {
    args,
    client: managerClient({ ...args.manager, log }),
    transport: ctx.transport,
    log,
    hostname: hostname(),
    nonce: () => randomBytes(3).toString('hex'),
  };
  const lanes = new Map<string, Promise<void>>();
  const inLane = (cluster: string, work: () => Promise<void>): Promise<void> => {
    const next = (lanes.get(cluster) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => undefined);
    lanes.set(cluster, settled);
    void settled.then(() => lanes.get(cluster) === settled && lanes.delete(cluster));
    return next;
  };
  const subscription = await ctx.transport.consume({
    queue: args.queue,
    decode: decodeMilestone,
    handle: async (request) => {
      await inLane((request.etcd_token ?? '').toLowerCase(), () => runDeploy({ ...deps, log: log.child({ workflowId: request.id }) }, request));
      return { type: 'ack' };
    },
  });
  log.info('Deployer ready');
  return {
    handlers: { status: () => ({ queue: args.queue, deploying: [...lanes.keys()] }) },
    stop: () => subscription.cancel(),
  };
});
