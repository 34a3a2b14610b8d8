import { z } from 'zod';
import { RouteState } from '../../runtime/haproxy/core/model.js';

/**
 * The Manager's answers as the client accepts them, snake_case as on the wire (reference §3). Written here, not
 * imported from the routes: the client must not pull in server code, and a Manager that drifts from this contract
 * is reported (ManagerResponseError) instead of handing workers malformed data. Objects are not strict, so a newer
 * Manager may add fields without breaking older workers.
 */

const id = z.number().int().positive();
const ref = id.nullable();
const text = z.string().nullable();
/** Timestamps are ISO 8601 (issue 4); the original's RFC 1123 is gone from responses. */
const timestamp = z.iso.datetime({ offset: true });
const stamps = { inserted_at: timestamp, updated_at: timestamp };

/** `POST /oauth/token` (RFC 6749 §5.1; reference §1.3 reads `access_token` and `expires_in` only). */
export const TokenReply = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
});

export const ExecuteOptions = z.object({
  force_build: z.boolean(),
  build_messaging_exchange_id: ref,
  deploy_messaging_exchange_id: ref,
});
export type ExecuteOptions = z.infer<typeof ExecuteOptions>;

/** A workflow (reference §2.4, §3.4) with its JSON columns decoded. */
export const Workflow = z.object({
  id: z.uuid(),
  deployment_repo: text,
  deployment_repo_git_ref: text,
  source_repo: text,
  source_repo_git_ref: text,
  source_commit_hash: text,
  milestones: z.array(z.string()).nullable(),
  current_step: text,
  elapsed_step_time: text,
  elapsed_workflow_time: text,
  workflow_duration: text,
  workflow_step_durations: z.record(z.string(), z.union([z.string(), z.number()])).nullable(),
  workflow_error: z.boolean().nullable(),
  workflow_completed: z.boolean().nullable(),
  event_log: z.array(z.string()).nullable(),
  app_name: text,
  scheduled_start_time: timestamp.nullable(),
  execute_options: ExecuteOptions.nullable(),
  execute_requested_at: timestamp.nullable(),
  /** Issue 5: whose the run is, and the orchestrator's state of it (absent from older Managers). */
  orchestrator_exchange_id: ref.default(null),
  orchestration: z.record(z.string(), z.unknown()).nullable().default(null),
  ...stamps,
});
export type Workflow = z.infer<typeof Workflow>;

/** The 202 body of `POST /workflows/:id/execute`: what was queued. */
export const ExecuteReply = z.object({ id: z.uuid(), execute_options: ExecuteOptions, execute_requested_at: timestamp });

export const UpdateManyReply = z.object({ updated: z.array(z.uuid()), not_found: z.array(z.uuid()) });

export const SystemEvent = z.object({
  id,
  type: z.string(),
  message: text,
  severity: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
  dismissed_at: timestamp.nullable(),
  dismissed_by_id: ref,
  dismissed_reason: text,
  assigned_at: timestamp.nullable(),
  assignee_id: ref,
  assigned_by_id: ref,
  ...stamps,
});
export type SystemEvent = z.infer<typeof SystemEvent>;

/** A module registered in an exchange (reference §3.3, §8.1); `workload` is whatever the module reported. */
export const ExchangeModule = z.object({
  id,
  messaging_exchange_id: id,
  hostname: z.string(),
  type: z.string(),
  status: z.string(),
  workload: z.unknown(),
  source_repo: text,
  source_repo_git_ref: text,
  deployment_repo: text,
  deployment_repo_git_ref: text,
  ...stamps,
});
export type ExchangeModule = z.infer<typeof ExchangeModule>;

export const SystemComponentRef = z.object({
  id,
  type: z.string(),
  source_repo: z.string(),
  source_repo_git_ref: z.string(),
  auto_upgrade_enabled: z.boolean(),
  ...stamps,
});
export type SystemComponentRef = z.infer<typeof SystemComponentRef>;

export const SystemComponent = z.object({
  id,
  messaging_exchange_id: id,
  type: z.string(),
  source_repo: z.string(),
  source_repo_git_ref: z.string(),
  deployment_repo: z.string(),
  deployment_repo_git_ref: z.string(),
  upgrade_strategy: z.string(),
  status: text,
  upgrade_status: z.record(z.string(), z.unknown()).nullable(),
  ...stamps,
});
export type SystemComponent = z.infer<typeof SystemComponent>;

export const Cluster = z.object({
  id,
  etcd_token: z.string(),
  name: text,
  hosting_provider_id: ref,
  allow_docker_builds: z.boolean().nullable(),
  messaging_exchange_id: ref,
  /** Host ports its containers publish on, both ends included, and the address they bind, null: each host's default (issue 15 item 5). */
  port_range_start: z.number().int(),
  port_range_end: z.number().int(),
  bind_address: text,
  ...stamps,
});
export type Cluster = z.infer<typeof Cluster>;

