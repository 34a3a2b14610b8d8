import { Migration } from '@mikro-orm/migrations';

/** API clients, users and their auth sources (reference §2.6, with a role per user), and the audit trail. */
export default class Auth extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table api_clients (
      id serial primary key,
      client_id varchar(255) not null unique,
      name varchar(255) not null,
      secret_hash varchar(255) not null,
      role varchar(16) not null check (role in ('viewer', 'operator', 'admin')),
      disabled_at timestamp null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql(`create table users (
      id serial primary key,
      first_name varchar(255) not null,
      last_name varchar(255) not null,
      email varchar(255) not null unique,
      role varchar(16) not null default 'viewer' check (role in ('viewer', 'operator', 'admin')),
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql(`create table auth_sources (
      id serial primary key,
      name varchar(255) not null,
      token_info_url varchar(255) not null unique,
      email_field_name varchar(255) not null,
      first_name_field_name varchar(255) not null,
      last_name_field_name varchar(255) not null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql(`create table auth_sources_users_relations (
      id serial primary key,
      auth_source_id int not null references auth_sources(id),
      user_id int not null references users(id),
      inserted_at timestamp not null,
      updated_at timestamp not null,
      unique (auth_source_id, user_id))`);
    this.addSql(`create table audit_events (
      id serial primary key,
      actor varchar(255) not null,
      actor_role varchar(16) not null,
      action varchar(64) not null,
      target_type varchar(64) not null,
      target_id varchar(255) null,
      diff text null,
      inserted_at timestamp not null)`);
    this.addSql('create index audit_events_inserted_at_index on audit_events (inserted_at)');
  }
}
