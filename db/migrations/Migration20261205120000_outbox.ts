import { Migration } from '@mikro-orm/migrations';

/**
 * The transactional outbox (issue 16): `data_platform_deliveries` becomes the outbox the
 * pivots write their event into and the relay delivers from. New columns: `occurred_at`
 * (the event's occurredAt, the pivot's transaction time), `next_attempt_at` (when the
 * relay may try the row next: backoff after a transient failure) and `claimed_until`
 * (the lease of the relay replica that claimed the row; null when unclaimed). The
 * partial index serves the relay's claim of due PENDING rows.
 *
 * Backfill: rows written by the `notifyDataPlatform` activity before the outbox kept the
 * whole event `{ eventId, type, occurredAt, payload }` in `payload`; they keep only its
 * payload, with `occurred_at` from its occurredAt (from `created_at` for any other row).
 * `occurred_at` defaults to now() for writers that do not name it (the activity of sagas
 * from before the outbox, until it writes the column).
 */
export class Migration20261205120000_outbox extends Migration {

  override name = 'Migration20261205120000_outbox';

  override up(): void | Promise<void> {
    this.addSql(`alter table "data_platform_deliveries" add column "occurred_at" timestamptz not null default now(), add column "next_attempt_at" timestamptz not null default now(), add column "claimed_until" timestamptz null;`);
    // One statement, so each row's occurredAt is read before its payload is unwrapped.
    this.addSql(`update "data_platform_deliveries" set
      "occurred_at" = case when "payload"->>'eventId' is not null then coalesce(("payload"->>'occurredAt')::timestamptz, "created_at") else "created_at" end,
      "payload" = case when "payload"->>'eventId' is not null and jsonb_typeof("payload"->'payload') = 'object' then "payload"->'payload' else "payload" end;`);
    this.addSql(`create index "data_platform_deliveries_pending_next_attempt" on "data_platform_deliveries" ("next_attempt_at") where status = 'PENDING';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "data_platform_deliveries_pending_next_attempt";`);
    this.addSql(`alter table "data_platform_deliveries" drop column if exists "claimed_until", drop column if exists "next_attempt_at", drop column if exists "occurred_at";`);
  }

}
