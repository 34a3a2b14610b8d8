/**
 * The typed client workers use to reach shared state (design §6; reference §1.3's ManagerApi): one method per route
 * they need, answers checked against http/client/schemas.ts. It imports no server code, so a worker process loads
 * neither MikroORM nor Koa.
 *
 * - Token: client-credentials grant, cached, refreshed 30 s before expiry, fetched again once on a 401; or a stored
 *   token (`token`), sent as is.
 * - 503 and connection refused: retried with exponential backoff, then ManagerUnavailableError naming the route.
 * - Refusals (4xx, 500): ManagerApiError with the Manager's messages; a 404 of a `get` is `undefined`; the 409s that
 *   are expected answers (a duplicate `unique` event, an execute of a started workflow) are values.
 * - A body of the wrong shape: ManagerResponseError, so a Manager bug is reported where it enters.
 */
import { clustersApi, type ClustersApi } from './clusters-api.js';
import { brokersApi, exchangeModulesApi, exchangesApi, type BrokersApi, type ExchangeModulesApi, type ExchangesApi } from './messaging-api.js';
import { productsApi, type ProductsApi } from './products-api.js';
import { managerHttp, type ManagerClientOptions, type ManagerTokenOptions } from './requests.js';
import { routerApi, type RouterApi } from './router-api.js';
import {
  systemComponentRefsApi,
  systemComponentsApi,
  systemEventsApi,
  type SystemComponentRefsApi,
  type SystemComponentsApi,
  type SystemEventsApi,
} from './system-api.js';
import { workflowsApi, type WorkflowsApi } from './workflows-api.js';

export interface ManagerClient {
  readonly workflows: WorkflowsApi;
  readonly systemEvents: SystemEventsApi;
  readonly systemComponents: SystemComponentsApi;
  readonly systemComponentRefs: SystemComponentRefsApi;
  readonly exchangeModules: ExchangeModulesApi;
  readonly clusters: ClustersApi;
  readonly exchanges: ExchangesApi;
  readonly brokers: BrokersApi;
  readonly products: ProductsApi;
  readonly router: RouterApi;
}

/** A client with its own token, or a stored one (the CLI); build one per process from the parsed configuration (style R19). */
export function managerClient(opts: ManagerClientOptions | ManagerTokenOptions): ManagerClient {
  if (!/^https?:\/\//.test(opts.baseUrl)) throw new RangeError(`baseUrl must be an http(s) URL, got ${JSON.stringify(opts.baseUrl)}`);
  const http = managerHttp(opts);
  return {
    workflows: workflowsApi(http),
    systemEvents: systemEventsApi(http),
    systemComponents: systemComponentsApi(http),
    systemComponentRefs: systemComponentRefsApi(http),
    exchangeModules: exchangeModulesApi(http),
    clusters: clustersApi(http),
    exchanges: exchangesApi(http),
    brokers: brokersApi(http),
    products: productsApi(http),
    router: routerApi(http),
  };
}

export type { ManagerClientOptions, ManagerConnectionOptions, ManagerTokenOptions, RetryPolicy } from './requests.js';
export { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS } from './requests.js';
export type { Page, PageWindow } from './replies.js';
export { MAX_PAGE_SIZE, readAllPages } from './replies.js';
export * from './errors.js';
export type * from './schemas.js';
export type { WorkflowFields, WorkflowUpdate, WorkflowQuery, ExecuteRequest, ExecuteOutcome, CancelOutcome } from './workflows-api.js';
export type { SystemEventInput, EventPosted, SystemEventQuery, SystemComponentInput, SystemComponentRefInput } from './system-api.js';
export type { ExchangeModuleInput } from './messaging-api.js';
export type { ClusterQuery } from './clusters-api.js';
export type { RouteInput } from './router-api.js';
export type { RouteFeed } from '../../actors/router/messages.js';
