import { Migration } from '@mikro-orm/migrations';

/**
 * The Coupons context (issue 14): campaigns with a fixed quantity, the coupons issued from
 * them (at most one per user per campaign, enforced by a unique index), and each order's
 * use of a coupon (`coupon_redemptions`, keyed by order id). Orders gain their pricing
 * split: `subtotal_won` (the lines), `discount_won` (the coupon's), `coupon_id`;
 * `total_won` stays what is charged (subtotal - discount).
 *
 * `coupons.order_id`, `coupon_redemptions.coupon_id` and `orders.coupon_id` carry no
 * foreign key: an order may name a coupon that does not exist (refused by the saga, and a
 * RELEASED redemption tombstone still records it), and the contexts stay independent.
 */
export class Migration20261204200000_coupons extends Migration {

  override name = 'Migration20261204200000_coupons';

  override up(): void | Promise<void> {
    this.addSql(`create table "coupon_campaigns" ("id" serial primary key, "name" varchar(200) not null, "discount_type" text not null, "discount_value" bigint not null, "max_discount_won" bigint null, "min_order_won" bigint not null default 0, "valid_from" timestamptz not null, "valid_until" timestamptz not null, "quantity" int not null, "issued_count" int not null default 0, "created_at" timestamptz not null);`);
    this.addSql(`alter table "coupon_campaigns" add constraint "coupon_campaigns_discount_type_check" check ("discount_type" in ('FIXED', 'PERCENT'));`);
    this.addSql(`alter table "coupon_campaigns" add constraint "coupon_campaigns_quantity_positive" check (quantity > 0);`);
    this.addSql(`alter table "coupon_campaigns" add constraint "coupon_campaigns_issued_within_quantity" check (issued_count >= 0 and issued_count <= quantity);`);

    this.addSql(`create table "coupons" ("id" serial primary key, "campaign_id" int not null, "user_id" int not null, "status" text not null, "order_id" uuid null, "issued_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "coupons" add constraint "coupons_status_check" check ("status" in ('AVAILABLE', 'RESERVED', 'USED'));`);
    this.addSql(`alter table "coupons" add constraint "coupons_campaign_user_unique" unique ("campaign_id", "user_id");`);
    this.addSql(`create index "coupons_user_id_issued_at_id_index" on "coupons" ("user_id", "issued_at", "id");`);
    this.addSql(`create index "coupons_order_id_index" on "coupons" ("order_id");`);
    this.addSql(`alter table "coupons" add constraint "coupons_campaign_id_foreign" foreign key ("campaign_id") references "coupon_campaigns" ("id");`);
    this.addSql(`alter table "coupons" add constraint "coupons_user_id_foreign" foreign key ("user_id") references "app_users" ("id");`);

    this.addSql(`create table "coupon_redemptions" ("order_id" uuid not null, "coupon_id" int not null, "status" text not null, "subtotal_won" bigint not null, "discount_won" bigint not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("order_id"));`);
    this.addSql(`alter table "coupon_redemptions" add constraint "coupon_redemptions_status_check" check ("status" in ('RESERVED', 'RELEASED', 'USED'));`);
    this.addSql(`create index "coupon_redemptions_coupon_id_index" on "coupon_redemptions" ("coupon_id");`);

    this.addSql(`alter table "orders" add column "subtotal_won" bigint null, add column "discount_won" bigint not null default 0, add column "coupon_id" int null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "orders" drop column "coupon_id", drop column "discount_won", drop column "subtotal_won";`);
    this.addSql(`drop table if exists "coupon_redemptions" cascade;`);
    this.addSql(`drop table if exists "coupons" cascade;`);
    this.addSql(`drop table if exists "coupon_campaigns" cascade;`);
  }

}
