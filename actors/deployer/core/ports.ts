import type { ContainerSpec } from '../../../runtime/docker/containers.js';
import { LABELS } from '../messages.js';

/**
 * Host ports of a cluster (reference §2.2 `etcd_cluster_ports`, never wired in the original, §10.1 item 12; issue 15
 * item 5): the Manager allocates them, each unique across the cluster, from the cluster's range; the Deployer
 * publishes them on the cluster's bind address, records them on the container (its ports label) and skips any that
 * Docker finds busy on the host.
 */

/** `{"8080": 20001}` as the ports label holds it; a label that is missing or not that shape holds nothing. */
export function portsOfLabels(labels: Readonly<Record<string, string>>): Record<string, number> {
  const text = labels[LABELS.ports];
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => Number.isInteger(e[1]) && (e[1] as number) > 0));
  } catch {
    return {};
  }
}

/** `spec` publishing each container port on its host port (`{"8080": 20001}`), on `bindAddress` (null: the host's default). */
export function publishPorts(spec: ContainerSpec, hostPorts: Readonly<Record<string, number>>, bindAddress: string | null): ContainerSpec {
  const entries = Object.entries(hostPorts);
  return {
    ...spec,
    labels: { ...spec.labels, [LABELS.ports]: JSON.stringify(hostPorts) },
    env: { ...spec.env, ...Object.fromEntries(entries.map(([c, h]) => [`OA_HOST_PORT_${c}`, String(h)])) },
    ports: entries.map(([c, h]) => ({ container: Number(c), host: h, ...(bindAddress === null ? {} : { hostIp: bindAddress }) })),
  };
}

/** How Docker refuses a port another listener holds: a container ("port is already allocated") or a process. */
const BUSY = /port is already allocated|address already in use/i;

/**
 * The host ports of `tried` that a failed start says are busy, or undefined when the failure is not about a busy
 * port. Docker names the port (`Bind for 0.0.0.0:20001 failed`, `listen tcp4 127.0.0.1:20001: bind`); when no port
 * of `tried` is named, all of them are suspect.
 */
export function busyPortsOf(message: string, tried: readonly number[]): number[] | undefined {
  if (!BUSY.test(message)) return undefined;
  const named = new Set([...message.matchAll(/:(\d{1,5})\b/g)].map((m) => Number(m[1])));
  const busy = tried.filter((p) => named.has(p));
  return busy.length > 0 ? busy : [...tried];
}
