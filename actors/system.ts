import builder from './builder/builder.actor.js';
import { builderArgsFromEnv } from './builder/config.js';
import { BUILDER_ROUTES } from './builder/intake.js';
import { deployerArgsFromEnv } from './deployer/config.js';
import deployer from './deployer/deployer.actor.js';
import { fleetManagerArgsFromEnv } from './fleet-manager/config.js';
import fleetManager from './fleet-manager/fleet-manager.actor.js';
import manager from './manager/manager.actor.js';
import { embeddedManagerAccess, managerArgsFromEnv } from './manager/setup.js';
import { notificationsArgsFromEnv } from './notifications/config.js';
import notifications from './notifications/notifications.actor.js';
import { NOTIFICATIONS_ROUTES } from './notifications/routes.js';
import { orchestratorArgsFromEnv } from './orchestrator/config.js';
import { DEPLOY_OA_QUEUE, DEPLOYER_QUEUE } from './orchestrator/messages.js';
import orchestrator from './orchestrator/orchestrator.actor.js';
import { overseerArgsFromEnv } from './overseer/config.js';
import { OVERSEER_ROUTES } from './overseer/intake.js';
import overseer from './overseer/overseer.actor.js';
import { MessagingEnv, parseEnv } from '../runtime/config.js';
import type { Catalogue } from '../runtime/topology.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A worker's environment: in the embedded default (`args.embedded`), the Manager of the same process and the
 * platform client it keeps in the data directory stand in for MANAGER_URL and OAUTH_CLIENT_ID/OAUTH_CLIENT_SECRET.
 */
async function workerEnv(env: Env, args: Readonly<Record<string, unknown>>): Promise<Env> {
  if (args.embedded !== true) return env;
  const access = await embeddedManagerAccess(env);
  return { ...env, MANAGER_URL: access.baseUrl, OAUTH_CLIENT_ID: access.clientId, OAUTH_CLIENT_SECRET: access.clientSecret };
}

/** The composition root: every component a topology may name, by the name topologies use. */
export const components: Catalogue = {
  manager: {
    actor: manager,
    configure: async (env, args) => {
      const { EXCHANGE_ID, BROKER_ID } = parseEnv(MessagingEnv, env);
      return managerArgsFromEnv(env, { embedded: args.embedded === true, exchangeId: EXCHANGE_ID, brokerId: BROKER_ID });
    },
  },
  notifications: { actor: notifications, consumes: NOTIFICATIONS_ROUTES, configure: async (env) => notificationsArgsFromEnv(env) },
  overseer: { actor: overseer, consumes: OVERSEER_ROUTES, configure: async (env, args) => overseerArgsFromEnv(await workerEnv(env, args)) },
  // One milestone at a time per Builder, with an ask as long as a milestone may run (intake.ts).
  builder: { actor: builder, consumes: BUILDER_ROUTES, configure: async (env, args) => builderArgsFromEnv(await workerEnv(env, args)) },
  // The Deployer consumes its queue itself (deployer.actor.ts says why): the queue is in its arguments.
  deployer: { actor: deployer, configure: async (env, args) => deployerArgsFromEnv(await workerEnv(env, args), DEPLOYER_QUEUE) },
  deployer_oa: { actor: deployer, configure: async (env, args) => deployerArgsFromEnv(await workerEnv(env, args), DEPLOY_OA_QUEUE) },
  // The FleetManager consumes `fleet_manager` itself, so requests run side by side (fleet-manager.actor.ts).
  fleet_manager: { actor: fleetManager, configure: async (env, args) => fleetManagerArgsFromEnv(await workerEnv(env, args)) },
  // The Orchestrator consumes `workflow_orchestration` itself, so workflows advance side by side (orchestrator.actor.ts).
  orchestrator: { actor: orchestrator, configure: async (env, args) => orchestratorArgsFromEnv(await workerEnv(env, args)) },
};
