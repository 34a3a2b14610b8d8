import { z } from 'zod';
import { bodyOf, createdId, expectStatus, fetchOne, fetchPage, type Page, type PageWindow } from './replies.js';
import type { ManagerHttp } from './requests.js';
import { CertificateInfo, DetailedAuthority, RouterBackend, TlsFeedItem } from './schemas.js';
import type { FeedTls, RouteFeed } from '../../actors/router/messages.js';
import type { RouteState } from '../../runtime/haproxy/core/model.js';

/** The router tables (reference §3.12): the authorities clients use and the backends that serve them. */

export interface RouteInput {
  readonly hostname: string;
  readonly port: number;
  readonly secure_connection?: boolean;
  /** 0-256, 100 when not given. */
  readonly weight?: number;
  /** `ready` when not given. */
  readonly state?: RouteState;
}

/** An authority to create: the product and environment it belongs to, when it belongs to one. */
export interface AuthorityInput {
  readonly hostname: string;
  readonly port: number;
  readonly product?: string | null;
  readonly environment?: string | null;
  readonly redirect_http_port?: number | null;
}

export interface RouterApi {
  /** The whole feed, authorities in the Manager's order (by id), each with its backends (by id). */
  routes(): Promise<RouteFeed>;
  /** `product`: only that product's; a product that does not exist is refused (400). */
  authorities(query?: PageWindow & { readonly hostspec?: string; readonly product?: string }): Promise<Page<DetailedAuthority>>;
  /** The authority `hostname:port` (hostname compared without case) with its routes; undefined when there is none. */
  authority(hostname: string, port: number): Promise<DetailedAuthority | undefined>;
  /** Its id. */
  createAuthority(authority: AuthorityInput): Promise<number>;
  /** Changes the fields given; `redirect_http_port: null` ends a redirect. */
  updateAuthority(id: number, change: { readonly hostname?: string; readonly port?: number; readonly redirect_http_port?: number | null }): Promise<void>;
  deleteAuthority(id: number): Promise<void>;
  /** Sets the authority's certificate chain (PEM, leaf first) and private key; the Manager checks them and seals the key. */
  setCertificate(authorityId: number, pem: { readonly certificate: string; readonly private_key: string }): Promise<void>;
  /** What the Manager shows of the authority's certificate (never the key); undefined when it has none. */
  certificate(authorityId: number): Promise<CertificateInfo | undefined>;
  deleteCertificate(authorityId: number): Promise<void>;
  /** Every authority's certificate, opened key and redirect port: an admin's read, for the router. */
  tls(): Promise<readonly FeedTls[]>;
  /** Its id. */
  addRoute(authorityId: number, route: RouteInput): Promise<number>;
  /** Changes the fields given. */
  updateRoute(authorityId: number, routeId: number, change: Partial<RouteInput>): Promise<void>;
  deleteRoute(authorityId: number, routeId: number): Promise<void>;
}

/** The feed's body: `{"<hostname>:<port>": [backend, ...], ..., "timestamp": <unix s>}`. */
const Feed = z.object({ timestamp: z.number().int() }).catchall(z.array(RouterBackend));

export function routerApi(http: ManagerHttp): RouterApi {
  const authorities: RouterApi['authorities'] = ({ hostspec, product, ...window } = {}) =>
    fetchPage(http, { method: 'GET', path: '/router/authorities/detailed', query: { hostspec, product } }, DetailedAuthority, window);
  return {
    async routes() {
      const { timestamp, ...map } = bodyOf(expectStatus(await http.send({ method: 'GET', path: '/router/routes' }), 200), Feed);
      const list = Object.entries(map).map(([key, routes]) => {
        const colon = key.lastIndexOf(':');
        return { hostname: key.slice(0, colon), port: Number(key.slice(colon + 1)), routes: routes as RouterBackend[] };
      });
      return { authorities: list, timestamp };
    },
    authorities,
    async authority(hostname, port) {
      const page = await authorities({ hostspec: `${hostname}:${port}`, limit: 1 });
      return page.items[0];
    },
    createAuthority: async (authority) => Number(createdId(await http.send({ method: 'POST', path: '/router/authorities', body: authority }))),
    async updateAuthority(id, change) {
      expectStatus(await http.send({ method: 'PUT', path: '/router/authorities/:id', params: { id }, body: change }), 204);
    },
    async deleteAuthority(id) {
      expectStatus(await http.send({ method: 'DELETE', path: '/router/authorities/:id', params: { id } }), 204);
    },
    async setCertificate(authorityId, pem) {
      expectStatus(await http.send({ method: 'PUT', path: '/router/authorities/:id/certificate', params: { id: authorityId }, body: pem }), 204);
    },
    certificate: (authorityId) => fetchOne(http, { method: 'GET', path: '/router/authorities/:id/certificate', params: { id: authorityId } }, CertificateInfo),
    async deleteCertificate(authorityId) {
      expectStatus(await http.send({ method: 'DELETE', path: '/router/authorities/:id/certificate', params: { id: authorityId } }), 204);
    },
    tls: async () => bodyOf(expectStatus(await http.send({ method: 'GET', path: '/router/tls' }), 200), z.array(TlsFeedItem)),
    addRoute: async (authorityId, route) =>
      Number(createdId(await http.send({ method: 'POST', path: '/router/authorities/:parent_id/routes', params: { parent_id: authorityId }, body: route }))),
    async updateRoute(authorityId, routeId, change) {
      expectStatus(await http.send({ method: 'PUT', path: '/router/authorities/:parent_id/routes/:id', params: { parent_id: authorityId, id: routeId }, body: change }), 204);
    },
    async deleteRoute(authorityId, routeId) {
      expectStatus(await http.send({ method: 'DELETE', path: '/router/authorities/:parent_id/routes/:id', params: { parent_id: authorityId, id: routeId } }), 204);
    },
  };
}
