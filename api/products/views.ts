/** The Inventory read model (the catalog, a page at a time, and one product) and the Ranking read model (popular products). */
import { Product } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import { readPopularProducts } from '../../db/ranking.ts';
import { toPage } from '../pagination.ts';
import { productCursor, type PopularProducts, type ProductPage, type ProductView } from './schemas.ts';

function toView(p: { id: number; sku: string; name: string; priceWon: number; stock: number }): ProductView {
  return { id: p.id, sku: p.sku, name: p.name, priceWon: p.priceWon, stock: p.stock };
}

/** A page of the catalog by id ascending, starting after product `afterId` when given. */
export async function listProducts(orm: Orm, limit: number, afterId: number | undefined): Promise<ProductPage> {
  // One more than the page: whether it exists decides `next`.
  const products = await orm.em
    .fork()
    .find(Product, afterId === undefined ? {} : { id: { $gt: afterId } }, { orderBy: { id: 'asc' }, limit: limit + 1 });
  return toPage(products, { limit, path: '/products', codec: productCursor, keyOf: (p) => ({ id: p.id }), item: toView });
}

/** Product `id`, or null when there is none. */
export async function findProductView(orm: Orm, id: number): Promise<ProductView | null> {
  const product = await orm.em.fork().findOne(Product, { id });
  return product ? toView(product) : null;
}

/**
 * The `limit` most sold products over the last `days` UTC days (db/ranking.ts
 * `readPopularProducts`), with the window as answered by `GET /products/popular`.
 */
export async function popularProducts(orm: Orm, days: number, limit: number): Promise<PopularProducts> {
  const { since, products } = await readPopularProducts(orm, days, limit);
  return { days, limit, since, products };
}
