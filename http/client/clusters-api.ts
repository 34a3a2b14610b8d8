import { bodyOf, expectStatus, fetchOne, fetchPage, type Page, type PageWindow } from './replies.js';
import type { ManagerHttp } from './requests.js';
import { z } from 'zod';
import { Cluster, ClusterHost, ClusterPort, HostConnection } from './schemas.js';

/** Clusters (reference §3.2) and their Docker hosts (design §2): where the builder builds and the deployer deploys. */

export interface ClusterQuery extends PageWindow {
  /** true: only clusters that allow Docker builds; false: only the others (a null flag counts as false). */
  readonly allow_docker_builds?: boolean | undefined;
}

/** What a container about to start asks for: a host port per container port, none of `avoid` (busy on its host). */
export interface PortRequest {
  readonly holder: string;
  readonly host: string;
  readonly workflow_id: string;
  readonly container_ports: readonly number[];
  readonly avoid?: readonly number[];
  readonly product_name?: string | null;
  readonly unit?: string;
}

/** The containers a deployer found on the cluster's reachable `hosts`, with the host ports their labels name. */
export interface PortReconciliation {
  readonly workflow_id: string;
  readonly hosts: readonly string[];
  readonly live: ReadonlyArray<{ readonly holder: string; readonly host: string; readonly ports: Readonly<Record<string, number>> }>;
}

const Reconciled = z.object({ released: z.array(ClusterPort), adopted: z.array(ClusterPort) });

export interface ClustersApi {
  list(query?: ClusterQuery): Promise<Page<Cluster>>;
  /** The clusters of one exchange, e.g. the build clusters the builder may use (reference §3.3). */
  listOfExchange(exchangeId: number, query?: ClusterQuery): Promise<Page<Cluster>>;
  /** By etcd token, matched case-insensitively. */
  get(etcdToken: string): Promise<Cluster | undefined>;
  /** The Docker hosts of a cluster; secrets are never returned (`"[set]"` to admins where one is stored). */
  hosts(etcdToken: string, window?: PageWindow): Promise<Page<ClusterHost>>;
  host(etcdToken: string, name: string): Promise<ClusterHost | undefined>;
  /** How to reach the cluster's active hosts, secrets opened (admin clients only); undefined for no such cluster. */
  hostConnections(etcdToken: string): Promise<HostConnection[] | undefined>;
  /** The cluster's host port allocations, `holder` narrowing them to one container's. */
  ports(etcdToken: string, query?: PageWindow & { readonly holder?: string }): Promise<Page<ClusterPort>>;
  /** Host ports for a container, `{"<container port>": <host port>}`; asking again for the same holder gives the same ones. */
  allocatePorts(etcdToken: string, request: PortRequest): Promise<Record<string, number>>;
  /** Gives a removed container's ports back; releasing twice is harmless. */
  releasePorts(etcdToken: string, holder: string): Promise<void>;
  /** Releases the rows of containers that are gone and records ports live containers hold unrecorded. */
  reconcilePorts(etcdToken: string, found: PortReconciliation): Promise<{ released: ClusterPort[]; adopted: ClusterPort[] }>;
}

export function clustersApi(http: ManagerHttp): ClustersApi {
  return {
    list: ({ allow_docker_builds, ...window } = {}) => fetchPage(http, { method: 'GET', path: '/clusters', query: { allow_docker_builds } }, Cluster, window),
    listOfExchange: (exchangeId, { allow_docker_builds, ...window } = {}) =>
      fetchPage(http, { method: 'GET', path: '/messaging/exchanges/:id/clusters', params: { id: exchangeId }, query: { allow_docker_builds } }, Cluster, window),
    get: (etcdToken) => fetchOne(http, { method: 'GET', path: '/clusters/:etcd_token', params: { etcd_token: etcdToken } }, Cluster),
    hosts: (etcdToken, window) => fetchPage(http, { method: 'GET', path: '/clusters/:etcd_token/hosts', params: { etcd_token: etcdToken } }, ClusterHost, window),
    host: (etcdToken, name) => fetchOne(http, { method: 'GET', path: '/clusters/:etcd_token/hosts/:name', params: { etcd_token: etcdToken, name } }, ClusterHost),
    hostConnections: (etcdToken) =>
      fetchOne(http, { method: 'GET', path: '/clusters/:etcd_token/host_connections', params: { etcd_token: etcdToken } }, z.array(HostConnection)),
    ports: (etcdToken, { holder, ...window } = {}) =>
      fetchPage(http, { method: 'GET', path: '/clusters/:etcd_token/ports', params: { etcd_token: etcdToken }, query: { holder } }, ClusterPort, window),
    async allocatePorts(etcdToken, request) {
      const reply = await http.send({ method: 'POST', path: '/clusters/:etcd_token/ports', params: { etcd_token: etcdToken }, body: request });
      const rows = bodyOf(expectStatus(reply, 201), z.array(ClusterPort));
      return Object.fromEntries(rows.flatMap((r) => (r.container_port === null || r.port === null ? [] : [[String(r.container_port), r.port]])));
    },
    async releasePorts(etcdToken, holder) {
      expectStatus(await http.send({ method: 'DELETE', path: '/clusters/:etcd_token/ports/holders/:holder', params: { etcd_token: etcdToken, holder } }), 204);
    },
    async reconcilePorts(etcdToken, found) {
      const reply = await http.send({ method: 'POST', path: '/clusters/:etcd_token/ports/reconcile', params: { etcd_token: etcdToken }, body: found });
      return bodyOf(expectStatus(reply, 200), Reconciled);
    },
  };
}
