/**
 * One Docker host (design §2): dockerode over `unix://`, `tcp://` (TLS when given material) or `ssh://`. This and the
 * other files of runtime/docker are the only code that sees dockerode; components use the typed operations built on
 * `DockerHost.call` (images.ts, containers.ts), never the client itself.
 *
 * Over ssh, one SSH connection per host is kept and API requests run on its channels (stream-local forwards to the
 * remote Docker socket), each kept open for the next request, so a call costs no SSH handshake and usually no channel
 * opening; docker-modem's own ssh mode makes a new connection per request. A dropped connection is re-made on the
 * next call.
 */
import { Agent, type AgentOptions, type ClientRequest } from 'node:http';
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { Client as SshClient, type ConnectConfig } from 'ssh2';
import { withTimeout } from '../core/promises.js';

/** How to reach a host, secrets opened (the Manager's `host_connections`, or configuration). */
export interface DockerHostSpec {
  readonly name: string;
  /** `unix:///var/run/docker.sock`, `tcp://host:port`, `ssh://user@host[:port]`. */
  readonly url: string;
  readonly sshUser?: string | null;
  readonly sshPrivateKey?: string | null;
  readonly tls?: { readonly ca?: string | null; readonly cert?: string | null; readonly key?: string | null };
}

export interface DockerHostOptions {
  /** Per API call, unless the call gives its own. */
  readonly timeoutMs?: number;
  /** The Docker socket on the far side of an ssh host. */
  readonly remoteSocket?: string;
}

/** What failed on which host; `retryable` when the host could not be reached or did not answer in time. */
export class DockerHostError extends Error {
  override readonly name = 'DockerHostError';
  constructor(
    readonly host: string,
    readonly url: string,
    readonly operation: string,
    message: string,
    readonly retryable: boolean,
    readonly statusCode?: number,
    options?: ErrorOptions,
  ) {
    super(`Docker host ${host} (${url}): ${operation}: ${message}`, options);
  }
}
export const isDockerHostError = (e: unknown): e is DockerHostError => e instanceof Error && e.name === 'DockerHostError';

export interface CallOptions {
  readonly timeoutMs?: number;
}

/** A connected host. Only runtime/docker calls `call`; the client type never leaves this folder. */
export interface DockerHost {
  readonly name: string;
  readonly url: string;
  call<T>(operation: string, fn: (api: Docker) => Promise<T>, options?: CallOptions): Promise<T>;
  close(): Promise<void>;
}

export const DEFAULT_DOCKER_TIMEOUT_MS = 30_000;
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** Connects lazily: nothing is dialled until the first call. */
export function dockerHost(spec: DockerHostSpec, options: DockerHostOptions = {}): DockerHost {
  const url = new URL(spec.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOCKER_TIMEOUT_MS;
  const ssh = url.protocol === 'ssh:' ? sshTunnel(spec, url, options.remoteSocket ?? '/var/run/docker.sock') : undefined;
  const api = new Docker(modemOptions(spec, url, ssh?.agent));
  const fail = (operation: string, err: unknown): DockerHostError => {
    if (isDockerHostError(err)) return err;
    const e = err as Error & { code?: string; level?: string; statusCode?: number; json?: { message?: string } };
    const message = e.json?.message ?? e.message ?? String(err);
    const unreachable = (e.code !== undefined && UNREACHABLE.has(e.code)) || e.level === 'client-socket' || e.level === 'client-authentication';
    return new DockerHostError(spec.name, spec.url, operation, unreachable ? `cannot reach the host: ${message}` : message, unreachable, e.statusCode, { cause: err });
  };
  return {
    name: spec.name,
    url: spec.url,
    async call(operation, fn, callOptions = {}) {
      const ms = callOptions.timeoutMs ?? timeoutMs;
      try {
        return await withTimeout(fn(api), ms, () => new DockerHostError(spec.name, spec.url, operation, `no answer within ${ms} ms`, true));
      } catch (err) {
        throw fail(operation, err);
      }
    },
    close: async () => ssh?.close(),
  };
}

function modemOptions(spec: DockerHostSpec, url: URL, sshAgent: Agent | undefined): Docker.DockerOptions {
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: url.pathname };
    case 'tcp:': {
      const tls = spec.tls;
      const secure = Boolean(tls?.cert && tls.key);
      return {
        protocol: secure ? 'https' : 'http',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port),
        ...(secure ? { ca: tls?.ca ?? undefined, cert: tls?.cert ?? undefined, key: tls?.key ?? undefined } : {}),
      };
    }
    case 'ssh:':
      // Plain HTTP over the agent's SSH channels; docker-modem's own ssh mode would ignore the agent.
      return { protocol: 'http', host: 'docker', port: 80, agent: sshAgent } as Docker.DockerOptions;
    default:
      throw new DockerHostError(spec.name, spec.url, 'connect', `unsupported scheme ${url.protocol}; expected unix://, tcp:// or ssh://`, false);
  }
}

