import { Migration } from '@mikro-orm/migrations';

/**
 * The ranking consumer's cost no longer grows with the outbox's history (issue 16).
 *
 * `data_platform_deliveries.recorded_xid`: the id of the transaction that inserted the row
 * (`pg_current_xact_id()`, the column default, so every writer fills it without naming it:
 * the pivots, the old-shape `notifyDataPlatform`, the relay's repair of missing events, and
 * workers of older code during a rolling deploy). Existing rows get the migration's own id.
 *
 * `ranking_consumer_position`: per consumer, `scanned_below_xid`, a transaction id below
 * which every `order.confirmed` row is known to be consumed; the consumer reads only the
 * rows at or above it (db/ranking.ts has the argument why no row is skipped). The
 * `ranking` row starts at 0, so the first pass after this migration reads the history once.
 *
 * The partial index serves both reads of the consumer: the `order.confirmed` rows from the
 * position on, in (recorded_xid, event_id) order.
 */
export class Migration20261205140000_ranking_watermark extends Migration {

  override name = 'Migration20261205140000_ranking_watermark';

  override up(): void | Promise<void> {
    this.addSql(`alter table "data_platform_deliveries" add column "recorded_xid" xid8 not null default pg_current_xact_id();`);
    this.addSql(`create index "data_platform_deliveries_order_confirmed_xid" on "data_platform_deliveries" ("recorded_xid", "event_id") where event_type = 'order.confirmed';`);
    this.addSql(`create table "ranking_consumer_position" ("consumer" varchar(100) not null, "scanned_below_xid" xid8 not null, "updated_at" timestamptz not null default now(), primary key ("consumer"));`);
    this.addSql(`insert into "ranking_consumer_position" ("consumer", "scanned_below_xid") values ('ranking', '0');`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "ranking_consumer_position" cascade;`);
    this.addSql(`drop index if exists "data_platform_deliveries_order_confirmed_xid";`);
    this.addSql(`alter table "data_platform_deliveries" drop column if exists "recorded_xid";`);
  }

}
