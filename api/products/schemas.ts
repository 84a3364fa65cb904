/**
 * Request and response schemas of the product routes (`GET /products`,
 * `GET /products/popular`, `GET /products/:id`); the body types are inferred from them.
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

/** Window of `GET /products/popular` when `days` is not given, in days. */
export const DEFAULT_POPULAR_DAYS = 3;
/** Longest window of `GET /products/popular`, in days. */
export const MAX_POPULAR_DAYS = 30;
/** Products answered by `GET /products/popular` when `limit` is not given. */
export const DEFAULT_POPULAR_LIMIT = 5;
/** Most products `GET /products/popular` answers. */
export const MAX_POPULAR_LIMIT = 50;

/**
 * A query parameter that is an integer `1..max` spelled in decimal without sign or leading
 * zero, `fallback` when absent; the document shows it as such an integer.
 */
function boundedIntParam(max: number, fallback: number, description: string) {
  const message = `must be an integer from 1 to ${max}`;
  return z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/, message)
    .transform(Number)
    .pipe(z.number().max(max, message))
    .optional()
    .default(fallback)
    .meta({
      description,
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        Object.assign(jsonSchema, { type: 'integer', minimum: 1, maximum: max, default: fallback });
      },
    });
}

/** Query of `GET /products/popular`: `days` 1..30 (default 3) and `limit` 1..50 (default 5); nothing else. */
export const PopularProductsQuery = z.strictObject({
  days: boundedIntParam(MAX_POPULAR_DAYS, DEFAULT_POPULAR_DAYS, `The window: the last \`days\` UTC days, today included, 1..${MAX_POPULAR_DAYS} (default ${DEFAULT_POPULAR_DAYS}).`),
  limit: boundedIntParam(MAX_POPULAR_LIMIT, DEFAULT_POPULAR_LIMIT, `Most products answered, 1..${MAX_POPULAR_LIMIT} (default ${DEFAULT_POPULAR_LIMIT}).`),
});

/** A product of the ranking: units sold and revenue in won over the window. */
export const PopularProductSchema = z
  .object({
    productId: entityId,
    name: z.string(),
    units: z.number().int().nonnegative().meta({ description: 'Units sold in CONFIRMED orders over the window.' }),
    revenueWon: z.number().int().nonnegative().meta({ description: 'Those units at their order-time unit prices, in won, before coupon discounts.' }),
  })
  .meta({ id: 'PopularProduct', description: 'A product of the ranking, with its units sold and revenue over the window.' });

/** Body of `GET /products/popular`. */
export const PopularProductsSchema = z
  .object({
    days: z.number().int().min(1).max(MAX_POPULAR_DAYS).meta({ description: 'The window, in days, as asked (or the default).' }),
    limit: z.number().int().min(1).max(MAX_POPULAR_LIMIT).meta({ description: 'Most products answered, as asked (or the default).' }),
    since: z.string().regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, 'must be a date YYYY-MM-DD').meta({ description: 'First UTC day of the window (today less `days - 1`), `YYYY-MM-DD`.' }),
    products: z.array(PopularProductSchema).meta({
      description: 'At most `limit` products by units sold desc, then revenue desc, then product id; only products sold in the window.',
    }),
  })
  .meta({
    id: 'PopularProducts',
    description: 'The most sold products over the last `days` days, from confirmed orders (a read model fed by the order events, so a just-confirmed order may show a moment later).',
  });

/** Body of `GET /products/popular`. */
export type PopularProducts = z.output<typeof PopularProductsSchema>;
