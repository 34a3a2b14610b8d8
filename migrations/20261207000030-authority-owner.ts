import { Migration } from '@mikro-orm/migrations';

/**
 * An authority belongs to a product and one of its environments (issue 15: one address per product component and
 * environment), as the other product tables reference products: by id. Both stay null for an authority created
 * without them, as every existing one was. A deleted product or environment leaves its authorities serving, unowned.
 */
export default class AuthorityOwner extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table authorities
      add column product_id int null references products(id),
      add column product_environment_id int null references product_environments(id)`);
    this.addSql('create index authorities_product_id_index on authorities (product_id)');
  }
}
