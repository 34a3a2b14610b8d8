import { Migration } from '@mikro-orm/migrations';

/**
 * Revoked platform tokens (issue 20, RFC 7009): their ids until they would have expired anyway. A Manager refuses
 * them within 5 s of the revocation (http/auth.ts).
 */
export default class RevokedTokens extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table revoked_tokens (
      jti varchar(64) primary key,
      subject varchar(255) not null,
      expires_at timestamp not null,
      inserted_at timestamp not null)`);
    this.addSql('create index revoked_tokens_subject_index on revoked_tokens (subject, expires_at)');
  }
}
