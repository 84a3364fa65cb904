/** Zod building blocks shared by the route schemas. */
import { z } from 'zod';

/** Largest id of a user or product: ids are positive 32-bit integers. */
export const MAX_INT32 = 2_147_483_647;

/** A user or product id in a JSON body: an integer 1..2^31-1. */
export const entityId = z.number().int().min(1).max(MAX_INT32);

/** A user or product id in a path: decimal digits, no sign or leading zero, 1..2^31-1. */
export const entityIdParam = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer')
  .transform(Number)
  .pipe(z.number().max(MAX_INT32, 'must be at most 2147483647'));

/** Path parameters `{ id }` of a user or product route. */
export const EntityIdParams = z.object({ id: entityIdParam });

/**
 * A `superRefine` check that the items of the array `name` are distinct by `key`: each
 * repeat is an issue at its index (and `field`, when the key is an item's field), saying
 * which earlier item it repeats, e.g. "duplicate of items.0.productId".
 */
export function distinctBy<Item>(name: string, key: (item: Item) => unknown, field?: string) {
  return (items: Item[], ctx: z.RefinementCtx<Item[]>): void => {
    const firstIndex = new Map<unknown, number>();
    items.forEach((item, index) => {
      const first = firstIndex.get(key(item));
      if (first === undefined) firstIndex.set(key(item), index);
      else {
        const path = field === undefined ? [index] : [index, field];
        ctx.addIssue({ code: 'custom', path, message: `duplicate of ${[name, first, field].filter((p) => p !== undefined).join('.')}` });
      }
    });
  };
}
