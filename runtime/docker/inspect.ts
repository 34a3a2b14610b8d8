/**
 * Read-side operations on one Docker host (issue 7: what the FleetManager answers with): the platform's containers
 * found by label, their state, a tail of their logs, a restart, what the host runs and how full its Docker data root
 * is. Everything goes through the Docker API of `host.ts` (no SSH shell is assumed), so the same code serves unix://,
 * tcp:// and ssh:// hosts. Label keys come from the caller: runtime/ knows no component.
 */
import { DockerHostError, type DockerHost } from './host.js';

/** A container as the list endpoint shows it: enough to find a unit without inspecting every container. */
export interface ContainerListing {
  readonly id: string;
  /** Without Docker's leading `/`. */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Docker's state: created, running, paused, restarting, removing, exited or dead. */
  readonly state: string;
}

export interface PublishedPort {
  /** `8080/tcp`. */
  readonly containerPort: string;
  readonly hostPort: string;
}

/** What inspecting a container tells about its state and make-up. */
export interface ContainerDetails extends ContainerListing {
  readonly exitCode: number;
  /** starting, healthy, unhealthy; `none` without a HEALTHCHECK. */
  readonly health: string;
  readonly startedAt: string;
  readonly env: readonly string[];
  readonly command: readonly string[];
  readonly ports: readonly PublishedPort[];
  readonly tty: boolean;
}

export interface HostInfo {
  /** The daemon's own name for its machine. */
  readonly hostname: string;
  /** `Debian GNU/Linux 12 (bookworm)`: the OS name and version as the daemon reports them. */
  readonly operatingSystem: string;
  readonly dockerVersion: string;
  readonly dockerRootDir: string;
}

export interface LogTail {
  readonly stdout: string;
  readonly stderr: string;
}

/** `{a: 'x'}` -> Docker's `label` filter `["a=x"]`; every label must match. */
const labelFilter = (labels: Readonly<Record<string, string>>): { label: string[] } => ({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });

/** Every container (running or not) carrying all of `labels`. One API call. */
export async function listLabelledContainers(host: DockerHost, labels: Readonly<Record<string, string>>): Promise<ContainerListing[]> {
  const found = await host.call('list containers', (api) => api.listContainers({ all: true, filters: labelFilter(labels) }));
  return found.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
    image: c.Image,
    labels: c.Labels ?? {},
    state: c.State,
  }));
}

export async function inspectContainer(host: DockerHost, id: string): Promise<ContainerDetails> {
  const c = await host.call(`inspect container ${id.slice(0, 12)}`, (api) => api.getContainer(id).inspect());
  const ports = Object.entries(c.NetworkSettings?.Ports ?? {}).flatMap(([containerPort, bindings]) =>
    (bindings ?? []).map((b) => ({ containerPort, hostPort: b.HostPort })),
  );
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config.Image,
    labels: c.Config.Labels ?? {},
    state: c.State.Status,
    exitCode: c.State.ExitCode,
    health: c.State.Health?.Status ?? 'none',
    startedAt: c.State.StartedAt,
    env: c.Config.Env ?? [],
    command: c.Config.Cmd ?? [],
    ports: dedupePorts(ports),
    tty: c.Config.Tty,
  };
}

