import { Migration } from '@mikro-orm/migrations';

export class Migration20261121202944_product_initial_stock extends Migration {

  override name = 'Migration20261121202944_product_initial_stock';

  override up(): void | Promise<void> {
    this.addSql(`alter table "products" add "initial_stock" int null;`);
    // Baseline of stock conservation for existing rows: what is on the shelf plus what
    // live (RESERVED) and sold (COMMITTED) stock lines took from it.
    this.addSql(`update "products" p set "initial_stock" = p."stock" + coalesce((select sum(r."quantity") from "stock_reservations" r where r."product_id" = p."id" and r."status" in ('RESERVED', 'COMMITTED')), 0);`);
    this.addSql(`alter table "products" alter column "initial_stock" set not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "products" drop column "initial_stock";`);
  }

}
