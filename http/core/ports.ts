/**
 * Host port allocation in a cluster (reference §2.2 `etcd_cluster_ports`, never wired in the original, §10.1 item 12;
 * issue 15 item 5): decisions over the cluster's rows, which the route reads and writes under a lock on the cluster.
 */

/** The cluster's ports, both ends included. */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/** An allocation row as these decisions see it. */
export interface PortRow {
  readonly id: number;
  readonly port: number | null;
  readonly holder: string | null;
  readonly host: string | null;
  readonly container_port: number | null;
  readonly workflow_id: string | null;
}

/**
 * The lowest port of `range` that `usedPorts` does not hold, or undefined when every one is taken. Reference §2.2:
 * sort the used ports and take the first gap. Nulls (rows without a port) and ports outside the range are ignored.
 */
export function allocatePort(usedPorts: Iterable<number | null>, range: PortRange): number | undefined {
  const used = new Set<number>();
  for (const port of usedPorts) if (port !== null && port >= range.start && port <= range.end) used.add(port);
  for (let port = range.start; port <= range.end; port += 1) if (!used.has(port)) return port;
  return undefined;
}

/** What a container asks for: a host port for each of its container ports, none of `avoid` (busy on its host). */
export interface AllocationAsk {
  readonly holder: string;
  readonly containerPorts: readonly number[];
  readonly avoid: readonly number[];
}

export type AllocationPlan =
  | { readonly ok: true; readonly drop: readonly number[]; readonly add: ReadonlyArray<{ readonly container_port: number; readonly port: number }> }
  | { readonly ok: false; readonly reason: string };

/**
 * The rows to drop (the holder's ports it must avoid) and add (a port for each container port it holds none for).
 * A holder asking again gets what it holds: a re-sent allocation adds nothing.
 */
export function planAllocation(rows: readonly PortRow[], ask: AllocationAsk, range: PortRange): AllocationPlan {
  const avoid = new Set(ask.avoid);
  const mine = rows.filter((r) => r.holder === ask.holder);
  const drop = mine.filter((r) => r.port !== null && avoid.has(r.port));
  const kept = new Set(mine.filter((r) => !drop.includes(r)).map((r) => r.container_port));
  const used = [...rows.filter((r) => !drop.includes(r)).map((r) => r.port), ...avoid];
  const add: Array<{ container_port: number; port: number }> = [];
  for (const containerPort of ask.containerPorts) {
    if (kept.has(containerPort)) continue;
    const port = allocatePort(used, range);
    if (port === undefined) {
      return { ok: false, reason: `no free host port left in ${range.start}-${range.end} (${rows.length} allocated, ${avoid.size} busy on the host)` };
    }
    used.push(port);
    add.push({ container_port: containerPort, port });
  }
  return { ok: true, drop: drop.map((r) => r.id), add };
}

/** A container the deployer found on a host of the cluster, with the host ports its labels say it publishes. */
export interface LiveHolder {
  readonly holder: string;
  readonly host: string;
  readonly ports: Readonly<Record<string, number>>;
}

export interface ReconcileAsk {
  /** The workflow deploying now: its own rows without a container are left over from an earlier attempt. */
  readonly workflowId: string;
  /** The hosts whose containers `live` lists (the cluster's reachable hosts). */
  readonly hosts: readonly string[];
  readonly live: readonly LiveHolder[];
  /** The hosts registered in the cluster: rows on any other host are of a host that was removed. */
  readonly registeredHosts: readonly string[];
  /** Whether no deploy of the workflow can still be running (finished, or no such workflow). */
  readonly isFinished: (workflowId: string | null) => boolean;
}

export interface ReconcilePlan {
  readonly release: readonly number[];
  readonly adopt: ReadonlyArray<{ readonly holder: string; readonly host: string; readonly container_port: number; readonly port: number }>;
}

/**
 * Rows to release: held by a container that is gone from a listed (or removed) host, unless a deploy still running
 * may be about to create it (another workflow's, not finished). Rows to adopt: ports that live containers publish
 * and no row records (containers started before allocations were recorded), where no other row holds the port.
 */
export function planReconcile(rows: readonly PortRow[], ask: ReconcileAsk): ReconcilePlan {
  const live = new Set(ask.live.map((l) => l.holder));
  const listed = new Set(ask.hosts);
  const registered = new Set(ask.registeredHosts);
  const release = rows.filter(
    (r) =>
      r.holder !== null &&
      r.host !== null &&
      !live.has(r.holder) &&
      (listed.has(r.host) || !registered.has(r.host)) &&
      (r.workflow_id === ask.workflowId || ask.isFinished(r.workflow_id)),
  );
  const kept = rows.filter((r) => !release.includes(r));
  const recorded = new Set(kept.map((r) => `${r.holder ?? ''} ${r.container_port ?? ''}`));
  const taken = new Set(kept.map((r) => r.port));
  const adopt: Array<{ holder: string; host: string; container_port: number; port: number }> = [];
  for (const l of ask.live) {
    for (const [containerPort, port] of Object.entries(l.ports)) {
      if (recorded.has(`${l.holder} ${containerPort}`) || taken.has(port)) continue;
      taken.add(port);
      adopt.push({ holder: l.holder, host: l.host, container_port: Number(containerPort), port });
    }
  }
  return { release: release.map((r) => r.id), adopt };
}
