/** The documented product routes (handlers: products/routes.ts). */
import { idParams, jsonAnswer, route, type DocumentedRoute } from '../openapi/operation.ts';
import { ListProductsQuery, ProductPageSchema, ProductViewSchema } from './schemas.ts';

/** The product routes. */
export const productRoutes: DocumentedRoute[] = [
  route('get', '/products', {
    operationId: 'listProducts',
    tag: 'Products',
    summary: 'List the catalog',
    description: 'Products by id ascending, with price in won and units in stock; paged by `limit` and `cursor` (follow `next`).',
    params: { query: ListProductsQuery },
    answers: { 200: jsonAnswer(ProductPageSchema, 'A page of products.') },
    problems: { 400: ['ValidationFailed'] },
  }),

  route('get', '/products/:id', {
    operationId: 'getProduct',
    tag: 'Products',
    summary: 'Read a product',
    params: { path: idParams('The product id.') },
    answers: { 200: jsonAnswer(ProductViewSchema, 'The product.') },
    problems: { 400: ['ValidationFailed'], 404: ['NotFound'] },
  }),
];
