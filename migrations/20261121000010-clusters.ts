import { Migration } from '@mikro-orm/migrations';

/**
 * The clusters tables of reference §2.2, plus `cluster_hosts` (design §2: a cluster is a set of Docker hosts). Foreign
 * keys without cascade, as the original; the routes cascade in code. `etcd_cluster_ports.product_component_id` has no
 * database reference here: `product_components` belongs to the products migration.
 */
export default class Clusters extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table cloud_providers (
      id serial primary key,
      name varchar(255) not null,
      type varchar(255) not null,
      configuration text null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql(`create table etcd_clusters (
      id serial primary key,
      etcd_token varchar(255) not null unique,
      name varchar(255) null,
      hosting_provider_id int null references cloud_providers(id),
      allow_docker_builds boolean null,
      messaging_exchange_id int null references messaging_exchanges(id),
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index etcd_clusters_hosting_provider_id_index on etcd_clusters (hosting_provider_id)');
    this.addSql('create index etcd_clusters_allow_docker_builds_index on etcd_clusters (allow_docker_builds)');
    this.addSql('create index etcd_clusters_messaging_exchange_id_index on etcd_clusters (messaging_exchange_id)');
    // Tokens are looked up case-insensitively (reference §2.2), so `abc` and `ABC` would be one cluster: refuse the second.
    this.addSql('create unique index etcd_clusters_lower_etcd_token_index on etcd_clusters (lower(etcd_token))');
    this.addSql(`create table etcd_cluster_ports (
      id serial primary key,
      etcd_cluster_id int not null references etcd_clusters(id),
      product_component_id int not null,
      port int null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index etcd_cluster_ports_etcd_cluster_id_index on etcd_cluster_ports (etcd_cluster_id)');
    this.addSql('create index etcd_cluster_ports_product_component_id_index on etcd_cluster_ports (product_component_id)');
    // Unique, where the original had a plain index: two allocations of one port in a cluster would collide on a host.
    this.addSql('create unique index etcd_cluster_ports_cluster_port_index on etcd_cluster_ports (etcd_cluster_id, port)');
    this.addSql(`create table cluster_hosts (
      id serial primary key,
      etcd_cluster_id int not null references etcd_clusters(id),
      name varchar(255) not null,
      docker_url varchar(1024) not null,
      tls_ca text null,
      tls_ca_keyname varchar(255) null,
      tls_cert text null,
      tls_cert_keyname varchar(255) null,
      tls_private_key text null,
      tls_private_key_keyname varchar(255) null,
      ssh_user varchar(255) null,
      ssh_private_key text null,
      ssh_private_key_keyname varchar(255) null,
      labels text not null default '{}',
      status varchar(255) not null default 'active' check (status in ('active', 'inactive')),
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create unique index cluster_hosts_cluster_lower_name_index on cluster_hosts (etcd_cluster_id, lower(name))');
  }
}
