import { EntitySchema } from '@mikro-orm/core';
import { timestampProperties, type Timestamps } from './common.js';

/** The messaging tables (reference §2.1). */

export interface MessagingBroker extends Timestamps {
  id: number;
  name: string;
  failover_broker_id: number | null;
}

export const MessagingBrokerSchema = new EntitySchema<MessagingBroker>({
  name: 'MessagingBroker',
  tableName: 'messaging_brokers',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string' },
    failover_broker_id: { type: 'number', nullable: true },
    ...timestampProperties,
  },
});

/** `password` is sealed (http/secrets.ts) under the key named in `password_keyname` (reference §2.1 never stored it). */
export interface MessagingBrokerConnection extends Timestamps {
  id: number;
  messaging_broker_id: number;
  username: string;
  password: string;
  password_keyname: string | null;
  host: string;
  port: number | null;
  virtual_host: string;
}

export const MessagingBrokerConnectionSchema = new EntitySchema<MessagingBrokerConnection>({
  name: 'MessagingBrokerConnection',
  tableName: 'messaging_broker_connections',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    messaging_broker_id: { type: 'number' },
    username: { type: 'string' },
    password: { type: 'text' },
    password_keyname: { type: 'string', nullable: true },
    host: { type: 'string' },
    port: { type: 'number', nullable: true },
    virtual_host: { type: 'string' },
    ...timestampProperties,
  },
});

export interface MessagingExchange extends Timestamps {
  id: number;
  name: string;
  failover_exchange_id: number | null;
  parent_exchange_id: number | null;
  routing_key_fragment: string | null;
}

export const MessagingExchangeSchema = new EntitySchema<MessagingExchange>({
  name: 'MessagingExchange',
  tableName: 'messaging_exchanges',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string', length: 1024 },
    failover_exchange_id: { type: 'number', nullable: true },
    parent_exchange_id: { type: 'number', nullable: true },
    routing_key_fragment: { type: 'string', nullable: true },
    ...timestampProperties,
  },
});

/** A broker restriction: the exchange is reached only through that broker (reference §4.4). */
export interface MessagingExchangeBroker extends Timestamps {
  id: number;
  messaging_exchange_id: number;
  messaging_broker_id: number;
}

export const MessagingExchangeBrokerSchema = new EntitySchema<MessagingExchangeBroker>({
  name: 'MessagingExchangeBroker',
  tableName: 'messaging_exchange_brokers',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    messaging_exchange_id: { type: 'number' },
    messaging_broker_id: { type: 'number' },
    ...timestampProperties,
  },
});

/** A live module of an exchange, upserted by heartbeats (reference §8.1); `workload` is JSON text. */
export interface MessagingExchangeModule extends Timestamps {
  id: number;
  messaging_exchange_id: number;
  hostname: string;
  type: string;
  status: string;
  workload: string;
  source_repo: string | null;
  source_repo_git_ref: string | null;
  deployment_repo: string | null;
  deployment_repo_git_ref: string | null;
}

export const MessagingExchangeModuleSchema = new EntitySchema<MessagingExchangeModule>({
  name: 'MessagingExchangeModule',
  tableName: 'messaging_exchange_modules',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    messaging_exchange_id: { type: 'number' },
    hostname: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    workload: { type: 'text' },
    source_repo: { type: 'string', length: 128, nullable: true },
    source_repo_git_ref: { type: 'string', length: 256, nullable: true },
    deployment_repo: { type: 'string', length: 128, nullable: true },
    deployment_repo_git_ref: { type: 'string', length: 256, nullable: true },
    ...timestampProperties,
  },
});

/** The original's DB-backed RPC mailbox (reference §4.7), kept for API compatibility. */
export interface MessagingRpcRequest extends Timestamps {
  id: number;
  status: string;
  request_body: string | null;
  response_body: string | null;
}

export const MessagingRpcRequestSchema = new EntitySchema<MessagingRpcRequest>({
  name: 'MessagingRpcRequest',
  tableName: 'messaging_rpc_requests',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    status: { type: 'string' },
    request_body: { type: 'text', nullable: true },
    response_body: { type: 'text', nullable: true },
    ...timestampProperties,
  },
});

export const MESSAGING_ENTITIES = [
  MessagingBrokerSchema,
  MessagingBrokerConnectionSchema,
  MessagingExchangeSchema,
  MessagingExchangeBrokerSchema,
  MessagingExchangeModuleSchema,
  MessagingRpcRequestSchema,
];
