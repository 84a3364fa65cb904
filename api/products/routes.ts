/**
 * Product routes (Inventory read model).
 *
 * - `GET /products?limit=&cursor=`: 200 {@link ProductPage}, the catalog by id ascending,
 *   paged as every list is (api/pagination.ts: `limit` 1..100, default 20; `next` link);
 *   400 `ValidationFailed` for a bad limit or cursor or an unknown query parameter.
 * - `GET /products/:id`: 200 {@link ProductView}; 400 for an id that is not a positive
 *   32-bit integer; 404 `NotFound`.
 */
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { EntityIdParams } from '../validation.ts';
import { ListProductsQuery, PopularProductsQuery, type PopularProducts, type ProductPage, type ProductView } from './schemas.ts';
import { findProductView, listProducts, popularProducts } from './views.ts';

/** Registers `GET /products`, `GET /products/popular` and `GET /products/:id` (popular first: `:id` would match it). */
export function registerProductRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, ProductPage>('/products', async (ctx) => {
    const { limit, cursor } = ListProductsQuery.parse(ctx.query);
    ctx.body = await listProducts(deps.orm, limit, cursor?.id);
  });

  router.get<object, object, PopularProducts>('/products/popular', async (ctx) => {
    const { days, limit } = PopularProductsQuery.parse(ctx.query);
    ctx.body = await popularProducts(deps.orm, days, limit);
  });

  router.get<object, object, ProductView>('/products/:id', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const view = await findProductView(deps.orm, id);
    if (!view) throw notFound(`product ${id}`);
    ctx.body = view;
  });
}
