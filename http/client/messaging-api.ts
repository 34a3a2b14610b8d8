import { createdId, expectStatus, fetchOne, fetchPage, type Page, type PageWindow } from './replies.js';
import type { ManagerHttp } from './requests.js';
import { Broker, BrokerConnection, Exchange, ExchangeModule, ExchangeRestriction } from './schemas.js';

/** Messaging metadata and the module registry (reference §3.3): read by every process, modules written by each. */

export interface ExchangesApi {
  list(window?: PageWindow): Promise<Page<Exchange>>;
  get(id: number): Promise<Exchange | undefined>;
  /** The broker restrictions of an exchange (reference §4.4). */
  restrictions(exchangeId: number, window?: PageWindow): Promise<Page<ExchangeRestriction>>;
}

export interface BrokersApi {
  list(window?: PageWindow): Promise<Page<Broker>>;
  get(id: number): Promise<Broker | undefined>;
  /** Connection options of a broker; passwords are null unless the client's role is admin (design §2). */
  connections(brokerId: number, window?: PageWindow): Promise<Page<BrokerConnection>>;
}

/** A module's registration or heartbeat (reference §8.1). */
export interface ExchangeModuleInput {
  readonly hostname: string;
  readonly type: string;
  readonly status: 'active' | 'inactive';
  readonly workload?: unknown;
  readonly source_repo?: string | null;
  readonly source_repo_git_ref?: string | null;
  readonly deployment_repo?: string | null;
  readonly deployment_repo_git_ref?: string | null;
}

export interface ExchangeModulesApi {
  /** Registers the module, replacing any row of the same hostname (reference §3.3: upsert by hostname). */
  upsert(exchangeId: number, module: ExchangeModuleInput): Promise<void>;
  list(exchangeId: number, window?: PageWindow): Promise<Page<ExchangeModule>>;
  get(exchangeId: number, hostname: string): Promise<ExchangeModule | undefined>;
  /** false when there was no such module (the Overseer and the module itself may both clean up, reference §8.2). */
  remove(exchangeId: number, hostname: string): Promise<boolean>;
}

export function exchangesApi(http: ManagerHttp): ExchangesApi {
  return {
    list: (window) => fetchPage(http, { method: 'GET', path: '/messaging/exchanges' }, Exchange, window),
    get: (id) => fetchOne(http, { method: 'GET', path: '/messaging/exchanges/:id', params: { id } }, Exchange),
    restrictions: (exchangeId, window) =>
      fetchPage(http, { method: 'GET', path: '/messaging/exchanges/:id/brokers', params: { id: exchangeId } }, ExchangeRestriction, window),
  };
}

export function brokersApi(http: ManagerHttp): BrokersApi {
  return {
    list: (window) => fetchPage(http, { method: 'GET', path: '/messaging/brokers' }, Broker, window),
    get: (id) => fetchOne(http, { method: 'GET', path: '/messaging/brokers/:id', params: { id } }, Broker),
    connections: (brokerId, window) =>
      fetchPage(http, { method: 'GET', path: '/messaging/brokers/:id/connections', params: { id: brokerId } }, BrokerConnection, window),
  };
}

export function exchangeModulesApi(http: ManagerHttp): ExchangeModulesApi {
  const one = (exchangeId: number, hostname: string) => ({ path: '/messaging/exchanges/:id/modules/:hostname', params: { id: exchangeId, hostname } });
  return {
    async upsert(exchangeId, module) {
      createdId(await http.send({ method: 'POST', path: '/messaging/exchanges/:id/modules', params: { id: exchangeId }, body: module }));
    },
    list: (exchangeId, window) => fetchPage(http, { method: 'GET', path: '/messaging/exchanges/:id/modules', params: { id: exchangeId } }, ExchangeModule, window),
    get: (exchangeId, hostname) => fetchOne(http, { method: 'GET', ...one(exchangeId, hostname) }, ExchangeModule),
    async remove(exchangeId, hostname) {
      const reply = await http.send({ method: 'DELETE', ...one(exchangeId, hostname) });
      return expectStatus(reply, 204, 404).status === 204;
    },
  };
}
