import { Migration } from '@mikro-orm/migrations';

/**
 * The waiting queue (issue 15): `queue_counters` (one row per performance: the last
 * ticket handed out and the number of WAITING tokens; its row lock serializes joins and
 * admissions) and `queue_tokens`. The database enforces what it can: one live (WAITING or
 * ACTIVE) token per user and performance, unique tickets per performance, timestamps that
 * fit the status, and one PENDING reservation per token (`reservations.queue_token_id`).
 * The cap on ACTIVE tokens is kept by the admission code under the counter's lock and
 * checked by the invariant checker from the admitted/ended timestamps.
 */
export class Migration20261205090000_queue_tokens extends Migration {

  override name = 'Migration20261205090000_queue_tokens';

  override up(): void | Promise<void> {
    this.addSql(`create table "queue_counters" ("performance_id" int not null, "last_ticket" bigint not null default 0, "waiting" int not null default 0, primary key ("performance_id"));`);
    this.addSql(`alter table "queue_counters" add constraint "queue_counters_waiting_non_negative" check (waiting >= 0);`);
    this.addSql(`alter table "queue_counters" add constraint "queue_counters_performance_id_foreign" foreign key ("performance_id") references "performances" ("id");`);

    this.addSql(`create table "queue_tokens" ("id" uuid not null, "performance_id" int not null, "user_id" int not null, "ticket" bigint not null, "status" text not null, "joined_at" timestamptz not null, "admitted_at" timestamptz null, "active_until" timestamptz null, "ended_at" timestamptz null, "end_reason" text null, primary key ("id"));`);
    this.addSql(`alter table "queue_tokens" add constraint "queue_tokens_status_check" check ("status" in ('WAITING', 'ACTIVE', 'EXPIRED', 'CANCELLED'));`);
    this.addSql(`alter table "queue_tokens" add constraint "queue_tokens_end_reason_check" check ("end_reason" in ('PAID', 'TIMED_OUT', 'CANCELLED'));`);
    this.addSql(`alter table "queue_tokens" add constraint "queue_tokens_state_consistent" check (
      (status = 'WAITING' and admitted_at is null and active_until is null and ended_at is null and end_reason is null)
      or (status = 'ACTIVE' and admitted_at is not null and active_until > admitted_at and ended_at is null and end_reason is null)
      or (status = 'EXPIRED' and admitted_at is not null and ended_at >= admitted_at and end_reason in ('PAID', 'TIMED_OUT'))
      or (status = 'CANCELLED' and ended_at is not null and end_reason = 'CANCELLED'));`);
    this.addSql(`alter table "queue_tokens" add constraint "queue_tokens_performance_ticket_unique" unique ("performance_id", "ticket");`);
    this.addSql(`create unique index "queue_tokens_live_per_user" on "queue_tokens" ("performance_id", "user_id") where status in ('WAITING', 'ACTIVE');`);
    this.addSql(`create index "queue_tokens_waiting" on "queue_tokens" ("performance_id", "ticket") where status = 'WAITING';`);
    this.addSql(`create index "queue_tokens_active_until" on "queue_tokens" ("active_until") where status = 'ACTIVE';`);
    this.addSql(`create index "queue_tokens_performance_admitted_at" on "queue_tokens" ("performance_id", "admitted_at");`);
    this.addSql(`alter table "queue_tokens" add constraint "queue_tokens_performance_id_foreign" foreign key ("performance_id") references "performances" ("id");`);
    this.addSql(`alter table "queue_tokens" add constraint "queue_tokens_user_id_foreign" foreign key ("user_id") references "app_users" ("id");`);

    this.addSql(`alter table "reservations" add column "queue_token_id" uuid null;`);
    this.addSql(`create unique index "reservations_one_pending_per_queue_token" on "reservations" ("queue_token_id") where status = 'PENDING';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "reservations_one_pending_per_queue_token";`);
    this.addSql(`alter table "reservations" drop column if exists "queue_token_id";`);
    this.addSql(`drop table if exists "queue_tokens" cascade;`);
    this.addSql(`drop table if exists "queue_counters" cascade;`);
  }

}
