import { apiClientRoutes } from './api-clients.js';
import { auditEventRoutes } from './audit-events.js';
import { buildLogRoutes } from './build-logs.js';
import { authSourceRoutes } from './auth-sources.js';
import { cloudProviderRoutes } from './cloud-providers.js';
import { clusterHostRoutes } from './cluster-hosts.js';
import { clusterPortRoutes } from './cluster-ports.js';
import { clusterUnitRoutes } from './cluster-units.js';
import { clusterRoutes } from './clusters.js';
import { brokerRoutes } from './messaging-brokers.js';
import { exchangeRoutes } from './messaging-exchanges.js';
import { rpcRequestRoutes } from './messaging-rpc.js';
import { allProductRoutes } from './products.js';
import { routerCertificateRoutes } from './router-certificates.js';
import { routerRoutes } from './router.js';
import { statusRoutes } from './status.js';
import { systemComponentRoutes } from './system-components.js';
import { systemEventRoutes } from './system-events.js';
import { userRoutes } from './users.js';
import { workflowRoutes } from './workflows.js';
import { metricsRoutes } from './metrics.js';
import type { BaseDeps } from '../app.js';
import type { AnyRoute } from '../route.js';
import type { SecretBox } from '../secrets.js';

/** Everything the Manager's routes need. */
export interface ManagerDeps extends BaseDeps {
  readonly secrets: SecretBox;
  /** BROKER_ID, copied into orchestration requests. */
  readonly brokerId?: number;
  /** The UI's base URL, linked from system-event e-mails. */
  readonly uiUrl?: string;
}

/** Every route of the Manager's REST API (reference §3), in one list: the app serves it, the tests walk it. */
export const MANAGER_ROUTES: ReadonlyArray<AnyRoute<ManagerDeps>> = [
  ...statusRoutes,
  ...brokerRoutes,
  ...exchangeRoutes,
  ...rpcRequestRoutes,
  ...clusterRoutes,
  ...clusterPortRoutes,
  ...clusterHostRoutes,
  ...clusterUnitRoutes,
  ...cloudProviderRoutes,
  ...allProductRoutes,
  ...workflowRoutes,
  ...buildLogRoutes,
  ...systemComponentRoutes,
  ...systemEventRoutes,
  ...userRoutes,
  ...apiClientRoutes,
  ...auditEventRoutes,
  ...authSourceRoutes,
  ...routerRoutes,
  ...routerCertificateRoutes,
  ...metricsRoutes,
];