/** Docker lists a binding once per address family (0.0.0.0 and ::); one row per port is what a reader wants. */
function dedupePorts(ports: readonly PublishedPort[]): PublishedPort[] {
  const seen = new Set<string>();
  return ports.filter((p) => {
    const key = `${p.containerPort}->${p.hostPort}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The last `lines` lines of the container's stdout and stderr (a TTY container has only stdout). */
export async function containerLogTail(host: DockerHost, id: string, opts: { readonly lines: number; readonly tty: boolean }): Promise<LogTail> {
  const raw = await host.call(`logs of container ${id.slice(0, 12)}`, (api) =>
    api.getContainer(id).logs({ stdout: true, stderr: true, tail: opts.lines, follow: false }),
  );
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
  return opts.tty ? { stdout: bytes.toString('utf8'), stderr: '' } : demuxLogs(bytes);
}

/**
 * Splits Docker's multiplexed log stream: frames of an 8-byte header (stream 1 = stdout, 2 = stderr, then a big-endian
 * length) and the payload. A truncated last frame keeps what arrived.
 */
export function demuxLogs(bytes: Buffer): LogTail {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    const stream = bytes[at];
    const size = bytes.readUInt32BE(at + 4);
    const payload = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + size));
    (stream === 2 ? err : out).push(payload);
    at += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Stops (the container's own stop timeout, or `timeoutSeconds`) and starts the container again. */
export async function restartContainer(host: DockerHost, id: string, opts: { readonly timeoutSeconds?: number; readonly timeoutMs?: number } = {}): Promise<void> {
  await host.call(
    `restart container ${id.slice(0, 12)}`,
    (api) => api.getContainer(id).restart(opts.timeoutSeconds === undefined ? {} : { t: opts.timeoutSeconds }),
    opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs },
  );
}

export async function hostInfo(host: DockerHost): Promise<HostInfo> {
  const info = await host.call('info', (api) => api.info() as Promise<Record<string, unknown>>);
  const text = (key: string): string => (typeof info[key] === 'string' ? (info[key] as string) : '');
  const os = text('OperatingSystem');
  const version = text('OSVersion');
  return {
    hostname: text('Name'),
    operatingSystem: version !== '' && !os.includes(version) ? `${os} ${version}`.trim() : os,
    dockerVersion: text('ServerVersion'),
    dockerRootDir: text('DockerRootDir'),
  };
}

/** Where the probe sees the data root, read-only. */
const PROBE_MOUNT = '/oa-data-root';

/**
 * How full (percent used, as `df` reports it) the filesystem holding `rootDir` is, on the host itself: a short-lived
 * container of `image` (which must be on the host and have `df`) mounts the directory read-only and runs `df -P`.
 * The container is removed whatever happens, even when the caller has stopped waiting.
 */
export async function dataRootUsePercent(host: DockerHost, opts: { readonly image: string; readonly rootDir: string }): Promise<number> {
  const container = await host.call('create disk probe', (api) =>
    api.createContainer({
      Image: opts.image,
      Cmd: ['df', '-P', PROBE_MOUNT],
      Labels: { 'io.openaperture.probe': 'disk' },
      HostConfig: { Binds: [`${opts.rootDir}:${PROBE_MOUNT}:ro`], NetworkMode: 'none' },
    }),
  );
  try {
    await host.call('start disk probe', () => container.start());
    const exit = (await host.call('wait for disk probe', () => container.wait())) as { StatusCode?: number };
    const logs = await containerLogTail(host, container.id, { lines: 10, tty: false });
    const fail = (message: string) => new DockerHostError(host.name, host.url, 'disk probe', message, false);
    if (exit.StatusCode !== 0) throw fail(`df in ${opts.image} exited with ${exit.StatusCode}: ${logs.stderr.trim() || logs.stdout.trim()}`);
    const percent = parseDfCapacity(logs.stdout);
    if (percent === undefined) throw fail(`cannot read df's output: ${JSON.stringify(logs.stdout.slice(0, 200))}`);
    return percent;
  } finally {
    // A probe left behind is labelled for an operator to find; losing the reading over it would help nobody.
    await host.call('remove disk probe', () => container.remove({ force: true })).catch(() => undefined);
  }
}

/** The `Capacity` percent of the last filesystem line of `df -P`; undefined when there is none. */
export function parseDfCapacity(output: string): number | undefined {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.slice(1).at(-1);
  const capacity = last?.split(/\s+/).find((field) => /^\d+%$/.test(field));
  return capacity === undefined ? undefined : Number(capacity.slice(0, -1));
}
