import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeployerArgs } from './config.js';
import { runDeploy, type DeployDeps } from './deploy.js';
import { clusterOf, type DeployerProtocol } from './intake.js';
import { DispatchGate } from '../shared/dispatch.js';
import { managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';

export type { DeployerProtocol } from './intake.js';

/**
 * The Deployer (reference §1.8, §7.1 over Docker hosts): `deployer`, and the same code on `deploy_oa` as Deployer OA.
 * Its intake (intake.ts) runs deploys to one cluster one after another and deploys to different clusters side by
 * side; stopping the actor waits for the deploys in flight. A request its workflow no longer waits for is dropped
 * (shared/dispatch.ts), so a redelivered deploy does not roll out twice.
 */
export default defineActor<DeployerProtocol, DeployerArgs>(import.meta.url, (ctx) => {
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
  // One deploy per cluster at a time (the intake's per-key lanes), so a cluster is in here at most once.
  const deploying = new Set<string>();
  const gate = new DispatchGate({ manager: deps.client, log });
  log.info('Deployer ready');
  return {
    handlers: {
      async milestone(delivered) {
        const { payload } = delivered;
        const cluster = clusterOf(payload);
        deploying.add(cluster);
        try {
          await gate.run(delivered, (rerun) => runDeploy({ ...deps, log: log.child({ workflowId: payload.id }) }, payload, rerun));
        } finally {
          deploying.delete(cluster);
        }
        return { type: 'ack' };
      },
      status: () => ({ queue: args.queue, deploying: [...deploying.keys()] }),
    },
  };
});
