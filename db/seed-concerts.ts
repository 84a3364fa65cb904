/**
 * Demo concerts: one tour with three performances of 50 seats each (sections R and S,
 * 25 seats each, priced in won). Idempotent: keyed by the concert title.
 */
import type { EntityManager } from '@mikro-orm/postgresql';

/** Seat sections of every seeded performance: `count` seats at `priceWon` won. */
export const DEMO_SECTIONS = [
  { section: 'R', count: 25, priceWon: 154_000 },
  { section: 'S', count: 25, priceWon: 99_000 },
] as const;

const DEMO_CONCERT = { title: 'Seoul Lights World Tour', artist: 'Aurora Strings', venue: 'Olympic Hall, Seoul' };
const DEMO_PERFORMANCES = ['2027-03-06T19:00:00+09:00', '2027-03-07T18:00:00+09:00', '2027-03-08T17:00:00+09:00'];

/** Inserts the demo concert, its performances and seats when missing; returns the seats inserted. */
export async function seedDemoConcerts(em: EntityManager): Promise<number> {
  const existing = await em.execute<{ id: number }[]>('select id from concerts where title = ?', [DEMO_CONCERT.title]);
  if (existing.length > 0) return 0;
  const [concert] = await em.execute<{ id: number }[]>(
    'insert into concerts (title, artist, venue) values (?, ?, ?) returning id',
    [DEMO_CONCERT.title, DEMO_CONCERT.artist, DEMO_CONCERT.venue],
  );
  let seats = 0;
  for (const startsAt of DEMO_PERFORMANCES) {
    const [performance] = await em.execute<{ id: number }[]>(
      'insert into performances (concert_id, starts_at) values (?, ?) returning id',
      [concert!.id, startsAt],
    );
    for (const { section, count, priceWon } of DEMO_SECTIONS) {
      await em.execute(
        `insert into seats (performance_id, section, number, price_won, status)
         select ?, ?, n, ?, 'AVAILABLE' from generate_series(1, ?) as n`,
        [performance!.id, section, priceWon, count],
      );
      seats += count;
    }
  }
  return seats;
}
