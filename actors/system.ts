import type { Catalogue } from '../runtime/topology.js';

/**
 * The composition root: every component a topology may name, by the name topologies use. Components arrive with
 * their issues (Manager, Orchestrator, Builder, Deployer, FleetManager, Overseer, Notifications); until then a
 * topology can only name what is listed here.
 */
export const components: Catalogue = {};
