/**
 * Generators of the product routes (api/products/routes.ts): GET /products, a paged list
 * (`limit` 1..100 and `cursor`, see routes/lists.ts), and GET /products/:id.
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import { listEndpoint } from './lists.ts';

/** The generators of GET /products and GET /products/:id. */
export function productEndpoints(kit: EndpointKit): { products: EndpointGenerator; getProduct: EndpointGenerator } {
  const products = listEndpoint(kit, 'GET /products', 'products', fc.constant('/products'), [
    fc.constantFrom('/products%2F', '/products.json', '/products/x/y', '//products', '/products;x', '/products%00').map((target) => ({ method: 'GET', target, headers: [], defects: [`path ${target}`] })),
  ]);
  const getProduct = kit.byEntityId('GET /products/:id', '/products/:id', [kit.fx.productA, kit.fx.productB]);
  return { products, getProduct };
}
