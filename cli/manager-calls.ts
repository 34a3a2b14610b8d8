import { z } from 'zod';
import { CliError } from './core/errors.js';
import { Unit } from '../actors/fleet-manager/messages.js';
import { isManagerApiError } from '../http/client/errors.js';
import { bodyOf, expectStatus } from '../http/client/replies.js';
import type { Call, ManagerHttp } from '../http/client/requests.js';

/**
 * The routes the CLI uses that workers do not, so http/client has no method for them: registering clusters and
 * hosts, and the FleetManager-backed unit routes (reference §3.2).
 */

export interface ClusterInput {
  readonly etcd_token: string;
  readonly name?: string;
  readonly messaging_exchange_id?: number;
  readonly allow_docker_builds?: boolean;
}

export interface HostInput {
  readonly name: string;
  readonly docker_url: string;
  readonly ssh_user?: string;
  readonly ssh_private_key?: string;
  readonly tls_ca?: string;
  readonly tls_cert?: string;
  readonly tls_private_key?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export type FleetUnit = z.infer<typeof Unit>;

export interface ManagerCalls {
  addCluster(cluster: ClusterInput): Promise<void>;
  removeCluster(etcdToken: string): Promise<void>;
  addHost(etcdToken: string, host: HostInput): Promise<void>;
  removeHost(etcdToken: string, name: string): Promise<void>;
  units(etcdToken: string): Promise<FleetUnit[]>;
  unitLogs(etcdToken: string, machineId: string, unitName: string): Promise<string>;
}

/** A 404 naming the missing row as the Manager does (`<Item> was not found`) turned into what to do about it. */
async function explained404<T>(work: Promise<T>, item: string, message: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isManagerApiError(err) && err.status === 404 && err.messages.some((m) => m.startsWith(`${item} `))) throw new CliError(message);
    throw err;
  }
}

/** `work` on the cluster `token`, whose absence is said as such. */
export const inCluster = <T>(token: string, work: Promise<T>): Promise<T> =>
  explained404(work, 'EtcdCluster', `no cluster ${JSON.stringify(token)} (see: openaperture clusters list)`);

export function managerCalls(http: ManagerHttp): ManagerCalls {
  const send = async (call: Call, ...ok: number[]) => expectStatus(await http.send(call), ...ok);
  return {
    async addCluster(cluster) {
      await send({ method: 'POST', path: '/clusters', body: cluster }, 201);
    },
    removeCluster: (token) => inCluster(token, send({ method: 'DELETE', path: '/clusters/:etcd_token', params: { etcd_token: token } }, 204)).then(() => undefined),
    addHost: (token, host) => inCluster(token, send({ method: 'POST', path: '/clusters/:etcd_token/hosts', params: { etcd_token: token }, body: host }, 201)).then(() => undefined),
    async removeHost(token, name) {
      const call = send({ method: 'DELETE', path: '/clusters/:etcd_token/hosts/:name', params: { etcd_token: token, name } }, 204);
      await inCluster(token, explained404(call, 'ClusterHost', `no host ${JSON.stringify(name)} in cluster ${JSON.stringify(token)} (see: openaperture hosts list ${token})`));
    },
    async units(token) {
      const reply = await inCluster(token, send({ method: 'GET', path: '/clusters/:etcd_token/units', params: { etcd_token: token } }, 200));
      return bodyOf(reply, z.array(Unit));
    },
    async unitLogs(token, machineId, unitName) {
      const path = '/clusters/:etcd_token/machines/:machine_id/units/:unit_name/logs';
      const reply = await inCluster(token, send({ method: 'GET', path, params: { etcd_token: token, machine_id: machineId, unit_name: unitName } }, 200));
      return bodyOf(reply, z.string());
    },
  };
}
