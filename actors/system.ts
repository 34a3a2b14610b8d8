import builder from './builder/builder.actor.js';
import { builderArgsFromEnv, type BuilderArgs } from './builder/config.js';
import { builderIntake } from './builder/intake.js';
import { deployerArgsFromEnv } from './deployer/config.js';
import deployer from './deployer/deployer.actor.js';
import { deployerIntake } from './deployer/intake.js';
import { fleetManagerArgsFromEnv } from './fleet-manager/config.js';
import fleetManager from './fleet-manager/fleet-manager.actor.js';
import { FLEET_MANAGER_INTAKE } from './fleet-manager/intake.js';
import { MANAGER_INTAKE } from './manager/intake.js';
import manager from './manager/manager.actor.js';
import type { ManagerArgs } from './manager/messages.js';
import { embeddedManagerAccess, managerArgsFromEnv, readMessagingMetadataOnce } from './manager/setup.js';
import { notificationsArgsFromEnv } from './notifications/config.js';
import notifications from './notifications/notifications.actor.js';
import { NOTIFICATIONS_INTAKE } from './notifications/intake.js';
import { orchestratorArgsFromEnv } from './orchestrator/config.js';
import { DEPLOY_OA_QUEUE, DEPLOYER_QUEUE } from './orchestrator/messages.js';
import { ORCHESTRATOR_INTAKE } from './orchestrator/intake.js';
import orchestrator from './orchestrator/orchestrator.actor.js';
import { overseerArgsFromEnv } from './overseer/config.js';
import { OVERSEER_INTAKE } from './overseer/intake.js';
import overseer from './overseer/overseer.actor.js';
import { routerArgsFromEnv } from './router/config.js';
import { ROUTER_INTAKE } from './router/intake.js';
import router from './router/router.actor.js';
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

/** The composition root: every component a topology may name, by the name topologies use, with its intake. */
export const components: Catalogue = {
  manager: {
    actor: manager,
    intake: MANAGER_INTAKE,
    configure: async (env, args) => {
      const { EXCHANGE_ID, BROKER_ID } = parseEnv(MessagingEnv, env);
      return managerArgsFromEnv(env, { embedded: args.embedded === true, exchangeId: EXCHANGE_ID, brokerId: BROKER_ID });
    },
    // Its process reads its messaging from its own tables, not over its own API (issue 19 item 1).
    messagingMetadata: {
      bootstrap: (args, log) => readMessagingMetadataOnce(args as unknown as ManagerArgs, log),
      topic: 'messaging_metadata',
      describe: "the Manager's database",
      variable: 'MANAGER_DATABASE_URL',
    },
  },
  notifications: { actor: notifications, intake: NOTIFICATIONS_INTAKE, configure: async (env) => notificationsArgsFromEnv(env) },
  overseer: { actor: overseer, intake: OVERSEER_INTAKE, configure: async (env, args) => overseerArgsFromEnv(await workerEnv(env, args)) },
  builder: { actor: builder, intake: (args) => builderIntake(args as unknown as BuilderArgs), configure: async (env, args) => builderArgsFromEnv(await workerEnv(env, args)) },
  deployer: { actor: deployer, intake: deployerIntake(DEPLOYER_QUEUE), configure: async (env, args) => deployerArgsFromEnv(await workerEnv(env, args), DEPLOYER_QUEUE) },
  deployer_oa: { actor: deployer, intake: deployerIntake(DEPLOY_OA_QUEUE), configure: async (env, args) => deployerArgsFromEnv(await workerEnv(env, args), DEPLOY_OA_QUEUE) },
  fleet_manager: { actor: fleetManager, intake: FLEET_MANAGER_INTAKE, configure: async (env, args) => fleetManagerArgsFromEnv(await workerEnv(env, args)) },
  router: { actor: router, intake: ROUTER_INTAKE, configure: async (env, args) => routerArgsFromEnv(await workerEnv(env, args)) },
  orchestrator: { actor: orchestrator, intake: ORCHESTRATOR_INTAKE, configure: async (env, args) => orchestratorArgsFromEnv(await workerEnv(env, args)) },
};
