/** The documented product routes (handlers: products/routes.ts). */
import { idParams, pagedListRoute, readRoute, type DocumentedRoute } from '../openapi/operation.ts';
import { ListProductsQuery, ProductPageSchema, ProductViewSchema } from './schemas.ts';

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

  readRoute('/products/:id', idParams('The product id.'), {
    access: 'public',
    operationId: 'getProduct',
    tag: 'Products',
    summary: 'Read a product',
    schema: ProductViewSchema,
    answer: 'The product.',
  }),
];
