/**
 * The messaging metadata of the Manager's own process (issue 19 item 1): its messaging tables read from its own
 * database, passwords opened with its own key, in the shape every transport takes (runtime/messaging/core/routing.ts).
 * Other processes read the same rows through the API (http/client/metadata-provider.ts).
 */
import { IsolationLevel, type EntityManager } from '@mikro-orm/core';
import type { SecretBox } from './secrets.js';
import { MessagingBrokerConnectionSchema, MessagingBrokerSchema, MessagingExchangeBrokerSchema, MessagingExchangeSchema } from '../entities/messaging.js';
import type { MessagingMetadata } from '../runtime/messaging/core/routing.js';

const byId = { orderBy: { id: 'asc' } } as const;

/** Every exchange, broker, connection and restriction, as one snapshot (no change committed between the reads shows). */
export async function loadMessagingMetadata(em: EntityManager, secrets: SecretBox): Promise<MessagingMetadata> {
  return em.transactional(async (tx) => {
    const exchanges = await tx.find(MessagingExchangeSchema, {}, byId);
    const brokers = await tx.find(MessagingBrokerSchema, {}, byId);
    const connections = await tx.find(MessagingBrokerConnectionSchema, {}, byId);
    const restrictions = await tx.find(MessagingExchangeBrokerSchema, {}, byId);
    return {
      exchanges: exchanges.map(({ id, name, parent_exchange_id, routing_key_fragment, failover_exchange_id }) => ({ id, name, parent_exchange_id, routing_key_fragment, failover_exchange_id })),
      brokers: brokers.map(({ id, name, failover_broker_id }) => ({ id, name, failover_broker_id })),
      connections: connections.map(({ id, messaging_broker_id, username, password, host, port, virtual_host }) => ({
        id,
        messaging_broker_id,
        username,
        password: secrets.open(password),
        host,
        port,
        virtual_host,
      })),
      restrictions: restrictions.map(({ id, messaging_exchange_id, messaging_broker_id }) => ({ id, messaging_exchange_id, messaging_broker_id })),
    };
  }, { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true });
}
