/**
 * The contract of `GET /products/popular` (api/products/schemas.ts `PopularProductsQuery`),
 * as the oracle and the route's generator read it: the query is `days` (1..30, default 3)
 * and `limit` (1..50, default 5), each an integer in decimal digits without sign or
 * leading zero, each at most once, and nothing else; any other query is refused with 400
 * `ValidationFailed` at the bad parameters (an unknown parameter at its name). The query
 * is read as pages.ts reads the lists' (`URLSearchParams`). A valid query is answered 200
 * `{ days, limit, since, products }`.
 */

/** The bounds of the two parameters: most value, and the value when absent. */
export const POPULAR_PARAMS = Object.freeze({ days: { max: 30, fallback: 3 }, limit: { max: 50, fallback: 5 } });

type PopularParam = keyof typeof POPULAR_PARAMS;

const isPopularParam = (name: string): name is PopularParam => Object.hasOwn(POPULAR_PARAMS, name);

/** Whether `value` (decoded) is one the route accepts for `name`. */
export function popularValueAccepted(name: PopularParam, value: string): boolean {
  return /^[1-9][0-9]{0,2}$/.test(value) && Number(value) <= POPULAR_PARAMS[name].max;
}

/**
 * The error paths the route answers the query `query` (without `?`) with: `days` or
 * `limit` when bad or repeated, the name of each unknown parameter, sorted. Empty when
 * the query is accepted.
 */
export function popularQueryErrors(query: string): string[] {
  const params = new URLSearchParams(query);
  const errors: string[] = [];
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    if (!isPopularParam(name) || values.length !== 1 || !popularValueAccepted(name, values[0]!)) errors.push(name);
  }
  return errors.sort();
}

/** The window and size a valid query asks for (the defaults for what it leaves out). */
export function popularRequested(query: string): { days: number; limit: number } {
  const params = new URLSearchParams(query);
  const value = (name: PopularParam) => Number(params.get(name) ?? POPULAR_PARAMS[name].fallback);
  return { days: value('days'), limit: value('limit') };
}

/** The first UTC day of a `days`-day window ending today, `YYYY-MM-DD`, for `now`. */
function windowStart(days: number, now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1))).toISOString().slice(0, 10);
}

/**
 * How `body` is not the answer to a query for `days` and `limit`: `{ days, limit, since,
 * products }` with the days and limit asked, `since` the window's first UTC day (today's
 * or, across midnight, yesterday's window), and at most `limit` products
 * `{ productId, name, units, revenueWon }`.
 */
export function popularProblems(body: unknown, { days, limit }: { days: number; limit: number }): string[] {
  const problems: string[] = [];
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !['days', 'limit', 'since', 'products'].includes(k));
  if (extra.length > 0) problems.push(`members beyond days, limit, since and products: ${extra.join(',')}`);
  if (record.days !== days || record.limit !== limit) problems.push(`days ${String(record.days)} and limit ${String(record.limit)}, expected ${days} and ${limit}`);
  const now = new Date();
  const starts = [windowStart(days, now), windowStart(days, new Date(now.getTime() - 60_000))];
  if (!starts.includes(record.since as string)) problems.push(`since ${JSON.stringify(record.since)}, expected ${starts[0]}`);
  const products = record.products;
  if (!Array.isArray(products) || products.length > limit) problems.push(`products is not an array of at most ${limit}`);
  else if (!products.every((p) => typeof p === 'object' && p !== null && ['productId', 'name', 'units', 'revenueWon'].every((k) => Object.hasOwn(p, k)))) {
    problems.push('a product without productId, name, units and revenueWon');
  }
  return problems;
}
