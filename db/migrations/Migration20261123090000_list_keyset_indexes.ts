import { Migration } from '@mikro-orm/migrations';

export class Migration20261123090000_list_keyset_indexes extends Migration {

  override name = 'Migration20261123090000_list_keyset_indexes';

  override up(): void | Promise<void> {
    // Keyset pages of a user's orders (newest first: created_at, id) and ledger (id); each
    // composite index leads with the column of the single-column index it replaces, so
    // lookups by user (and the foreign keys' checks) keep an index.
    this.addSql(`create index "orders_user_id_created_at_id_index" on "orders" ("user_id", "created_at", "id");`);
    this.addSql(`drop index "orders_user_id_index";`);
    this.addSql(`create index "point_ledger_account_user_id_id_index" on "point_ledger" ("account_user_id", "id");`);
    this.addSql(`drop index "point_ledger_account_user_id_index";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`create index "point_ledger_account_user_id_index" on "point_ledger" ("account_user_id");`);
    this.addSql(`drop index "point_ledger_account_user_id_id_index";`);
    this.addSql(`create index "orders_user_id_index" on "orders" ("user_id");`);
    this.addSql(`drop index "orders_user_id_created_at_id_index";`);
  }

}
