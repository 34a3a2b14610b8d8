import { AmqpTransport } from './amqp-transport.js';
import { MemoryBroker } from './memory-transport.js';
import { loadMetadataFile, singleBrokerMetadata } from './metadata.js';
import type { Transport } from './transport.js';
import { ConfigError, type MessagingEnv } from '../config.js';
import type { Logger } from '../logger.js';

/** The transport a process uses: configuration, not code (design §5.5). */
export async function openTransport(kind: 'in-memory' | 'amqp', env: MessagingEnv, log: Logger): Promise<Transport> {
  if (kind === 'in-memory') return new MemoryBroker().transport({ exchangeId: env.EXCHANGE_ID, log, maxInFlight: env.OA_MAX_IN_FLIGHT });
  const metadata = env.OA_MESSAGING_METADATA
    ? await loadMetadataFile(env.OA_MESSAGING_METADATA)
    : env.AMQP_URL
      ? singleBrokerMetadata({ amqpUrl: env.AMQP_URL, exchangeName: env.OA_EXCHANGE_NAME })
      : undefined;
  if (metadata === undefined) {
    throw new ConfigError(['AMQP_URL or OA_MESSAGING_METADATA: the amqp transport needs one of them (neither is set)']);
  }
  return new AmqpTransport({
    metadata,
    exchangeId: env.EXCHANGE_ID,
    brokerId: env.BROKER_ID,
    log: log.child({ transport: 'amqp' }),
    maxInFlight: env.OA_MAX_IN_FLIGHT,
    retryCount: env.OA_AMQP_RETRY_COUNT,
    autoDeclare: env.OA_AMQP_AUTO_DECLARE,
  });
}
