import { Migration } from '@mikro-orm/migrations';

/**
 * The Ranking read model (issue 16): `product_sales_daily` (units and revenue in won per
 * product per UTC day, kept by the ranking consumer of the outbox) and
 * `ranking_consumed_events` (the outbox event ids it counted; the primary key makes each
 * event count once). No foreign keys: the read model must never refuse an event (the
 * invariant checker compares both tables with the outbox and the orders instead). The
 * index on `day` serves `GET /products/popular`, which sums the last days of every
 * product.
 */
export class Migration20261205130000_product_sales extends Migration {

  override name = 'Migration20261205130000_product_sales';

  override up(): void | Promise<void> {
    this.addSql(`create table "product_sales_daily" ("product_id" int not null, "day" date not null, "units" bigint not null, "revenue_won" bigint not null, primary key ("product_id", "day"));`);
    this.addSql(`alter table "product_sales_daily" add constraint "product_sales_daily_non_negative" check (units >= 0 and revenue_won >= 0);`);
    this.addSql(`create index "product_sales_daily_day" on "product_sales_daily" ("day") include ("product_id", "units", "revenue_won");`);

    this.addSql(`create table "ranking_consumed_events" ("event_id" varchar(250) not null, "consumed_at" timestamptz not null default now(), primary key ("event_id"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "ranking_consumed_events" cascade;`);
    this.addSql(`drop table if exists "product_sales_daily" cascade;`);
  }

}
