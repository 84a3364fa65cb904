/**
 * Generators of the product routes (api/routes/products.ts): GET /products, the one route
 * that reads its query (limit, offset), and GET /products/:id.
 */
import querystring from 'node:querystring';
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import { decodeURIComponentSafe } from '../paths.ts';
import { MAX_INT32, nastyString, pct } from '../values.ts';

/** Whether the API refuses `value` as the `name` query parameter (as querystring parses it). */
const queryValueRefused = (name: 'limit' | 'offset') => (value: string) => {
  const parsed = querystring.parse(`${name}=${value}`)[name];
  const n = typeof parsed === 'string' ? Number(parsed) : NaN;
  return !(Number.isInteger(n) && n >= (name === 'limit' ? 1 : 0) && n <= (name === 'limit' ? 500 : MAX_INT32));
};
/** Values of `name` the API refuses. */
const badQueryValue = (name: 'limit' | 'offset') =>
  fc
    .oneof(
      fc.constantFrom('0', '-1', '501', '1000', '1.5', 'abc', '', 'NaN', 'Infinity', '-Infinity', '1e308', '9007199254740993', '2147483648', '-0.5', '%00', '%EF%BC%91', '%D9%A1', '1%2C2', '%ED%A0%80', '1e400', '0x', '--1'),
      nastyString.map(pct),
      fc.integer({ min: 501, max: MAX_INT32 }).map(String),
      fc.integer({ min: 1, max: 10_000 }).map((n) => '9'.repeat(n)),
    )
    .filter(queryValueRefused(name));
/** A valid query of GET /products (limit 1..500, offset 0..2^31-1, each optional), without the `?`. */
const validQuery = fc.tuple(fc.option(fc.integer({ min: 1, max: 500 })), fc.option(fc.integer({ min: 0, max: MAX_INT32 }))).map(([l, o]) =>
  [l === null ? '' : `limit=${l}`, o === null ? '' : `offset=${o}`].filter(Boolean).join('&'),
);
/** Queries of GET /products with one defect: a bad limit or offset, a repeated, bracketed or unknown key. */
const badQuery: fc.Arbitrary<{ query: string; defect: string }> = fc.oneof(
  fc.tuple(badQueryValue('limit'), validQuery).map(([v, q]) => ({ query: [`limit=${v}`, q.replace(/limit=\d+&?/, '')].filter(Boolean).join('&'), defect: `limit ${v.slice(0, 40)}` })),
  fc.tuple(badQueryValue('offset'), validQuery).map(([v, q]) => ({ query: [q.replace(/&?offset=\d+/, ''), `offset=${v}`].filter(Boolean).join('&'), defect: `offset ${v.slice(0, 40)}` })),
  fc.constantFrom('limit=1&limit=2', 'offset=1&offset=1', 'limit[]=1', 'limit[a]=1', 'sort=name', '__proto__=1', 'constructor=1', 'limit', 'x', '=1', '&&=&').map((query) => ({ query, defect: `query ${query}` })),
  fc.tuple(nastyString, validQuery).map(([k, q]) => ({ query: [`${pct(k)}=1`, q].filter(Boolean).join('&'), defect: 'unknown query key' })).filter(({ query }) => !/^(limit|offset)=/.test(decodeURIComponentSafe(query.split('&')[0]!))),
);

/** The generators of GET /products and GET /products/:id. */
export function productEndpoints(kit: EndpointKit): { products: EndpointGenerator; getProduct: EndpointGenerator } {
  const products = kit.make(
    'GET /products',
    [
      [fc.tuple(badQuery, fc.constantFrom('/products', '/products/', '/PRODUCTS')).map(([q, path]) => ({ method: 'GET', target: `${path}?${q.query}`, headers: [], defects: [q.defect] })), 6],
      fc.constantFrom('/products%2F', '/products.json', '/products/x/y', '//products', '/products;x', '/products%00').map((target) => ({ method: 'GET', target, headers: [], defects: [`path ${target}`] })),
    ],
    validQuery.map((q) => ({ method: 'GET', target: q ? `/products?${q}` : '/products', headers: [], defects: [] })),
    kit.others('GET'),
    true,
  );
  const getProduct = kit.byEntityId('GET /products/:id', '/products/:id', [kit.fx.productA, kit.fx.productB]);
  return { products, getProduct };
}
