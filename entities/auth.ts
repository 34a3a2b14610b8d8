import { EntitySchema, type Opt } from '@mikro-orm/core';
import { timestampProperties, type Timestamps } from './common.js';

/** What a caller may do: viewers read, operators run workflows and manage products, admins everything (design §2). */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A machine client of the client-credentials grant (a component, the CLI, a CI job). The secret is stored hashed. */
export interface ApiClient extends Timestamps {
  id: number;
  client_id: string;
  name: string;
  secret_hash: string;
  role: Role;
  disabled_at: Date | null;
}

export const ApiClientSchema = new EntitySchema<ApiClient>({
  name: 'ApiClient',
  tableName: 'api_clients',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    client_id: { type: 'string', unique: true },
    name: { type: 'string' },
    secret_hash: { type: 'string' },
    role: { type: 'string' },
    disabled_at: { type: 'Date', nullable: true },
    ...timestampProperties,
  },
});

/** A person (reference §2.6), provisioned on first sight of an external token (reference §3.1). */
export interface User extends Timestamps {
  id: number;
  first_name: string;
  last_name: string;
  email: string;
  role: Role;
  /** Set: every token of the user is refused, whatever its issuer says (issue 20). */
  disabled_at: Date | null;
}

export const UserSchema = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    first_name: { type: 'string' },
    last_name: { type: 'string' },
    email: { type: 'string', unique: true },
    role: { type: 'string' },
    disabled_at: { type: 'Date', nullable: true },
    ...timestampProperties,
  },
});

/** An external token validator and where its token info keeps a user's e-mail and names (reference §2.6, §3.1). */
export interface AuthSource extends Timestamps {
  id: number;
  name: string;
  token_info_url: string;
  email_field_name: string;
  first_name_field_name: string;
  last_name_field_name: string;
}

export const AuthSourceSchema = new EntitySchema<AuthSource>({
  name: 'AuthSource',
  tableName: 'auth_sources',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string' },
    token_info_url: { type: 'string', unique: true },
    email_field_name: { type: 'string' },
    first_name_field_name: { type: 'string' },
    last_name_field_name: { type: 'string' },
    ...timestampProperties,
  },
});

export interface AuthSourceUser extends Timestamps {
  id: number;
  auth_source_id: number;
  user_id: number;
}

export const AuthSourceUserSchema = new EntitySchema<AuthSourceUser>({
  name: 'AuthSourceUser',
  tableName: 'auth_sources_users_relations',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    auth_source_id: { type: 'number' },
    user_id: { type: 'number' },
    ...timestampProperties,
  },
});

/** Who changed what, and how (every mutation writes one). `diff` is JSON: `{before, after}` of the fields changed. */
export interface AuditEvent {
  id: number;
  actor: string;
  actor_role: string;
  action: string;
  target_type: string;
  target_id: string | null;
  diff: string | null;
  inserted_at: Date & Opt;
}

export const AuditEventSchema = new EntitySchema<AuditEvent>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    actor: { type: 'string' },
    actor_role: { type: 'string' },
    action: { type: 'string' },
    target_type: { type: 'string' },
    target_id: { type: 'string', nullable: true },
    diff: { type: 'text', nullable: true },
    inserted_at: { type: 'Date', onCreate: () => new Date() },
  },
});

/** A platform token revoked before its expiry (RFC 7009), kept until `expires_at`. */
export interface RevokedToken {
  jti: string;
  subject: string;
  expires_at: Date;
  inserted_at: Date & Opt;
}

export const RevokedTokenSchema = new EntitySchema<RevokedToken>({
  name: 'RevokedToken',
  tableName: 'revoked_tokens',
  properties: {
    jti: { type: 'string', primary: true },
    subject: { type: 'string' },
    expires_at: { type: 'Date' },
    inserted_at: { type: 'Date', onCreate: () => new Date() },
  },
});

export const AUTH_ENTITIES = [ApiClientSchema, UserSchema, AuthSourceSchema, AuthSourceUserSchema, AuditEventSchema, RevokedTokenSchema];
