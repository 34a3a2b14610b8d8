/**
 * Image operations on a Docker host (design §7; reference §6.3, §6.4): build from a directory with every log line
 * streamed, tag, push with registry credentials, and ask a registry (HTTP API v2) whether a tag exists. Built on
 * `DockerHost.call`, so every failure names its host.
 */
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-fs';
import { DockerHostError, type DockerHost } from './host.js';

/** Credentials for one registry (`docker login`). */
export interface RegistryAuth {
  /** `host[:port]` of the registry, as in the image name. */
  readonly registry: string;
  readonly username: string;
  readonly password: string;
  readonly email?: string | undefined;
}

/** A registry refused or failed a request; the message says which registry and, for credentials, which user. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly registry: string,
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(`registry ${registry} ${message}`, options);
  }
}
export const isRegistryError = (e: unknown): e is RegistryError => e instanceof Error && e.name === 'RegistryError';

export interface BuildOptions {
  /** The build context: the directory is sent as a tar, without `.git`. */
  readonly contextDir: string;
  /** Paths relative to `contextDir` that are not sent either. */
  readonly exclude?: readonly string[];
  /** `repository:tag` given to the built image. */
  readonly tag: string;
  /** Each batch of new log lines, as the daemon sends them. */
  readonly onLines: (lines: string[]) => void;
  /** Aborting stops the build: the request is dropped, and the daemon cancels the build and its step container. */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** For base images in private registries. */
  readonly auth?: RegistryAuth | undefined;
}

export interface PushOptions {
  readonly repository: string;
  readonly tag: string;
  readonly auth?: RegistryAuth | undefined;
  readonly onLines?: (lines: string[]) => void;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

const DEFAULT_BUILD_TIMEOUT_MS = 60 * 60_000;
const DEFAULT_PUSH_TIMEOUT_MS = 30 * 60_000;

/** One JSON message of the daemon's build and push streams. */
interface Progress {
  readonly stream?: string;
  readonly status?: string;
  readonly id?: string;
  readonly progressDetail?: { readonly current?: number };
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly aux?: { readonly ID?: string };
}

/**
 * Reads a daemon stream of JSON messages to its end: lines go to `onLines`, the first error message is returned
 * with the image id the build announced.
 */
function follow(stream: Readable, onLines: (lines: string[]) => void, signal: AbortSignal): Promise<{ error?: string; imageId?: string }> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let partial = '';
    const result: { error?: string; imageId?: string } = {};
    const take = (message: Progress): void => {
      const error = message.errorDetail?.message ?? message.error;
      if (error !== undefined) result.error ??= error;
      if (message.aux?.ID !== undefined) result.imageId = message.aux.ID;
      let text = message.stream ?? '';
      if (message.status !== undefined && message.progressDetail?.current === undefined) text += `${message.id ? `${message.id}: ` : ''}${message.status}\n`;
      if (message.error !== undefined) text += `${message.error}\n`;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      const complete = lines.map((l) => l.replace(/\r/g, '')).filter((l) => l.trim() !== '');
      if (complete.length > 0) onLines(complete);
    };
    const onAbort = (): void => {
      stream.destroy();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      const messages = buffer.split(/\r?\n/);
      buffer = messages.pop() ?? '';
      for (const m of messages) if (m.trim() !== '') take(JSON.parse(m) as Progress);
    });
    stream.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    stream.once('end', () => {
      signal.removeEventListener('abort', onAbort);
      if (buffer.trim() !== '') take(JSON.parse(buffer) as Progress);
      if (partial.trim() !== '') onLines([partial]);
      resolve(result);
    });
  });
}

const authConfig = (auth: RegistryAuth) => ({ username: auth.username, password: auth.password, serveraddress: auth.registry, ...(auth.email ? { email: auth.email } : {}) });

/** Builds the image (`--force-rm --no-cache`, reference §6.3) and tags it `tag`; resolves with the image id. */
export async function buildImage(host: DockerHost, opts: BuildOptions): Promise<{ imageId: string }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
  const signal = AbortSignal.any([...(opts.signal ? [opts.signal] : []), AbortSignal.timeout(timeoutMs)]);
  const result = await host.call(
    'build',
    async (api) => {
      // tar-fs packs as a streamx stream; the modem pipes Node streams.
      const excluded = new Set((opts.exclude ?? []).map((path) => join(opts.contextDir, path)));
      const context = Readable.from(pack(opts.contextDir, { ignore: (name) => basename(name) === '.git' || excluded.has(name) }), { objectMode: false });
      const stream = (await api.buildImage(context, {
        t: opts.tag,
        forcerm: true,
        rm: true,
        nocache: true,
        abortSignal: signal,
        ...(opts.auth ? { registryconfig: { [opts.auth.registry]: authConfig(opts.auth) } } : {}),
      })) as unknown as Readable;
      return follow(stream, opts.onLines, signal);
    },
    // The signal's own timeout ends the build; this one only catches a daemon that never answers.
    { timeoutMs: timeoutMs + 10_000 },
  );
  if (result.error !== undefined) throw new DockerHostError(host.name, host.url, 'build', result.error, false);
  if (result.imageId === undefined) throw new DockerHostError(host.name, host.url, 'build', 'the daemon did not say which image it built', false);
  return { imageId: result.imageId };
}

