import { Migration } from '@mikro-orm/migrations';

/**
 * TLS for the router's authorities (issue 15 item 3): at most one certificate per authority, its chain as PEM text
 * and its private key sealed (http/secrets.ts), gone with its authority; and an authority's `redirect_http_port`, the
 * plain port on which the router answers the authority's hostname with a redirect to its https address.
 */
export default class AuthorityCertificates extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table authority_certificates (
      id serial primary key,
      authority_id int not null unique references authorities(id) on delete cascade,
      certificate text not null,
      private_key text not null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('alter table authorities add column redirect_http_port int null check (redirect_http_port between 1 and 65535)');
  }
}
