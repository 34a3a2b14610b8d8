/** Where messaging metadata comes from (issue 3 item 7): one provider interface; static ones now, the Manager later. */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import { messageOf } from '../core/errors.js';
import { isStale, METADATA_TTL_MS } from './core/metadata-cache.js';
import { findMetadataProblems } from './core/metadata-references.js';
import type { MessagingMetadata } from './core/routing.js';

/** The one way messaging metadata (exchanges, brokers, connections, restrictions) reaches the transport. */
export interface MessagingMetadataProvider {
  /** The current metadata; rejects with the reason when it cannot be had. */
  load(): Promise<MessagingMetadata>;
}

/** Messaging metadata from `source` (a file, or configuration) is malformed or inconsistent; each problem names its field. */
export class MessagingMetadataError extends Error {
  override readonly name = 'MessagingMetadataError';
  readonly retryable = false;
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`messaging metadata in ${source} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`, options);
  }
}

/** True for a MessagingMetadataError, also after a process hop has dropped its prototype (style R8). */
export const isMessagingMetadataError = (e: unknown): e is MessagingMetadataError =>
  e instanceof Error && e.name === 'MessagingMetadataError';

// Messages say what was expected, in the words of config.ts; a missing key says "required".
const expected = (what: string) => (issue: { code: string; input?: unknown }) =>
  issue.code !== 'invalid_type' ? undefined : issue.input === undefined ? 'required' : `expected ${what}`;
const id = z.number({ error: expected('a number') }).int('expected a whole number').positive('expected a number above 0');
const wholeOrNull = z.number({ error: expected('a number or null') }).int('expected a whole number');
const ref = wholeOrNull.positive('expected a number above 0');
const PORT = 'expected a port number from 1 to 65535';
const text = z.string({ error: expected('a string') });
const objectError = (issue: { code: string; input?: unknown; keys?: readonly string[] }) => {
  if (issue.code !== 'unrecognized_keys') return expected('an object')(issue);
  const keys = issue.keys ?? [];
  return `unknown key${keys.length === 1 ? '' : 's'} ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
};
const row = <S extends z.core.$ZodLooseShape>(shape: S) => z.strictObject(shape, { error: objectError });
const rows = <T extends z.ZodType>(item: T) => z.array(item, { error: expected('an array') });

// Rows as the Manager returns them (reference §3.3), snake_case; nullable columns may be left out of a file.
// Objects are strict: in a hand-written file an unknown key is a typo, not a newer sender.
/** Schema of a messaging metadata file: `{ exchanges, brokers, connections, restrictions }`. */
export const MessagingMetadataFile = z.strictObject(
  {
    exchanges: rows(
      row({
        id,
        name: text.min(1, 'must not be empty'),
        parent_exchange_id: ref.nullable().default(null),
        routing_key_fragment: z.string({ error: expected('a string or null') }).nullable().default(null),
        failover_exchange_id: ref.nullable().default(null),
      }),
    ),
    brokers: rows(row({ id, name: text.min(1, 'must not be empty'), failover_broker_id: ref.nullable().default(null) })),
    connections: rows(
      row({
        id,
        messaging_broker_id: id,
        username: text,
        password: text,
        host: text.min(1, 'must not be empty'),
        port: wholeOrNull.min(1, PORT).max(65_535, PORT).nullable().default(null),
        virtual_host: z.string({ error: expected('a string or null') }).nullable().default(null),
      }),
    ),
    restrictions: rows(row({ id, messaging_exchange_id: id, messaging_broker_id: id })).default([]),
  },
  { error: objectError },
);

/** `brokers[0].failover_broker_id` from a zod issue path. */
const pathOf = (path: readonly PropertyKey[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(top level)';

/** Checks parsed JSON from `source`: field shapes first, then references between rows (all problems at once). */
export function parseMessagingMetadata(json: unknown, source: string): MessagingMetadata {
  const parsed = MessagingMetadataFile.safeParse(json);
  if (!parsed.success) {
    throw new MessagingMetadataError(source, parsed.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`));
  }
  const problems = findMetadataProblems(parsed.data);
  if (problems.length > 0) throw new MessagingMetadataError(source, problems);
  return parsed.data;
}

