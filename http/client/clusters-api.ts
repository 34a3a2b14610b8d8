import { fetchOne, fetchPage, type Page, type PageWindow } from './replies.js';
import type { ManagerHttp } from './requests.js';
import { z } from 'zod';
import { Cluster, ClusterHost, HostConnection } from './schemas.js';

/** Clusters (reference §3.2) and their Docker hosts (design §2): where the builder builds and the deployer deploys. */

export interface ClusterQuery extends PageWindow {
  /** true: only clusters that allow Docker builds; false: only the others (a null flag counts as false). */
  readonly allow_docker_builds?: boolean | undefined;
}

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
  };
}
