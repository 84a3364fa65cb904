import { Migration } from '@mikro-orm/migrations';

/**
 * Backfill of `payments` from the point ledger: one row per saga that has a PAYMENT
 * ledger row (sagas paid before the Payments context existed), PAID, or REFUNDED when the
 * saga also has a REFUND row (its `created_at` is the refund time). Idempotent: a saga
 * that already has its payment row is left alone (`on conflict (saga_id) do nothing`).
 * A 0-point REFUND without a PAYMENT (a refund tombstone of a saga that paid nothing)
 * gets no row, as the refund activity writes none.
 */
export const BACKFILL_PAYMENTS_SQL = `insert into "payments" ("saga_id", "user_id", "amount_won", "method", "status", "created_at", "updated_at", "refunded_at")
  select p."reference", p."account_user_id", p."amount_points", 'POINTS',
         case when r."id" is null then 'PAID' else 'REFUNDED' end,
         p."created_at", coalesce(r."created_at", p."created_at"), r."created_at"
  from "point_ledger" p
  left join "point_ledger" r on r."reference" = p."reference" and r."kind" = 'REFUND'
  where p."kind" = 'PAYMENT'
  order by p."id"
  on conflict ("saga_id") do nothing;`;

/**
 * The Payments context's table: one payment per saga (unique `saga_id`, the workflow id),
 * written PAID by the pay step in the transaction of its ledger debit and marked REFUNDED
 * by the refund (activities/payments.ts). Money in `bigint` won, as every money column
 * since Migration20261204120000_money_bigint. Then {@link BACKFILL_PAYMENTS_SQL}, so the
 * invariant "every payment matches its ledger rows" holds for sagas paid before it too.
 */
export class Migration20261204200100_payments extends Migration {

  override name = 'Migration20261204200100_payments';

  override up(): void | Promise<void> {
    this.addSql(`create table "payments" ("id" bigserial primary key, "saga_id" varchar(200) not null, "user_id" int not null, "amount_won" bigint not null, "method" text not null, "status" text not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "refunded_at" timestamptz null);`);
    this.addSql(`alter table "payments" add constraint "payments_saga_id_unique" unique ("saga_id");`);
    this.addSql(`alter table "payments" add constraint "payments_amount_non_negative" check (amount_won >= 0);`);
    this.addSql(`alter table "payments" add constraint "payments_method_check" check ("method" in ('POINTS'));`);
    this.addSql(`alter table "payments" add constraint "payments_status_check" check ("status" in ('PAID', 'REFUNDED'));`);
    this.addSql(BACKFILL_PAYMENTS_SQL);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "payments" cascade;`);
  }

}
