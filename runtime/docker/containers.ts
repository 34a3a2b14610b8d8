/**
 * Container operations on one Docker host (design §2), as plain data in and out: components build a ContainerSpec
 * (style R4) and never see dockerode. Every operation goes through `DockerHost.call`, so it has a timeout and its
 * error names the host.
 */
import type Docker from 'dockerode';
import type { DockerHost } from './host.js';

export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure';

/** A container to create. Ports publish `container` on `hostIp:host` (TCP). */
export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
  readonly ports: ReadonlyArray<{ readonly container: number; readonly host: number; readonly hostIp?: string }>;
  readonly restartPolicy: RestartPolicy;
  readonly command?: readonly string[] | undefined;
}

/** Credentials of the registry an image lives in (`docker.json`'s `docker_registry_*`). */
export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
  readonly serveraddress: string;
  readonly email?: string;
}

/** What a list shows of a container. */
export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `created`, `running`, `restarting`, `exited`, `paused`, `dead`, `removing`. */
  readonly state: string;
}

/** What an inspect shows of a container's life. */
export interface ContainerState extends ContainerSummary {
  readonly running: boolean;
  readonly restartCount: number;
  readonly exitCode: number;
  /** The image's HEALTHCHECK verdict (`starting`, `healthy`, `unhealthy`), null when the image has none. */
  readonly health: string | null;
  /** ISO time of the last start, null when never started. */
  readonly startedAt: string | null;
}

export interface ContainerOps {
  readonly host: DockerHost;
  /** Pulls `image` unless the host has it; `pulled` tells which. */
  ensureImage(image: string, auth?: RegistryAuth, timeoutMs?: number): Promise<{ readonly pulled: boolean }>;
  /** Creates the container (not started); resolves with its id. */
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** Undefined when no such container. */
  inspect(id: string): Promise<ContainerState | undefined>;
  /** Stops it (SIGTERM, then SIGKILL after `graceSeconds`); a stopped one stays as is. */
  stop(id: string, graceSeconds?: number): Promise<void>;
  /** Removes it, running or not; a missing one is not an error. */
  remove(id: string): Promise<void>;
  /** The last `lines` lines of its stdout and stderr, in order. */
  logsTail(id: string, lines: number): Promise<string[]>;
  /** Containers, stopped ones included, carrying every given label (`value` undefined: any value). */
  listByLabels(labels: Readonly<Record<string, string | undefined>>): Promise<ContainerSummary[]>;
}

/** Pulls are bounded too, but may take far longer than an API call. */
const DEFAULT_PULL_TIMEOUT_MS = 300_000;

const isNotFound = (err: unknown): boolean => (err as { statusCode?: number }).statusCode === 404;
const nameOf = (names: readonly string[] | undefined): string => (names?.[0] ?? '').replace(/^\//, '');

function createOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const exposed = Object.fromEntries(spec.ports.map((p) => [`${p.container}/tcp`, {}]));
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of spec.ports) (bindings[`${p.container}/tcp`] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: String(p.host) });
  return {
    name: spec.name,
    Image: spec.image,
    Labels: { ...spec.labels },
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ExposedPorts: exposed,
    ...(spec.command ? { Cmd: [...spec.command] } : {}),
    HostConfig: { PortBindings: bindings, RestartPolicy: { Name: spec.restartPolicy } },
  };
}

/**
 * Docker multiplexes stdout and stderr of a container without a TTY in frames: 1 byte stream, 3 zero bytes, a
 * 4-byte big-endian length, the payload. A TTY container's log is the raw text.
 */
export function demuxLog(buffer: Buffer): string {
  const looksFramed = buffer.length >= 8 && buffer[0]! <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!looksFramed) return buffer.toString('utf8');
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= buffer.length; ) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

function pullAll(api: Docker, image: string, auth: RegistryAuth | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const options = auth ? { authconfig: { ...auth } } : {};
    api.pull(image, options, (err: Error | null, stream?: NodeJS.ReadableStream) => {
      if (err || !stream) return reject(err ?? new Error('no pull stream'));
      // A pull that fails midway reports it as an `error` event in the stream, not as an HTTP status.
      api.modem.followProgress(stream, (done: Error | null, events: Array<{ error?: string }>) => {
        const failed = events.find((e) => e.error !== undefined);
        if (done || failed) reject(done ?? new Error(failed?.error));
        else resolve();
      });
    });
  });
}

export function containerOps(host: DockerHost): ContainerOps {
  return {
    host,
    async ensureImage(image, auth, timeoutMs = DEFAULT_PULL_TIMEOUT_MS) {
      const present = await host.call(`inspect image ${image}`, async (api) => {
        try {
          await api.getImage(image).inspect();
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      });
      if (present) return { pulled: false };
      await host.call(`pull ${image}`, (api) => pullAll(api, image, auth), { timeoutMs });
      return { pulled: true };
    },
    create: (spec) => host.call(`create container ${spec.name}`, async (api) => (await api.createContainer(createOptions(spec))).id),
    start: (id) =>
      host.call(`start container ${id}`, async (api) => {
        await api.getContainer(id).start();
      }),
    inspect: (id) =>
      host.call(`inspect container ${id}`, async (api) => {
        try {
          const c = await api.getContainer(id).inspect();
          const state = c.State as Docker.ContainerInspectInfo['State'] & { Health?: { Status?: string } };
          return {
            id: c.Id,
            name: c.Name.replace(/^\//, ''),
            image: c.Config.Image,
            labels: c.Config.Labels ?? {},
            state: state.Status,
            running: state.Running,
            restartCount: c.RestartCount,
            exitCode: state.ExitCode,
            health: state.Health?.Status ?? null,
            startedAt: state.StartedAt.startsWith('0001-') ? null : state.StartedAt,
          } satisfies ContainerState;
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      }),
    stop: (id, graceSeconds = 10) =>
      host.call(`stop container ${id}`, async (api) => {
        try {
          await api.getContainer(id).stop({ t: graceSeconds });
        } catch (err) {
          // 304: already stopped, which is what was asked.
          if ((err as { statusCode?: number }).statusCode !== 304) throw err;
        }
      }),
    remove: (id) =>
      host.call(`remove container ${id}`, async (api) => {
        try {
          await api.getContainer(id).remove({ force: true, v: true });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    logsTail: (id, lines) =>
      host.call(`logs of container ${id}`, async (api) => {
        const raw = await api.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false });
        return demuxLog(raw).split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
      }),
    listByLabels: (labels) =>
      host.call('list containers', async (api) => {
        const label = Object.entries(labels).map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
        const found = await api.listContainers({ all: true, filters: JSON.stringify({ label }) });
        return found.map((c) => ({ id: c.Id, name: nameOf(c.Names), image: c.Image, labels: c.Labels ?? {}, state: c.State }));
      }),
  };
}
