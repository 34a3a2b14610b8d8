import { AUTH_ENTITIES } from './auth.js';
import { CLUSTERS_ENTITIES } from './clusters.js';
import { MESSAGING_ENTITIES } from './messaging.js';
import { PRODUCTS_ENTITIES } from './products.js';
import { ROUTER_ENTITIES } from './router.js';
import { SYSTEM_ENTITIES } from './system.js';
import { WORKFLOWS_ENTITIES } from './workflows.js';

/** Every entity schema the Manager's ORM knows, one list per aggregate file. */
export const ENTITIES = [
  ...AUTH_ENTITIES,
  ...MESSAGING_ENTITIES,
  ...CLUSTERS_ENTITIES,
  ...PRODUCTS_ENTITIES,
  ...WORKFLOWS_ENTITIES,
  ...SYSTEM_ENTITIES,
  ...ROUTER_ENTITIES,
];
