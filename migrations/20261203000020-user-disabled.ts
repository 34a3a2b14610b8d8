import { Migration } from '@mikro-orm/migrations';

/**
 * A user can be disabled (issue 20), as an API client can: an external token of a disabled user is refused at once,
 * though its issuer still vouches for it. Deleting a user cannot lock a person out: the next valid token provisions
 * them again (reference §3.1), as a viewer.
 */
export default class UserDisabled extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table users add column disabled_at timestamp null');
  }
}
