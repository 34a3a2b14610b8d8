import { Migration } from '@mikro-orm/migrations';

/** The messaging tables of reference §2.1, with the broker password's key name stored beside it. */
export default class Messaging extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table messaging_brokers (
      id serial primary key,
      name varchar(255) not null,
      failover_broker_id int null references messaging_brokers(id),
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index messaging_brokers_failover_broker_id_index on messaging_brokers (failover_broker_id)');
    this.addSql(`create table messaging_broker_connections (
      id serial primary key,
      messaging_broker_id int not null references messaging_brokers(id),
      username varchar(255) not null,
      password text not null,
      password_keyname varchar(255) null,
      host varchar(255) not null,
      port int null,
      virtual_host varchar(255) not null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql(`create table messaging_exchanges (
      id serial primary key,
      name varchar(1024) not null,
      failover_exchange_id int null references messaging_exchanges(id),
      parent_exchange_id int null references messaging_exchanges(id),
      routing_key_fragment varchar(255) null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index messaging_exchanges_parent_exchange_id_index on messaging_exchanges (parent_exchange_id)');
    this.addSql(`create table messaging_exchange_brokers (
      id serial primary key,
      messaging_exchange_id int not null references messaging_exchanges(id),
      messaging_broker_id int not null references messaging_brokers(id),
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index messaging_exchange_brokers_pair_index on messaging_exchange_brokers (messaging_exchange_id, messaging_broker_id)');
    this.addSql(`create table messaging_exchange_modules (
      id serial primary key,
      messaging_exchange_id int not null references messaging_exchanges(id),
      hostname varchar(255) not null,
      type varchar(255) not null,
      status varchar(255) not null,
      workload text not null,
      source_repo varchar(128) null,
      source_repo_git_ref varchar(256) null,
      deployment_repo varchar(128) null,
      deployment_repo_git_ref varchar(256) null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index messaging_exchange_modules_exchange_hostname_index on messaging_exchange_modules (messaging_exchange_id, hostname)');
    this.addSql(`create table messaging_rpc_requests (
      id serial primary key,
      status varchar(255) not null,
      request_body text null,
      response_body text null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
  }
}
