import type { HostConnection } from '../../http/client/manager-client.js';
import { containerOps, type ContainerOps } from '../../runtime/docker/containers.js';
import { connectHost } from '../shared/host-connections.js';

/** The cluster's Docker hosts as the Deployer uses them, from the Manager's `host_connections`. */
export interface ClusterHost {
  readonly name: string;
  readonly ops: ContainerOps;
  /** Where the host's published ports answer: its address, or 127.0.0.1 for a local socket. */
  readonly address: string;
}

export function addressOf(dockerUrl: string): string {
  const url = new URL(dockerUrl);
  return url.protocol === 'unix:' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
}

export function clusterHosts(connections: readonly HostConnection[], timeoutMs: number): ClusterHost[] {
  return connections.map((c) => ({ name: c.name, ops: containerOps(connectHost(c, timeoutMs)), address: addressOf(c.docker_url) }));
}

export const closeHosts = async (hosts: readonly ClusterHost[]): Promise<void> => {
  await Promise.all(hosts.map((h) => h.ops.host.close()));
};
