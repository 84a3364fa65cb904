import { Migration } from '@mikro-orm/migrations';

export class Migration20261121200510_initial extends Migration {

  override name = 'Migration20261121200510_initial';

  override up(): void | Promise<void> {
    this.addSql(`create table "app_users" ("id" serial primary key, "name" varchar(200) not null, "created_at" timestamptz not null);`);

    this.addSql(`create table "data_platform_deliveries" ("event_id" varchar(250) not null, "saga_id" varchar(200) not null, "event_type" varchar(100) not null, "status" text not null, "attempts" int not null default 0, "last_error" text null, "payload" jsonb not null, "created_at" timestamptz not null, "delivered_at" timestamptz null, primary key ("event_id"));`);
    this.addSql(`create index "data_platform_deliveries_saga_id_index" on "data_platform_deliveries" ("saga_id");`);
    this.addSql(`alter table "data_platform_deliveries" add constraint "data_platform_deliveries_status_check" check ("status" in ('PENDING', 'DELIVERED', 'FAILED'));`);

    this.addSql(`create table "orders" ("id" uuid not null, "user_id" int not null, "status" text not null, "total_won" int not null, "cancellation_reason" varchar(64) null, "cancellation_message" text null, "workflow_id" varchar(200) not null, "request_hash" varchar(64) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "confirmed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "orders_user_id_index" on "orders" ("user_id");`);
    this.addSql(`create index "orders_status_index" on "orders" ("status");`);
    this.addSql(`alter table "orders" add constraint "orders_workflow_id_unique" unique ("workflow_id");`);
    this.addSql(`alter table "orders" add constraint "orders_status_check" check ("status" in ('PENDING', 'CONFIRMED', 'CANCELLED', 'COMPENSATION_FAILED'));`);

    this.addSql(`create table "point_accounts" ("user_id" int not null, "balance_points" int not null default 0, "updated_at" timestamptz not null, primary key ("user_id"));`);
    this.addSql(`alter table "point_accounts" add constraint "point_accounts_balance_non_negative" check (balance_points >= 0);`);

    this.addSql(`create table "point_ledger" ("id" bigserial primary key, "account_user_id" int not null, "kind" text not null, "amount_points" int not null, "reference" varchar(200) not null, "idempotency_key" varchar(250) not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "point_ledger_account_user_id_index" on "point_ledger" ("account_user_id");`);
    this.addSql(`alter table "point_ledger" add constraint "point_ledger_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`alter table "point_ledger" add constraint "point_ledger_reference_kind_unique" unique ("reference", "kind");`);
    this.addSql(`alter table "point_ledger" add constraint "point_ledger_amount_non_negative" check (amount_points >= 0);`);
    this.addSql(`alter table "point_ledger" add constraint "point_ledger_kind_check" check ("kind" in ('TOP_UP', 'PAYMENT', 'REFUND'));`);

    this.addSql(`create table "products" ("id" serial primary key, "sku" varchar(64) not null, "name" varchar(200) not null, "price_won" int not null, "stock" int not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "products" add constraint "products_sku_unique" unique ("sku");`);
    this.addSql(`alter table "products" add constraint "products_stock_non_negative" check (stock >= 0);`);
    this.addSql(`alter table "products" add constraint "products_price_non_negative" check (price_won >= 0);`);

    this.addSql(`create table "order_lines" ("id" serial primary key, "order_id" uuid not null, "product_id" int not null, "quantity" int not null, "unit_price_won" int not null);`);
    this.addSql(`create index "order_lines_product_id_index" on "order_lines" ("product_id");`);
    this.addSql(`alter table "order_lines" add constraint "order_lines_order_product_unique" unique ("order_id", "product_id");`);
    this.addSql(`alter table "order_lines" add constraint "order_lines_quantity_positive" check (quantity > 0);`);

    this.addSql(`create table "stock_reservations" ("id" serial primary key, "order_id" uuid not null, "product_id" int not null, "quantity" int not null, "status" text not null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "stock_reservations_product_id_index" on "stock_reservations" ("product_id");`);
    this.addSql(`alter table "stock_reservations" add constraint "stock_reservations_order_product_unique" unique ("order_id", "product_id");`);
    this.addSql(`alter table "stock_reservations" add constraint "stock_reservations_quantity_non_negative" check (quantity >= 0);`);
    this.addSql(`alter table "stock_reservations" add constraint "stock_reservations_status_check" check ("status" in ('RESERVED', 'RELEASED', 'COMMITTED'));`);

    this.addSql(`alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "app_users" ("id");`);

    this.addSql(`alter table "point_accounts" add constraint "point_accounts_user_id_foreign" foreign key ("user_id") references "app_users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "point_ledger" add constraint "point_ledger_account_user_id_foreign" foreign key ("account_user_id") references "point_accounts" ("user_id");`);

    this.addSql(`alter table "order_lines" add constraint "order_lines_order_id_foreign" foreign key ("order_id") references "orders" ("id");`);
    this.addSql(`alter table "order_lines" add constraint "order_lines_product_id_foreign" foreign key ("product_id") references "products" ("id");`);

    this.addSql(`alter table "stock_reservations" add constraint "stock_reservations_order_id_foreign" foreign key ("order_id") references "orders" ("id");`);
    this.addSql(`alter table "stock_reservations" add constraint "stock_reservations_product_id_foreign" foreign key ("product_id") references "products" ("id");`);
  }

}
