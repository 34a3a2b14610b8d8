import { EntitySchema } from '@mikro-orm/core';
import { timestampProperties, type Timestamps } from './common.js';

/**
 * The router tables (reference §2.7): an authority is a `host:port` the edge router answers for, its routes the
 * backends it proxies to. Hostnames are unique case-insensitively, by expression indexes in the migration.
 */

export interface Authority extends Timestamps {
  id: number;
  hostname: string;
  port: number;
  /** The plain port on which the router redirects this hostname to its https address; null: no redirect. */
  redirect_http_port: number | null;
  /** The product whose address it is (issue 15), and which of its environments; null when it belongs to none. */
  product_id: number | null;
  product_environment_id: number | null;
}

export const AuthoritySchema = new EntitySchema<Authority>({
  name: 'Authority',
  tableName: 'authorities',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    hostname: { type: 'string' },
    port: { type: 'number' },
    redirect_http_port: { type: 'number', nullable: true },
    product_id: { type: 'number', nullable: true },
    product_environment_id: { type: 'number', nullable: true },
    ...timestampProperties,
  },
});

export interface RouterRoute extends Timestamps {
  id: number;
  authority_id: number;
  hostname: string;
  port: number;
  secure_connection: boolean;
  /** HAProxy's 0-256 (default 100): a route's share of its authority's traffic is its weight over the ready routes' sum. */
  weight: number;
  /** `ready`, `drain` (finishes what it has, gets nothing new) or `maint` (gets nothing): runtime/haproxy's RouteState. */
  state: string;
}

/** A backend of an authority; named `RouterRoute` because "Route" means an HTTP route everywhere else in the code. */
export const RouterRouteSchema = new EntitySchema<RouterRoute>({
  name: 'RouterRoute',
  tableName: 'routes',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    authority_id: { type: 'number' },
    hostname: { type: 'string' },
    port: { type: 'number' },
    secure_connection: { type: 'boolean', default: false },
    weight: { type: 'number', default: 100 },
    state: { type: 'string', default: 'ready' },
    ...timestampProperties,
  },
});

/** A tombstone: an authority's old `host:port` after a delete or a rename, so router caches can drop it (reference §3.12). */
export interface DeletedAuthority extends Timestamps {
  id: number;
  hostname: string;
  port: number;
}

export const DeletedAuthoritySchema = new EntitySchema<DeletedAuthority>({
  name: 'DeletedAuthority',
  tableName: 'deleted_authorities',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    hostname: { type: 'string' },
    port: { type: 'number' },
    ...timestampProperties,
  },
});

/** An authority's certificate: the PEM chain (leaf first) it serves by SNI, and its private key, sealed. */
export interface AuthorityCertificate extends Timestamps {
  id: number;
  authority_id: number;
  certificate: string;
  /** Sealed (http/secrets.ts); opened only for the router's TLS feed. */
  private_key: string;
}

export const AuthorityCertificateSchema = new EntitySchema<AuthorityCertificate>({
  name: 'AuthorityCertificate',
  tableName: 'authority_certificates',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    authority_id: { type: 'number', unique: true },
    certificate: { type: 'text' },
    private_key: { type: 'text' },
    ...timestampProperties,
  },
});

export const ROUTER_ENTITIES = [AuthoritySchema, RouterRouteSchema, DeletedAuthoritySchema, AuthorityCertificateSchema];