/** Reads and checks a messaging metadata JSON file; every problem names its field path, the error names the file. */
export async function loadMetadataFile(path: string): Promise<MessagingMetadata> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (err) {
    throw new MessagingMetadataError(path, [`cannot read it: ${messageOf(err)}`], { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (err) {
    throw new MessagingMetadataError(path, [`not valid JSON: ${messageOf(err)}`], { cause: err });
  }
  return parseMessagingMetadata(json, path);
}

/** A provider of fixed metadata (from a file or `singleBrokerMetadata`), checked once, here, at start (style R19). */
export function staticMetadataProvider(metadata: MessagingMetadata): MessagingMetadataProvider {
  const problems = findMetadataProblems(metadata);
  if (problems.length > 0) throw new MessagingMetadataError('static configuration', problems);
  return { load: () => Promise.resolve(metadata) };
}

/** `%2F` -> `/`; a malformed escape is a configuration error naming the variable, never echoing the password. */
function decoded(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError([`AMQP_URL: the ${what} has a malformed %-escape`]);
  }
}

/**
 * Metadata of the simplest deployment, a process configured only with `AMQP_URL`: one root exchange (id 1, empty
 * routing key fragment), one broker (id 1) with the URL's connection options, no restrictions, no failover.
 * Without credentials in the URL, `guest`/`guest` (RabbitMQ's and amqplib's default); without a path, the default vhost.
 */
export function singleBrokerMetadata(opts: { readonly amqpUrl: string; readonly exchangeName: string }): MessagingMetadata {
  if (opts.exchangeName === '') throw new RangeError('exchangeName must not be empty');
  let url: URL;
  try {
    url = new URL(opts.amqpUrl);
  } catch {
    throw new ConfigError(['AMQP_URL: expected a URL such as amqp://user:password@host:5672/vhost']);
  }
  // The protocol only, never the whole URL: it may hold a password.
  if (url.protocol !== 'amqp:') {
    // amqps would be silently downgraded: a connection row (reference §2.1) has no TLS setting.
    throw new ConfigError([`AMQP_URL: expected an amqp:// URL, got scheme "${url.protocol.slice(0, -1)}"`]);
  }
  if (url.hostname === '') throw new ConfigError(['AMQP_URL: the URL names no host']);
  const vhost = decoded(url.pathname.replace(/^\//, ''), 'virtual host');
  return {
    exchanges: [{ id: 1, name: opts.exchangeName, parent_exchange_id: null, routing_key_fragment: '', failover_exchange_id: null }],
    brokers: [{ id: 1, name: url.host, failover_broker_id: null }],
    connections: [
      {
        id: 1,
        messaging_broker_id: 1,
        username: url.username === '' ? 'guest' : decoded(url.username, 'user name'),
        password: url.username === '' && url.password === '' ? 'guest' : decoded(url.password, 'password'),
        host: url.hostname,
        port: url.port === '' ? null : Number(url.port),
        virtual_host: vhost === '' ? null : vhost,
      },
    ],
    restrictions: [],
  };
}

/**
 * Caches `inner` for `ttlMs` (reference §4.1, §4.2: 5 min, the whole cache flushed when stale). Concurrent loads during
 * a refresh share one inner load. A failed refresh rejects and leaves nothing cached, as in the reference: stale
 * metadata is not served. `now` defaults to the monotonic clock, so a wall-clock jump neither stretches nor cuts the TTL.
 */
export function cachedMetadataProvider(
  inner: MessagingMetadataProvider,
  opts: { readonly ttlMs?: number; readonly now?: () => number } = {},
): MessagingMetadataProvider {
  const ttlMs = opts.ttlMs ?? METADATA_TTL_MS;
  if (!(ttlMs >= 0)) throw new RangeError(`ttlMs must be >= 0, got ${ttlMs}`);
  const now = opts.now ?? (() => performance.now());
  let cached: { readonly metadata: MessagingMetadata; readonly fetchedAt: number } | undefined;
  let refreshing: Promise<MessagingMetadata> | undefined;
  return {
    load(): Promise<MessagingMetadata> {
      if (cached !== undefined && !isStale(cached.fetchedAt, now(), ttlMs)) return Promise.resolve(cached.metadata);
      cached = undefined;
      if (refreshing !== undefined) return refreshing;
      const fetched = (async () => {
        const metadata = await inner.load();
        cached = { metadata, fetchedAt: now() };
        return metadata;
      })();
      // Cleared only after it is stored, so an inner load that throws at once cannot leave a settled promise behind.
      const shared = fetched.finally(() => {
        if (refreshing === shared) refreshing = undefined;
      });
      refreshing = shared;
      return shared;
    },
  };
}
