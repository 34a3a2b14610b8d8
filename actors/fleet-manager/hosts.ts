/**
 * The Docker hosts the FleetManager talks to: one driver per host kept across requests (so an ssh:// host keeps its
 * one SSH connection, runtime/docker/host.ts), and the fan-out of one action over a cluster's hosts, each host held
 * to a deadline so a dead or silent host becomes an answer naming it rather than a hang.
 */
import { createHash } from 'node:crypto';
import type { HostConnection } from '../../http/client/manager-client.js';
import { withTimeout } from '../../runtime/core/promises.js';
import { DockerHostError, type DockerHost } from '../../runtime/docker/host.js';
import { connectHost, DOCKER_SOCKET_LABEL } from '../shared/host-connections.js';

export class DockerHostPool {
  readonly #hosts = new Map<string, DockerHost>();

  constructor(private readonly callTimeoutMs: number) {}

  /** The driver of a host; a host whose URL or credentials changed gets a new one (keyed by all of them). */
  of(conn: HostConnection): DockerHost {
    const socket = conn.labels[DOCKER_SOCKET_LABEL];
    const identity = [conn.name, conn.docker_url, socket, conn.ssh_user, conn.ssh_private_key, conn.tls_ca, conn.tls_cert, conn.tls_private_key];
    const key = createHash('sha256').update(JSON.stringify(identity)).digest('hex');
    let host = this.#hosts.get(key);
    if (host === undefined) {
      host = connectHost(conn, this.callTimeoutMs);
      this.#hosts.set(key, host);
    }
    return host;
  }

  get size(): number {
    return this.#hosts.size;
  }

  async close(): Promise<void> {
    const hosts = [...this.#hosts.values()];
    this.#hosts.clear();
    await Promise.all(hosts.map((h) => h.close()));
  }
}

export type HostOutcome<T> =
  | { readonly host: HostConnection; readonly ok: true; readonly value: T }
  | { readonly host: HostConnection; readonly ok: false; readonly error: string };

/** Runs `work` on every host at once; each settles within `deadlineMs`, as a value or as the error naming the host. */
export function onEachHost<T>(
  hosts: readonly HostConnection[],
  opts: { readonly pool: DockerHostPool; readonly deadlineMs: number; readonly operation: string },
  work: (host: DockerHost, conn: HostConnection) => Promise<T>,
): Promise<Array<HostOutcome<T>>> {
  return Promise.all(
    hosts.map(async (conn): Promise<HostOutcome<T>> => {
      try {
        const host = opts.pool.of(conn);
        const late = () => new DockerHostError(conn.name, conn.docker_url, opts.operation, `no answer within ${opts.deadlineMs} ms`, true);
        return { host: conn, ok: true, value: await withTimeout(work(host, conn), opts.deadlineMs, late) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // The driver's errors name the host already; anything else gets the name here.
        return { host: conn, ok: false, error: message.includes(conn.name) ? message : `Docker host ${conn.name} (${conn.docker_url}): ${message}` };
      }
    }),
  );
}

export const failuresOf = <T>(outcomes: ReadonlyArray<HostOutcome<T>>) =>
  outcomes.flatMap((o) => (o.ok ? [] : [{ host: o.host.name, error: o.error }]));

/** `fn` over `items`, at most `limit` at once, results in order: a host with many containers gets a few calls at a time. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
