/**
 * Generators of the product routes (api/products/routes.ts): GET /products, a paged list
 * (`limit` 1..100 and `cursor`, see routes/lists.ts), GET /products/popular (`days` 1..30
 * and `limit` 1..50, see popular.ts) and GET /products/:id.
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import type { Parts } from '../families.ts';
import { POPULAR_PARAMS, popularQueryErrors, popularRequested } from '../popular.ts';
import { badLimit, listEndpoint, unknownParam } from './lists.ts';

const POPULAR_PATH = '/products/popular';

/** A valid query of GET /products/popular, without `?` (possibly empty): `days` and `limit`, each optional, in either order. */
const validPopularQuery: fc.Arbitrary<string> = fc
  .tuple(
    fc.option(fc.integer({ min: 1, max: POPULAR_PARAMS.days.max }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: POPULAR_PARAMS.limit.max }), { nil: undefined }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([days, limit, limitFirst, encodeFirst]) => {
    // A client may percent-encode a digit: the value is the same.
    const spell = (n: number) => (encodeFirst ? `%3${String(n)[0]}${String(n).slice(1)}` : String(n));
    const parts = [days === undefined ? '' : `days=${spell(days)}`, limit === undefined ? '' : `limit=${spell(limit)}`];
    return (limitFirst ? parts.reverse() : parts).filter(Boolean).join('&');
  });

/** Values of `days` or `limit` refused: any a list refuses as `limit`, and integers past the route's own bound. */
const badPopularValue = (max: number): fc.Arbitrary<string> => fc.oneof({ weight: 3, arbitrary: badLimit }, fc.integer({ min: max + 1, max: 999 }).map(String));

/** A query of GET /products/popular with one defect, and the error paths the route answers it with. */
const badPopularQuery: fc.Arbitrary<{ query: string; defect: string; errors: string[] }> = (() => {
  const days = fc.option(fc.integer({ min: 1, max: POPULAR_PARAMS.days.max }).map((n) => `days=${n}`), { nil: '' });
  const limit = fc.option(fc.integer({ min: 1, max: POPULAR_PARAMS.limit.max }).map((n) => `limit=${n}`), { nil: '' });
  const join = (...parts: string[]) => parts.filter(Boolean).join('&');
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.tuple(badPopularValue(POPULAR_PARAMS.days.max), limit, fc.boolean()).map(([v, l, first]) => ({ query: first ? join(`days=${v}`, l) : join(l, `days=${v}`), defect: `days ${v.slice(0, 40)}` })) },
      { weight: 3, arbitrary: fc.tuple(badPopularValue(POPULAR_PARAMS.limit.max), days, fc.boolean()).map(([v, d, first]) => ({ query: first ? join(`limit=${v}`, d) : join(d, `limit=${v}`), defect: `limit ${v.slice(0, 40)}` })) },
      fc.tuple(fc.constantFrom('days', 'limit'), fc.integer({ min: 1, max: POPULAR_PARAMS.days.max }), fc.constantFrom('=1', '=', '')).map(([name, n, again]) => ({ query: `${name}=${n}&${name}${again}`, defect: `${name} given twice` })),
      { weight: 2, arbitrary: fc.tuple(fc.oneof(unknownParam, fc.constantFrom('cursor=x', 'top=5', 'Days=3', 'day=3', 'since=2026-01-01')), days, limit).map(([p, d, l]) => ({ query: join(d, p, l), defect: `query ${p.slice(0, 40)}` })) },
      fc.constantFrom('days', 'days=', 'limit', 'limit=', 'days=+', 'limit=1+', 'days=3+').map((query) => ({ query, defect: `query ${query}` })),
    )
    .map((q) => ({ ...q, errors: popularQueryErrors(q.query) }))
    .filter((q) => q.errors.length > 0);
})();

/**
 * The generator of GET /products/popular: valid queries, expected 200 with the window and
 * at most the limit asked (weight 1); queries with one defect (weight 6), expected 400
 * `ValidationFailed` at the bad parameters, on the path as spelled in any case and with a
 * trailing slash; and odd paths next to it.
 */
function popularEndpoint(kit: EndpointKit): EndpointGenerator {
  const valid: fc.Arbitrary<Parts> = validPopularQuery.map((query) => ({ method: 'GET', target: query ? `${POPULAR_PATH}?${query}` : POPULAR_PATH, headers: [], defects: [] }));
  const validAnswer: fc.Arbitrary<Parts> = validPopularQuery.map((query) => ({
    method: 'GET',
    target: query ? `${POPULAR_PATH}?${query}` : POPULAR_PATH,
    headers: [],
    defects: [],
    expect: { status: 200, popular: popularRequested(query) },
  }));
  const badQuery: fc.Arbitrary<Parts> = fc.tuple(fc.constantFrom(POPULAR_PATH, `${POPULAR_PATH}/`, POPULAR_PATH.toUpperCase()), badPopularQuery).map(([path, q]) => ({
    method: 'GET',
    target: `${path}?${q.query}`,
    headers: [],
    defects: [q.defect],
    expect: { status: 400, code: 'ValidationFailed', errorPaths: q.errors },
  }));
  const oddPaths: fc.Arbitrary<Parts> = fc
    .constantFrom('/products/popular%2F', '/products/popular.json', '/products/popular/x', '/products/popular/1', '//products/popular', '/products/popular;x', '/products/popular%00', '/products/populars')
    .map((target) => ({ method: 'GET', target, headers: [], defects: [`path ${target}`] }));
  return kit.make('GET /products/popular', [[badQuery, 6], validAnswer, oddPaths], valid, kit.others('GET'), true);
}

/** The generators of GET /products, GET /products/popular and GET /products/:id. */
export function productEndpoints(kit: EndpointKit): { products: EndpointGenerator; popular: EndpointGenerator; getProduct: EndpointGenerator } {
  const products = listEndpoint(kit, 'GET /products', 'products', fc.constant('/products'), [
    fc.constantFrom('/products%2F', '/products.json', '/products/x/y', '//products', '/products;x', '/products%00').map((target) => ({ method: 'GET', target, headers: [], defects: [`path ${target}`] })),
  ]);
  const popular = popularEndpoint(kit);
  const getProduct = kit.byEntityId('GET /products/:id', '/products/:id', [kit.fx.productA, kit.fx.productB]);
  return { products, popular, getProduct };
}
