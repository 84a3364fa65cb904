/**
 * Product routes (Inventory read model).
 *
 * - `GET /products?limit=&offset=`: 200 `{ products: ProductView[] }` ordered by id;
 *   `limit` 1..500 (default 100), `offset` >= 0 (default 0); 400 `ValidationFailed` otherwise.
 * - `GET /products/:id`: 200 {@link ProductView}; 400 for an id that is not a positive
 *   32-bit integer; 404 `NotFound`.
 */
import { z } from 'zod';
import { Product } from '../../db/entities/index.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { EntityIdParams, MAX_INT32 } from '../validation.ts';

/** A product: unit price in won, `stock` in units available now. */
export interface ProductView {
  id: number;
  sku: string;
  name: string;
  priceWon: number;
  stock: number;
}

/** Query of `GET /products`. */
export const ListProductsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(MAX_INT32).default(0),
});

function toView(p: { id: number; sku: string; name: string; priceWon: number; stock: number }): ProductView {
  return { id: p.id, sku: p.sku, name: p.name, priceWon: p.priceWon, stock: p.stock };
}

/** Registers `GET /products` and `GET /products/:id`. */
export function registerProductRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, { products: ProductView[] }>('/products', async (ctx) => {
    const { limit, offset } = ListProductsQuery.parse(ctx.query);
    const products = await deps.orm.em.fork().find(Product, {}, { orderBy: { id: 'asc' }, limit, offset });
    ctx.body = { products: products.map(toView) };
  });

  router.get<object, object, ProductView>('/products/:id', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const product = await deps.orm.em.fork().findOne(Product, { id });
    if (!product) throw notFound(`product ${id}`);
    ctx.body = toView(product);
  });
}