/** A host port allocated in a cluster (`etcd_cluster_ports`): held by container `holder` on `host` for its `container_port`. */
export const ClusterPort = z.object({
  id,
  etcd_cluster_id: id,
  product_component_id: ref,
  port: z.number().int().nullable(),
  holder: text,
  host: text,
  container_port: z.number().int().nullable(),
  workflow_id: text,
  ...stamps,
});
export type ClusterPort = z.infer<typeof ClusterPort>;

/** How to reach a Docker host, secrets opened (`GET /clusters/:etcd_token/host_connections`, admins only). */
export const HostConnection = z.object({
  name: z.string(),
  docker_url: z.string(),
  ssh_user: text,
  ssh_private_key: text,
  tls_ca: text,
  tls_cert: text,
  tls_private_key: text,
  labels: z.record(z.string(), z.string()),
});
export type HostConnection = z.infer<typeof HostConnection>;

/** A Docker host of a cluster; secrets are never returned, admins see `"[set]"` where one is stored. */
export const ClusterHost = z.object({
  id,
  etcd_cluster_id: id,
  name: z.string(),
  docker_url: z.string(),
  ssh_user: text,
  labels: z.record(z.string(), z.string()),
  status: z.string(),
  tls_ca: text,
  tls_cert: text,
  tls_private_key: text,
  ssh_private_key: text,
  ...stamps,
});
export type ClusterHost = z.infer<typeof ClusterHost>;

/** An exchange with the Manager's computed route (reference §4.1); null route for a row the Manager cannot route. */
export const Exchange = z.object({
  id,
  name: z.string().min(1),
  failover_exchange_id: ref,
  parent_exchange_id: ref,
  routing_key_fragment: text,
  routing_key: text,
  root_exchange_name: text,
  ...stamps,
});
export type Exchange = z.infer<typeof Exchange>;

export const Broker = z.object({ id, name: z.string().min(1), failover_broker_id: ref, ...stamps });
export type Broker = z.infer<typeof Broker>;

/** Connection options of a broker; `password` is null unless the caller is an admin (design §2). */
export const BrokerConnection = z.object({
  id,
  messaging_broker_id: id,
  username: z.string(),
  password: text,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535).nullable(),
  virtual_host: text,
  ...stamps,
});
export type BrokerConnection = z.infer<typeof BrokerConnection>;

/** A broker restriction (`messaging_exchange_brokers`, reference §4.4). */
export const ExchangeRestriction = z.object({ id, messaging_exchange_id: id, messaging_broker_id: id, ...stamps });
export type ExchangeRestriction = z.infer<typeof ExchangeRestriction>;

/** The standard error body (reference §3.1), read leniently: its messages are for people. */
export const ErrorBody = z.object({ errors: z.array(z.object({ message: z.string() })) });

/** A backend of an authority (`routes`, reference §2.7), with how the router serves it (issue 15). */
export const RouterBackend = z.object({
  hostname: z.string(),
  port: z.number().int(),
  secure_connection: z.boolean(),
  weight: z.number().int(),
  state: RouteState,
});
export type RouterBackend = z.infer<typeof RouterBackend>;

export const RouterRoute = RouterBackend.extend({ id, authority_id: id, ...stamps });
export type RouterRoute = z.infer<typeof RouterRoute>;

/** A `hostname:port` clients use (`authorities`, reference §2.7), and the product and environment whose address it is. */
export const Authority = z.object({ id, hostname: z.string(), port: z.number().int(), redirect_http_port: z.number().int().nullable(), product: z.string().nullable(), environment: z.string().nullable(), ...stamps });
export type Authority = z.infer<typeof Authority>;

export const DetailedAuthority = Authority.extend({ routes: z.array(RouterRoute) });
export type DetailedAuthority = z.infer<typeof DetailedAuthority>;

/** An authority's certificate as `GET /router/authorities/:id/certificate` shows it: never the key. */
export const CertificateInfo = z.object({
  authority_id: id,
  subject: z.string(),
  issuer: z.string(),
  names: z.array(z.string()),
  not_before: timestamp,
  not_after: timestamp,
  fingerprint_sha256: z.string(),
  chain_length: z.number().int().positive(),
  updated_at: timestamp,
});
export type CertificateInfo = z.infer<typeof CertificateInfo>;

/** An item of the router's TLS feed (`GET /router/tls`, admins only). */
export const TlsFeedItem = z.object({
  hostname: z.string(),
  port: z.number().int(),
  redirect_http_port: z.number().int().nullable(),
  certificate: text,
  private_key: text,
  problem: text,
});
