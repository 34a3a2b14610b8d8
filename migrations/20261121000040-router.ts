import { Migration } from '@mikro-orm/migrations';

/** The router tables of reference §2.7; `updated_at` indexed where router caches poll with `updated_since` (§3.12). */
export default class Router extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table authorities (
      id serial primary key,
      hostname varchar(255) not null,
      port int not null check (port between 1 and 65535),
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create unique index authorities_hostname_port_index on authorities (lower(hostname), port)');
    this.addSql('create index authorities_updated_at_index on authorities (updated_at)');
    this.addSql(`create table routes (
      id serial primary key,
      authority_id int not null references authorities(id),
      hostname varchar(255) not null,
      port int not null check (port between 1 and 65535),
      secure_connection boolean not null default false,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create unique index routes_authority_hostname_port_index on routes (authority_id, lower(hostname), port)');
    this.addSql(`create table deleted_authorities (
      id serial primary key,
      hostname varchar(255) not null,
      port int not null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index deleted_authorities_updated_at_index on deleted_authorities (updated_at)');
  }
}
