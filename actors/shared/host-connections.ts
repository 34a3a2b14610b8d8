/**
 * A cluster host as the Manager's `host_connections` gives it (secrets opened, admin client), as the Docker host
 * driver takes it. Builder, Deployer and FleetManager all reach hosts this way.
 */
import type { HostConnection } from '../../http/client/manager-client.js';
import { dockerHost, type DockerHost, type DockerHostSpec } from '../../runtime/docker/host.js';

/** A host label naming the Docker socket on the far side of an `ssh://` host when it is not /var/run/docker.sock. */
export const DOCKER_SOCKET_LABEL = 'docker_socket';

export function hostSpecOf(conn: HostConnection): DockerHostSpec {
  return {
    name: conn.name,
    url: conn.docker_url,
    sshUser: conn.ssh_user,
    sshPrivateKey: conn.ssh_private_key,
    tls: { ca: conn.tls_ca, cert: conn.tls_cert, key: conn.tls_private_key },
  };
}

/** The driver of a host, with its remote socket label honoured. */
export function connectHost(conn: HostConnection, timeoutMs: number): DockerHost {
  const socket = conn.labels[DOCKER_SOCKET_LABEL];
  return dockerHost(hostSpecOf(conn), { timeoutMs, ...(socket ? { remoteSocket: socket } : {}) });
}
