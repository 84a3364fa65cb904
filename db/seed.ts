/**
 * Demo catalog: products with prices (won) and stock, users with prepaid point
 * balances, concerts (seed-concerts.ts) and coupon campaigns (seed-coupons.ts).
 * Idempotent: running it again changes nothing that exists (rows are keyed by
 * SKU and user id; initial balances are TOP_UP ledger rows keyed `seed-user-<id>`), so
 * point and stock conservation hold from the first order on.
 */
import type { Orm } from './orm.ts';
import { seedDemoCampaigns } from './seed-coupons.ts';
import { seedDemoConcerts } from './seed-concerts.ts';

/** A seeded product: unit price in won, initial stock in units (also its `initial_stock` baseline). */
export interface SeedProduct {
  sku: string;
  name: string;
  priceWon: number;
  stock: number;
}

/** A seeded user and their initial point balance. */
export interface SeedUser {
  id: number;
  name: string;
  balancePoints: number;
}

export const DEMO_PRODUCTS: readonly SeedProduct[] = [
  { sku: 'KB-001', name: 'Mechanical keyboard', priceWon: 89_000, stock: 50 },
  { sku: 'MS-002', name: 'Wireless mouse', priceWon: 32_000, stock: 100 },
  { sku: 'HP-003', name: 'Noise-cancelling headphones', priceWon: 249_000, stock: 20 },
  { sku: 'MN-004', name: '27-inch monitor', priceWon: 329_000, stock: 15 },
  { sku: 'CB-005', name: 'USB-C cable', priceWon: 9_900, stock: 500 },
  { sku: 'TS-006', name: 'Concert tour T-shirt', priceWon: 35_000, stock: 200 },
  { sku: 'LS-007', name: 'Light stick', priceWon: 45_000, stock: 3 },
];

export const DEMO_USERS: readonly SeedUser[] = [
  { id: 1, name: 'Kim Minji', balancePoints: 1_000_000 },
  { id: 2, name: 'Lee Jihoon', balancePoints: 100_000 },
  { id: 3, name: 'Park Seoyeon', balancePoints: 10_000 },
  { id: 4, name: 'Choi Hyunwoo', balancePoints: 0 },
];

/** Inserts the demo catalog, concerts and coupon campaigns where missing; returns how many rows it inserted. */
export async function seedDemoData(orm: Orm): Promise<{ products: number; users: number; seats: number; campaigns: number }> {
  return orm.em.fork().transactional(async (em) => {
    let products = 0;
    for (const p of DEMO_PRODUCTS) {
      const rows = await em.execute(
        `insert into products (sku, name, price_won, stock, initial_stock, created_at) values (?, ?, ?, ?, ?, now())
         on conflict (sku) do nothing returning id`,
        [p.sku, p.name, p.priceWon, p.stock, p.stock],
      );
      products += rows.length;
    }
    let users = 0;
    for (const u of DEMO_USERS) {
      const rows = await em.execute(
        'insert into app_users (id, name, created_at) values (?, ?, now()) on conflict (id) do nothing returning id',
        [u.id, u.name],
      );
      if (rows.length === 0) continue;
      users += 1;
      await em.execute('insert into point_accounts (user_id, balance_points, updated_at) values (?, ?, now())', [
        u.id,
        u.balancePoints,
      ]);
      if (u.balancePoints > 0) {
        await em.execute(
          `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
           values (?, 'TOP_UP', ?, ?, ?, now())`,
          [u.id, u.balancePoints, `seed-user-${u.id}`, `seed-user-${u.id}`],
        );
      }
    }
    // Explicit ids above do not advance the serial; keep it past them for later inserts.
    await em.execute(`select setval(pg_get_serial_sequence('app_users', 'id'), greatest((select max(id) from app_users), 1))`);
    const seats = await seedDemoConcerts(em);
    const campaigns = await seedDemoCampaigns(em);
    return { products, users, seats, campaigns };
  });
}
