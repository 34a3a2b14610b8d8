import { createdId, expectStatus, fetchOne, fetchPage, type Page, type PageWindow } from './replies.js';
import { messagesOf, type ManagerHttp } from './requests.js';
import { SystemComponent, SystemComponentRef, SystemEvent } from './schemas.js';

/** System events (reference §3.8), system components (§3.7) and their refs (§3.6): what the Overseer and every module use. */

export interface SystemEventInput {
  readonly type: string;
  readonly severity: string;
  readonly message?: string | null;
  readonly data?: Readonly<Record<string, unknown>> | null;
  /** Refused when an event of the type with the same (or no) data was posted in the last hour (reference §3.8). */
  readonly unique?: boolean;
}

/** A `unique` event the Manager already has is an expected answer (the de-duplication working), not a failure. */
export type EventPosted = { readonly created: true; readonly id: number } | { readonly created: false; readonly reason: string };

export interface SystemEventQuery extends PageWindow {
  /** Hours back; wins over `assignee_id`. The last 24 hours by default. */
  readonly lookback?: number | undefined;
  readonly assignee_id?: number | undefined;
}

export interface SystemEventsApi {
  create(event: SystemEventInput): Promise<EventPosted>;
  /** Newest first. */
  list(query?: SystemEventQuery): Promise<Page<SystemEvent>>;
  get(id: number): Promise<SystemEvent | undefined>;
}

/** A system component as written: the whole body (reference §3.7 validates a PUT as if new). */
export interface SystemComponentInput {
  readonly messaging_exchange_id: number;
  readonly type: string;
  readonly source_repo: string;
  readonly source_repo_git_ref: string;
  readonly deployment_repo: string;
  readonly deployment_repo_git_ref: string;
  readonly upgrade_strategy: 'hourly' | 'manual';
  readonly status?: 'upgrade_in_progress' | 'upgrade_completed' | 'upgrade_failed' | 'ineligible_for_upgrade' | null;
  readonly upgrade_status?: Readonly<Record<string, unknown>> | null;
}

export interface SystemComponentsApi {
  list(query?: PageWindow & { readonly type?: string | undefined }): Promise<Page<SystemComponent>>;
  /** The components of one exchange: what its Overseer polls (reference §8.3). */
  listOfExchange(exchangeId: number, window?: PageWindow): Promise<Page<SystemComponent>>;
  get(id: number): Promise<SystemComponent | undefined>;
  update(id: number, component: SystemComponentInput): Promise<void>;
  /** Asks the component's Overseer for an upgrade; resolves once the Manager's broker has the request. */
  requestUpgrade(id: number): Promise<void>;
}

export interface SystemComponentRefInput {
  readonly type: string;
  readonly source_repo: string;
  readonly source_repo_git_ref: string;
  readonly auto_upgrade_enabled?: boolean;
}

export interface SystemComponentRefsApi {
  list(window?: PageWindow): Promise<Page<SystemComponentRef>>;
  /** By type (reference §3.6 keys refs by `type`). */
  get(type: string): Promise<SystemComponentRef | undefined>;
  update(type: string, ref: SystemComponentRefInput): Promise<void>;
}

export function systemEventsApi(http: ManagerHttp): SystemEventsApi {
  return {
    async create(event) {
      const reply = await http.send({ method: 'POST', path: '/system_events', body: event });
      if (reply.status === 409 && event.unique === true) return { created: false, reason: messagesOf(reply.json).join('; ') || 'duplicate' };
      return { created: true, id: Number(createdId(reply)) };
    },
    list: ({ limit, offset, page, ...filters } = {}) => fetchPage(http, { method: 'GET', path: '/system_events', query: filters }, SystemEvent, { limit, offset, page }),
    get: (id) => fetchOne(http, { method: 'GET', path: '/system_events/:id', params: { id } }, SystemEvent),
  };
}

export function systemComponentsApi(http: ManagerHttp): SystemComponentsApi {
  return {
    list: ({ limit, offset, page, type } = {}) => fetchPage(http, { method: 'GET', path: '/system_components', query: { type } }, SystemComponent, { limit, offset, page }),
    listOfExchange: (exchangeId, window) =>
      fetchPage(http, { method: 'GET', path: '/messaging/exchanges/:id/system_components', params: { id: exchangeId } }, SystemComponent, window),
    get: (id) => fetchOne(http, { method: 'GET', path: '/system_components/:id', params: { id } }, SystemComponent),
    async update(id, component) {
      expectStatus(await http.send({ method: 'PUT', path: '/system_components/:id', params: { id }, body: component }), 204);
    },
    async requestUpgrade(id) {
      expectStatus(await http.send({ method: 'POST', path: '/system_components/:id/upgrade', params: { id } }), 204);
    },
  };
}

export function systemComponentRefsApi(http: ManagerHttp): SystemComponentRefsApi {
  return {
    list: (window) => fetchPage(http, { method: 'GET', path: '/system_component_refs' }, SystemComponentRef, window),
    get: (type) => fetchOne(http, { method: 'GET', path: '/system_component_refs/:type', params: { type } }, SystemComponentRef),
    async update(type, ref) {
      expectStatus(await http.send({ method: 'PUT', path: '/system_component_refs/:type', params: { type }, body: ref }), 204);
    },
  };
}
