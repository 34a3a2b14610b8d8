import { EntitySchema, type Opt } from '@mikro-orm/core';
import { timestampProperties, type Timestamps } from './common.js';

/** The clusters tables (reference §2.2) and the Docker hosts that replace Fleet machines (design §2, issue 7). */

/** `configuration` is JSON text, decoded on output. */
export interface CloudProvider extends Timestamps {
  id: number;
  name: string;
  type: string;
  configuration: string | null;
}

export const CloudProviderSchema = new EntitySchema<CloudProvider>({
  name: 'CloudProvider',
  tableName: 'cloud_providers',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string' },
    type: { type: 'string' },
    // Text, not the original's varchar(255), which cut real configurations short (reference §2.2).
    configuration: { type: 'text', nullable: true },
    ...timestampProperties,
  },
});

/** A cluster, still keyed by the etcd token operators know it by; tokens match case-insensitively (reference §2.2). */
export interface EtcdCluster extends Timestamps {
  id: number;
  etcd_token: string;
  name: string | null;
  hosting_provider_id: number | null;
  allow_docker_builds: boolean | null;
  messaging_exchange_id: number | null;
  /** The host ports its containers publish on, both ends included (issue 15 item 5; 20000-29999 unless set). */
  port_range_start: number & Opt;
  port_range_end: number & Opt;
  /**
   * The address published ports bind, e.g. 127.0.0.1 when only the host (its router) should reach instances; null: the
   * Docker host's default, 0.0.0.0 (every interface) unless its daemon.json sets `ip`.
   */
  bind_address: string | null;
}

/** A cluster's port settings when it says none (migration 20261203000010): outside Linux's ephemeral 32768-60999. */
export const DEFAULT_PORT_RANGE = { start: 20_000, end: 29_999 } as const;

export const EtcdClusterSchema = new EntitySchema<EtcdCluster>({
  name: 'EtcdCluster',
  tableName: 'etcd_clusters',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    etcd_token: { type: 'string', unique: true },
    name: { type: 'string', nullable: true },
    hosting_provider_id: { type: 'number', nullable: true },
    allow_docker_builds: { type: 'boolean', nullable: true },
    messaging_exchange_id: { type: 'number', nullable: true },
    port_range_start: { type: 'number', onCreate: () => DEFAULT_PORT_RANGE.start },
    port_range_end: { type: 'number', onCreate: () => DEFAULT_PORT_RANGE.end },
    bind_address: { type: 'string', length: 64, nullable: true },
    ...timestampProperties,
  },
});

/**
 * A host port held in a cluster (reference §2.2, design §2): by the container `holder` on `host`, for its
 * `container_port`, started by workflow `workflow_id`; `product_component_id` when the product has a component of
 * the unit's name. Rows from before issue 15 have no holder.
 */
export interface EtcdClusterPort extends Timestamps {
  id: number;
  etcd_cluster_id: number;
  product_component_id: number | null;
  port: number | null;
  holder: string | null;
  host: string | null;
  container_port: number | null;
  workflow_id: string | null;
}

export const EtcdClusterPortSchema = new EntitySchema<EtcdClusterPort>({
  name: 'EtcdClusterPort',
  tableName: 'etcd_cluster_ports',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    etcd_cluster_id: { type: 'number' },
    product_component_id: { type: 'number', nullable: true },
    port: { type: 'number', nullable: true },
    holder: { type: 'string', nullable: true },
    host: { type: 'string', nullable: true },
    container_port: { type: 'number', nullable: true },
    workflow_id: { type: 'uuid', nullable: true },
    ...timestampProperties,
  },
});

export const CLUSTER_HOST_STATUSES = ['active', 'inactive'] as const;
export type ClusterHostStatus = (typeof CLUSTER_HOST_STATUSES)[number];

/**
 * A Docker host of a cluster (design §2; new, it replaces the Fleet machines of reference §7): reached at `docker_url`
 * (`unix:///path`, `tcp://host:port` with optional TLS, `ssh://user@host[:port]`). The TLS material and the SSH key
 * are sealed (http/secrets.ts), each with the name of its key beside it; `labels` is JSON text.
 */
export interface ClusterHost extends Timestamps {
  id: number;
  etcd_cluster_id: number;
  name: string;
  docker_url: string;
  tls_ca: string | null;
  tls_ca_keyname: string | null;
  tls_cert: string | null;
  tls_cert_keyname: string | null;
  tls_private_key: string | null;
  tls_private_key_keyname: string | null;
  ssh_user: string | null;
  ssh_private_key: string | null;
  ssh_private_key_keyname: string | null;
  labels: string;
  status: ClusterHostStatus;
}

export const ClusterHostSchema = new EntitySchema<ClusterHost>({
  name: 'ClusterHost',
  tableName: 'cluster_hosts',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    etcd_cluster_id: { type: 'number' },
    name: { type: 'string' },
    docker_url: { type: 'string', length: 1024 },
    tls_ca: { type: 'text', nullable: true },
    tls_ca_keyname: { type: 'string', nullable: true },
    tls_cert: { type: 'text', nullable: true },
    tls_cert_keyname: { type: 'string', nullable: true },
    tls_private_key: { type: 'text', nullable: true },
    tls_private_key_keyname: { type: 'string', nullable: true },
    ssh_user: { type: 'string', nullable: true },
    ssh_private_key: { type: 'text', nullable: true },
    ssh_private_key_keyname: { type: 'string', nullable: true },
    labels: { type: 'text' },
    status: { type: 'string' },
    ...timestampProperties,
  },
});

export const CLUSTERS_ENTITIES = [CloudProviderSchema, EtcdClusterSchema, EtcdClusterPortSchema, ClusterHostSchema];
