/** The documented product routes (handlers: products/routes.ts). */
import { idParams, jsonAnswer, pagedListRoute, readRoute, route, type DocumentedRoute } from '../openapi/operation.ts';
import { ListProductsQuery, PopularProductsQuery, PopularProductsSchema, ProductPageSchema, ProductViewSchema } from './schemas.ts';

/** The product routes. */
export const productRoutes: DocumentedRoute[] = [
  pagedListRoute('/products', ListProductsQuery, {
    access: 'public',
    operationId: 'listProducts',
    tag: 'Products',
    summary: 'List the catalog',
    description: 'Products by id ascending, with price in won and units in stock; paged by `limit` and `cursor` (follow `next`).',
    schema: ProductPageSchema,
    answer: 'A page of products.',
  }),

  route('get', '/products/popular', {
    access: 'public',
    operationId: 'listPopularProducts',
    tag: 'Products',
    summary: 'Rank the most sold products',
    description:
      'The `limit` products with the most units sold in CONFIRMED orders over the last `days` UTC days (today included), then by revenue, then by id, with units and revenue in won. ' +
      'Read from a per-product, per-day aggregate that a consumer of the order events keeps, each event counted once: an order shows a moment after it is confirmed; cancelled orders never count.',
    params: { query: PopularProductsQuery },
    answers: { 200: jsonAnswer(PopularProductsSchema, 'The ranking.') },
    problems: { 400: ['ValidationFailed'] },
  }),

  readRoute('/products/:id', idParams('The product id.'), {
    access: 'public',
    operationId: 'getProduct',
    tag: 'Products',
    summary: 'Read a product',
    schema: ProductViewSchema,
    answer: 'The product.',
  }),
];
