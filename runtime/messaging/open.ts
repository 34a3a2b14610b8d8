import { join, resolve } from 'node:path';
import { AmqpTransport } from './amqp-transport.js';
import { MemoryBroker } from './memory-transport.js';
import { followMessagingChanges } from './messaging-changed.js';
import type { MessagingMetadata } from './core/routing.js';
import { loadMetadataFile, singleBrokerMetadata, type MessagingMetadataProvider } from './metadata.js';
import { MetadataSource } from './metadata-source.js';
import type { Transport } from './transport.js';
import { ConfigError, type MessagingEnv } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * Where a process's messaging metadata comes from when neither OA_MESSAGING_METADATA nor AMQP_URL is set: the
 * Manager's tables (issue 19 item 1), through its API or, in the Manager's own process, its database.
 */
export interface MetadataOrigin {
  readonly provider: MessagingMetadataProvider;
  /** For messages: `the Manager at http://manager:4000`. */
  readonly describe: string;
  /** The variable named when it cannot be reached: `MANAGER_URL`. */
  readonly variable: string;
}

/** A process's transport, and the messaging settings its forked children open theirs with. */
export interface OpenedMessaging {
  readonly transport: Transport;
  /**
   * For forked children: with metadata from the Manager, OA_MESSAGING_METADATA names this process's cache file, which
   * the children follow (one reader of the Manager per process; a restarted child starts on the newest copy).
   */
  readonly childEnv: MessagingEnv;
}

/** The file the metadata read from the Manager is kept in (absolute: a forked child may be told to follow it). */
export function metadataCacheFile(env: MessagingEnv): string {
  return resolve(env.OA_MESSAGING_CACHE_DIR ?? join(env.OA_DATA_DIR ?? '.data', 'messaging'), 'messaging-metadata.json');
}

/** The transport, told of every new metadata of `source`; its close stops the source first. */
function followed(transport: AmqpTransport, source: MetadataSource): Transport {
  source.onChange((next) => {
    transport.updateMetadata(next, source.describe);
  });
  return {
    publish: (to, type, payload, options) => transport.publish(to, type, payload, options),
    request: (to, type, payload, options) => transport.request(to, type, payload, options),
    consume: (spec) => transport.consume(spec),
    close: async () => {
      await source.close();
      await transport.close();
    },
  };
}

/** The AMQP transport of this process's settings; a transport with a source asks it again when it may have missed a change. */
function amqpTransport(env: MessagingEnv, log: Logger, metadata: MessagingMetadata, source?: MetadataSource): AmqpTransport {
  return new AmqpTransport({
    metadata,
    ...(source === undefined ? {} : { onStale: (why: string) => void source.refresh(why) }),
    exchangeId: env.EXCHANGE_ID,
    brokerId: env.BROKER_ID,
    log,
    maxInFlight: env.OA_MAX_IN_FLIGHT,
    retryCount: env.OA_AMQP_RETRY_COUNT,
    autoDeclare: env.OA_AMQP_AUTO_DECLARE,
  });
}

/**
 * Where the metadata of an AMQP process comes from when AMQP_URL does not fix it: OA_MESSAGING_METADATA (followed),
 * else `origin` (cached on disk, read again on a period; its children follow the cache). `told`: the Manager
 * broadcasts its changes to this source.
 */
async function openSource(env: MessagingEnv, log: Logger, origin: (() => MetadataOrigin) | undefined): Promise<{ source: MetadataSource; childEnv: MessagingEnv; told: boolean }> {
  const own = { brokerId: env.BROKER_ID, exchangeId: env.EXCHANGE_ID };
  const file = env.OA_MESSAGING_METADATA;
  if (file !== undefined) {
    const provider = { load: () => loadMetadataFile(file) };
    const source = await MetadataSource.open({ provider, describe: `OA_MESSAGING_METADATA (${file})`, variable: 'OA_MESSAGING_METADATA', own, log, watch: { file } });
    return { source, childEnv: env, told: false };
  }
  if (origin === undefined) {
    throw new ConfigError(['AMQP_URL or OA_MESSAGING_METADATA: the amqp transport needs one of them here (neither is set, and this process cannot read the Manager)']);
  }
  const { provider, describe, variable } = origin();
  const cacheFile = metadataCacheFile(env);
  const cache = { file: cacheFile, variable: 'OA_MESSAGING_CACHE_DIR' };
  const source = await MetadataSource.open({ provider, describe, variable, own, log, cache, refreshMs: env.OA_MESSAGING_REFRESH_S * 1_000 });
  return { source, childEnv: { ...env, OA_MESSAGING_METADATA: cacheFile }, told: true };
}

/**
 * The transport a process uses: configuration, not code (design §5.5). On AMQP its metadata comes, first found:
 * from OA_MESSAGING_METADATA (a file, followed while the process runs), from AMQP_URL (one broker, fixed), or from
 * `origin` (the Manager), cached on disk, read again every OA_MESSAGING_REFRESH_S and on every `messaging_changed`.
 * `origin` is asked for only when it is used, so a process configured by a file needs no MANAGER_URL.
 */
export async function openMessaging(kind: 'in-memory' | 'amqp', env: MessagingEnv, log: Logger, origin?: () => MetadataOrigin): Promise<OpenedMessaging> {
  if (kind === 'in-memory') return { transport: new MemoryBroker().transport({ exchangeId: env.EXCHANGE_ID, log, maxInFlight: env.OA_MAX_IN_FLIGHT }), childEnv: env };
  const amqpLog = log.child({ transport: 'amqp' });
  if (env.OA_MESSAGING_METADATA === undefined && env.AMQP_URL !== undefined) {
    const metadata = singleBrokerMetadata({ amqpUrl: env.AMQP_URL, exchangeName: env.OA_EXCHANGE_NAME });
    return { transport: amqpTransport(env, amqpLog, metadata), childEnv: env };
  }
  const { source, childEnv, told } = await openSource(env, amqpLog, origin);
  const transport = followed(amqpTransport(env, amqpLog, source.current(), source), source);
  if (told) await followMessagingChanges(transport, source, amqpLog);
  return { transport, childEnv };
}

/** A forked child's transport (runtime/actors/host.actor.ts): from its parent's settings, never from the Manager. */
export async function openTransport(kind: 'in-memory' | 'amqp', env: MessagingEnv, log: Logger): Promise<Transport> {
  return (await openMessaging(kind, env, log)).transport;
}
