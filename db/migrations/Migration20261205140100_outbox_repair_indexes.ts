import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes of the outbox relay's repair of missing events (worker/outbox-relay.ts,
 * db/orphans.ts `confirmedSagasWithoutEvent`): CONFIRMED orders and reservations by
 * `confirmed_at`, so the repair reads only the sagas confirmed in its window (the last
 * hour, less a grace period), never every confirmed saga of the history.
 */
export class Migration20261205140100_outbox_repair_indexes extends Migration {

  override name = 'Migration20261205140100_outbox_repair_indexes';

  override up(): void | Promise<void> {
    this.addSql(`create index "orders_confirmed_at" on "orders" ("confirmed_at") where status = 'CONFIRMED';`);
    this.addSql(`create index "reservations_confirmed_at" on "reservations" ("confirmed_at") where status = 'CONFIRMED';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "reservations_confirmed_at";`);
    this.addSql(`drop index if exists "orders_confirmed_at";`);
  }

}
