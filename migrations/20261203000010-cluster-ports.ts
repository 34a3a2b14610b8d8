import { Migration } from '@mikro-orm/migrations';

/**
 * Host port allocations (issue 15 item 5). Each cluster says which host ports its containers publish on and on which
 * address: 20000-29999 by default, below Linux's ephemeral range (32768-60999, where a port the kernel lends to an
 * outgoing connection is busy by chance); and the Docker host's own default address (0.0.0.0, unless its daemon.json
 * sets `ip`) unless the cluster names one, 127.0.0.1 when only a router on the host should reach instances. An
 * allocation row names the container holding the port (`holder`), its host, the container port it publishes and the
 * workflow that started it, so a re-run deploy finds its own rows and a removed container's rows can be released. A holder need not be a product component: a unit of a deployment repo is not
 * one, so `product_component_id` becomes optional (it is set when the product has a component of the unit's name).
 */
export default class ClusterPorts extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table etcd_clusters add column port_range_start int not null default 20000');
    this.addSql('alter table etcd_clusters add column port_range_end int not null default 29999');
    this.addSql('alter table etcd_clusters add column bind_address varchar(64) null');
    this.addSql(`alter table etcd_clusters add constraint etcd_clusters_port_range_check
      check (port_range_start between 1024 and 65535 and port_range_end between port_range_start and 65535)`);
    this.addSql('alter table etcd_cluster_ports alter column product_component_id drop not null');
    this.addSql('alter table etcd_cluster_ports add column holder varchar(255) null');
    this.addSql('alter table etcd_cluster_ports add column host varchar(255) null');
    this.addSql('alter table etcd_cluster_ports add column container_port int null');
    this.addSql('alter table etcd_cluster_ports add column workflow_id uuid null');
    // One host port per container port of a holder: a repeated allocation finds the row instead of adding one.
    this.addSql('create unique index etcd_cluster_ports_holder_index on etcd_cluster_ports (etcd_cluster_id, holder, container_port)');
  }
}
