/**
 * Request and response schemas of the product routes (`GET /products`,
 * `GET /products/:id`); the body types are inferred from them.
 */
import { z } from 'zod';
import { cursorCodec, pageQuery, pageSchema } from '../pagination.ts';
import { entityId } from '../validation.ts';

/** A product: unit price in won, `stock` in units available now. */
export const ProductViewSchema = z
  .object({
    id: entityId,
    sku: z.string().meta({ description: 'Stock keeping unit, unique.' }),
    name: z.string(),
    priceWon: z.number().int().nonnegative().meta({ description: 'Unit price, in won.' }),
    stock: z.number().int().nonnegative().meta({ description: 'Units available to order now.' }),
  })
  .meta({ id: 'Product', description: 'A product of the catalog, with its unit price in won and the units in stock.' });

/** A product as the API shows it. */
export type ProductView = z.output<typeof ProductViewSchema>;

/** Cursor of `GET /products`: the id of the last product shown (the list is by id ascending). */
export const productCursor = cursorCodec('products', z.strictObject({ id: entityId }));

/** Query of `GET /products`: `limit` and `cursor` (api/pagination.ts). */
export const ListProductsQuery = pageQuery(productCursor);

/** Body of `GET /products`: a page of products by id ascending. */
export const ProductPageSchema = pageSchema(ProductViewSchema, {
  id: 'ProductPage',
  description: 'A page of the catalog, by product id ascending.',
});

/** Body of `GET /products`. */
export type ProductPage = z.output<typeof ProductPageSchema>;
