import manager from './manager/manager.actor.js';
import { managerArgsFromEnv } from './manager/setup.js';
import { MessagingEnv, parseEnv } from '../runtime/config.js';
import type { Catalogue } from '../runtime/topology.js';

/**
 * The composition root: every component a topology may name, by the name topologies use. The Orchestrator, Builder,
 * Deployer, FleetManager, Overseer and Notifications arrive with their issues.
 */
export const components: Catalogue = {
  manager: {
    actor: manager,
    configure: async (env, args) => {
      const { EXCHANGE_ID, BROKER_ID } = parseEnv(MessagingEnv, env);
      return managerArgsFromEnv(env, { embedded: args.embedded === true, exchangeId: EXCHANGE_ID, brokerId: BROKER_ID });
    },
  },
};
