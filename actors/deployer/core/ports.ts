import { FIRST_CLUSTER_PORT, LABELS } from '../messages.js';

/**
 * Host ports of a cluster (reference §2.2 `etcd_cluster_ports`, never wired in the original, §10.1 item 12): each
 * container port of an instance gets a host port unique across the cluster, the lowest free one from 45000. What is
 * held is read from the cluster's containers themselves (their ports label), so there is no second record to drift.
 */

/** `{"8080": 45001}` as the ports label holds it; a label that is missing or not that shape holds nothing. */
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

/** The ports held by `labelSets`, each container's labels. */
export function heldPorts(labelSets: ReadonlyArray<Readonly<Record<string, string>>>): Set<number> {
  return new Set(labelSets.flatMap((l) => Object.values(portsOfLabels(l))));
}

/** The lowest port from FIRST_CLUSTER_PORT not in `held`; adds it to `held`. */
export function allocatePort(held: Set<number>): number {
  let port = FIRST_CLUSTER_PORT;
  while (held.has(port)) port += 1;
  if (port > 65_535) throw new RangeError(`no free host port left in the cluster (${held.size} held from ${FIRST_CLUSTER_PORT})`);
  held.add(port);
  return port;
}
