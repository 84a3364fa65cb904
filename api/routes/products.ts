/**
 * Product routes (Inventory read model).
 *
 * - `GET /products?limit=&cursor=`: 200 {@link ProductPage}, the catalog by id ascending,
 *   paged as every list is (api/pagination.ts: `limit` 1..100, default 20; `next` link);
 *   400 `ValidationFailed` for a bad limit or cursor or an unknown query parameter.
 * - `GET /products/:id`: 200 {@link ProductView}; 400 for an id that is not a positive
 *   32-bit integer; 404 `NotFound`.
 */
import { Product } from '../../db/entities/index.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { toPage } from '../pagination.ts';
import { ListProductsQuery, productCursor, type ProductPage, type ProductView } from '../products/schemas.ts';
import { EntityIdParams } from '../validation.ts';

function toView(p: { id: number; sku: string; name: string; priceWon: number; stock: number }): ProductView {
  return { id: p.id, sku: p.sku, name: p.name, priceWon: p.priceWon, stock: p.stock };
}

/** Registers `GET /products` and `GET /products/:id`. */
export function registerProductRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, ProductPage>('/products', async (ctx) => {
    const { limit, cursor } = ListProductsQuery.parse(ctx.query);
    // One more than the page: whether it exists decides `next`.
    const products = await deps.orm.em
      .fork()
      .find(Product, cursor ? { id: { $gt: cursor.id } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
    ctx.body = toPage(products, { limit, path: '/products', codec: productCursor, keyOf: (p) => ({ id: p.id }), item: toView });
  });

  router.get<object, object, ProductView>('/products/:id', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const product = await deps.orm.em.fork().findOne(Product, { id });
    if (!product) throw notFound(`product ${id}`);
    ctx.body = toView(product);
  });
}
