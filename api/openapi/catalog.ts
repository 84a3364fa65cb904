/** The documented catalog routes: products and concerts (handlers: routes/products.ts, routes/concerts.ts). */
import { ConcertListSchema, SeatMapViewSchema } from '../concerts/schemas.ts';
import { ListProductsQuery, ProductPageSchema, ProductViewSchema } from '../products/schemas.ts';
import { idParams, jsonAnswer, route, type DocumentedRoute } from './operation.ts';

/** The product and concert routes. */
export const catalogRoutes: DocumentedRoute[] = [
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

  route('get', '/concerts', {
    operationId: 'listConcerts',
    tag: 'Concerts',
    summary: 'List concerts and their performances',
    description: 'Every concert by id, each with its performances by start time and the seats AVAILABLE now.',
    answers: { 200: jsonAnswer(ConcertListSchema, 'The concerts.') },
  }),

  route('get', '/performances/:id/seats', {
    operationId: 'getSeatMap',
    tag: 'Concerts',
    summary: 'Read the seat map of a performance',
    description: 'Seats by section and number with their status. A HELD seat whose hold has lapsed shows HELD until its saga releases it.',
    params: { path: idParams('The performance id.') },
    answers: { 200: jsonAnswer(SeatMapViewSchema, 'The seat map.') },
    problems: { 400: ['ValidationFailed'], 404: ['NotFound'] },
  }),
];