/** Tags an existing image `repository:tag`. */
export async function tagImage(host: DockerHost, image: string, repository: string, tag: string): Promise<void> {
  await host.call('tag', (api) => api.getImage(image).tag({ repo: repository, tag }));
}

const CREDENTIALS_REFUSED = /unauthorized|authentication required|no basic auth credentials|denied|401/i;

/** Pushes `repository:tag`; refused credentials are a RegistryError naming the registry and the user. */
export async function pushImage(host: DockerHost, opts: PushOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const signal = AbortSignal.any([...(opts.signal ? [opts.signal] : []), AbortSignal.timeout(timeoutMs)]);
  const image = `${opts.repository}:${opts.tag}`;
  const result = await host.call(
    'push',
    async (api) => {
      // The daemon wants an auth header even for an open registry; an empty one means none.
      const stream = (await api.getImage(opts.repository).push({ tag: opts.tag, abortSignal: signal, authconfig: opts.auth ? authConfig(opts.auth) : {} })) as Readable;
      return follow(stream, opts.onLines ?? (() => undefined), signal);
    },
    { timeoutMs: timeoutMs + 10_000 },
  );
  if (result.error === undefined) return;
  const registry = registryOfImage(opts.repository);
  if (CREDENTIALS_REFUSED.test(result.error)) {
    const who = opts.auth ? `refused the credentials for user ${opts.auth.username}` : 'requires credentials, and none were given';
    throw new RegistryError(registry, `${who} (push of ${image}: ${result.error})`, false);
  }
  throw new DockerHostError(host.name, host.url, `push of ${image}`, result.error, false);
}

/** The registry part of an image name: `host[:port]` before the first `/` when it looks like a host, else Docker Hub. */
function registryOfImage(repository: string): string {
  const first = repository.split('/')[0] ?? '';
  return repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

export interface TagQuery {
  /** `host[:port]` (https, or http for loopback), or a URL with its scheme. */
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
  readonly auth?: RegistryAuth | undefined;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** The scheme and authority of a registry's API. */
export function registryBaseUrl(registry: string): string {
  if (/^https?:\/\//.test(registry)) return registry.replace(/\/+$/, '');
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return `${loopback ? 'http' : 'https'}://${registry}`;
}

/** A `WWW-Authenticate` challenge: its scheme and parameters. */
function challengeOf(header: string | null): { scheme: string; params: Record<string, string> } {
  const [scheme = '', rest = ''] = (header ?? '').split(/\s+(.*)/s);
  const params = Object.fromEntries([...rest.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  return { scheme: scheme.toLowerCase(), params };
}

/**
 * Whether `repository:tag` exists in the registry (HTTP API v2, `HEAD /v2/<name>/manifests/<tag>`), answering the
 * registry's challenge with basic auth or a bearer token got with the credentials, as the registry asks.
 */
export async function registryHasTag(q: TagQuery): Promise<boolean> {
  const fetchFn = q.fetch ?? fetch;
  const timeoutMs = q.timeoutMs ?? 15_000;
  const url = `${registryBaseUrl(q.registry)}/v2/${q.repository}/manifests/${encodeURIComponent(q.tag)}`;
  const basic = q.auth ? `Basic ${Buffer.from(`${q.auth.username}:${q.auth.password}`).toString('base64')}` : undefined;
  const send = async (target: string, method: 'HEAD' | 'GET', authorization?: string): Promise<Response> => {
    try {
      const headers: Record<string, string> = { accept: MANIFEST_TYPES, ...(authorization ? { authorization } : {}) };
      return await fetchFn(target, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new RegistryError(q.registry, `cannot be reached at ${target}: ${cause}`, true, { cause: err });
    }
  };
  let res = await send(url, 'HEAD');
  if (res.status === 401) {
    const challenge = challengeOf(res.headers.get('www-authenticate'));
    if (challenge.scheme === 'bearer') res = await send(url, 'HEAD', `Bearer ${await bearerToken(q, challenge.params, basic, send)}`);
    else if (basic !== undefined) res = await send(url, 'HEAD', basic);
  }
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  if (res.status === 401 || res.status === 403) {
    throw new RegistryError(q.registry, q.auth ? `refused the credentials for user ${q.auth.username}` : 'requires credentials, and none were given', false);
  }
  throw new RegistryError(q.registry, `answered ${res.status} to HEAD ${url}`, res.status >= 500);
}

async function bearerToken(
  q: TagQuery,
  params: Record<string, string>,
  basic: string | undefined,
  send: (url: string, method: 'GET', authorization?: string) => Promise<Response>,
): Promise<string> {
  if (params.realm === undefined) throw new RegistryError(q.registry, 'asked for a bearer token without saying where to get one', false);
  const realm = new URL(params.realm);
  if (params.service !== undefined) realm.searchParams.set('service', params.service);
  realm.searchParams.set('scope', params.scope ?? `repository:${q.repository}:pull`);
  const res = await send(realm.toString(), 'GET', basic);
  if (res.status === 401 || res.status === 403) {
    throw new RegistryError(q.registry, q.auth ? `refused the credentials for user ${q.auth.username}` : 'requires credentials, and none were given', false);
  }
  const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === 'string' ? body.token : body.access_token;
  if (typeof token !== 'string') throw new RegistryError(q.registry, `gave no token from ${realm.origin}${realm.pathname} (status ${res.status})`, res.status >= 500);
  return token;
}
