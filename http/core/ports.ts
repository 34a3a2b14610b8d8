/** Where cluster host ports start (reference §2.2: the original's `EtcdClusterPort` helper, never wired, §10.1 item 12). */
export const FIRST_CLUSTER_PORT = 45_000;
/** The highest TCP port. */
export const LAST_PORT = 65_535;

/**
 * The lowest port >= `from` that `usedPorts` does not hold, or undefined when every port up to 65535 is taken.
 * Reference §2.2: sort the used ports and take the first gap. Nulls (rows without a port) and ports below `from` are
 * ignored; duplicates are harmless.
 */
export function allocatePort(usedPorts: Iterable<number | null>, from: number = FIRST_CLUSTER_PORT): number | undefined {
  const used = new Set<number>();
  for (const port of usedPorts) if (port !== null && port >= from) used.add(port);
  for (let port = from; port <= LAST_PORT; port += 1) if (!used.has(port)) return port;
  return undefined;
}