interface SshTunnel {
  readonly agent: Agent;
  close(): void;
}

/** How long a channel with no request open stays for the next one. */
const IDLE_CHANNEL_MS = 15_000;

/**
 * An http.Agent whose connections are channels of one SSH connection, kept open between requests (HTTP keep-alive
 * to the Docker socket): a call then costs neither a handshake nor a channel opening. Node closes a kept channel
 * left idle for IDLE_CHANNEL_MS; upgraded (attach) and unfinished streams are never reused.
 */
class SshChannelAgent extends Agent {
  constructor(private readonly open: (callback: (err: Error | null, stream?: Duplex) => void) => void) {
    super({ keepAlive: true, timeout: IDLE_CHANNEL_MS } satisfies AgentOptions);
  }

  override createConnection(_options: unknown, callback: (err: Error | null, stream?: Duplex) => void): undefined {
    this.open((err, channel) => callback(err, channel === undefined ? undefined : asAgentSocket(channel)));
    return undefined;
  }

  override reuseSocket(socket: Duplex, request: ClientRequest): void {
    super.reuseSocket(socket, request);
    // The idle timer is for a kept channel only: a request in progress has its own deadline (DockerHost.call).
    (socket as Duplex & { setTimeout(ms: number): void }).setTimeout(0);
  }
}

/**
 * A channel with what the agent asks of a kept socket: TCP keep-alive and ref/unref mean nothing for a channel (the
 * SSH connection has its own keep-alive), and the timeout is an idle timer the agent arms when the channel is free.
 */
function asAgentSocket(channel: Duplex): Duplex {
  let timer: NodeJS.Timeout | undefined;
  channel.once('close', () => clearTimeout(timer));
  const kept = Object.assign(channel, {
    timeout: 0,
    setKeepAlive: () => kept,
    ref: () => kept,
    unref: () => kept,
    setTimeout(ms: number) {
      clearTimeout(timer);
      kept.timeout = ms;
      timer = ms > 0 ? setTimeout(() => channel.emit('timeout'), ms).unref() : undefined;
      return kept;
    },
  });
  return kept;
}

/** An http.Agent whose connections are channels of one kept SSH connection. */
function sshTunnel(spec: DockerHostSpec, url: URL, remoteSocket: string): SshTunnel {
  const config: ConnectConfig = {
    host: url.hostname,
    port: url.port === '' ? 22 : Number(url.port),
    readyTimeout: 10_000,
    keepaliveInterval: 15_000,
    ...(spec.sshPrivateKey ? { privateKey: spec.sshPrivateKey } : {}),
  };
  const username = decodeURIComponent(url.username) || spec.sshUser;
  if (username) config.username = username;
  let ready: Promise<SshClient> | undefined;
  const connect = (): Promise<SshClient> => {
    ready ??= new Promise<SshClient>((resolve, reject) => {
      const client = new SshClient();
      const forget = () => {
        ready = undefined;
      };
      client.once('ready', () => resolve(client));
      client.once('error', (err) => {
        forget();
        reject(err);
      });
      client.once('close', forget);
      // Small request/response writes: without TCP_NODELAY, Nagle's algorithm meets the peer's delayed ACK and
      // every API call waits tens of milliseconds.
      const sock = createConnection({ host: url.hostname, port: url.port === '' ? 22 : Number(url.port) });
      sock.setNoDelay(true);
      client.connect({ ...config, sock });
    });
    return ready;
  };
  const agent = new SshChannelAgent((callback) =>
    connect().then(
      (client) => client.openssh_forwardOutStreamLocal(remoteSocket, (err, channel) => (err ? callback(err) : callback(null, channel))),
      (err: Error) => callback(err),
    ),
  );
  return {
    agent,
    close() {
      const pending = ready;
      ready = undefined;
      agent.destroy();
      void pending?.then((client) => client.end(), () => undefined);
    },
  };
}
