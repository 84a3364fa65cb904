/**
 * An order's pricing as the read model shows it (the order view, the list summary): the
 * subtotal, the coupon's discount, the total charged and the coupon, in won. Read from
 * `orders` and, for an order whose saga has not reached its pivot, from the order's
 * redemption in `coupon_redemptions`:
 * - CONFIRMED: the columns the pivot wrote (`subtotal_won`, `discount_won`, `coupon_id`,
 *   `total_won`); an order confirmed before coupons existed has no `subtotal_won`: its
 *   subtotal is its total, discount 0;
 * - PENDING with a RESERVED coupon: the redemption's discount off createOrder's total;
 * - otherwise (no coupon yet, or CANCELLED: nothing was charged, nothing discounted):
 *   discount 0, total = subtotal; `couponId` still names the coupon the order asked for
 *   when its saga got to the coupon step.
 */

/**
 * SQL select-list items of the pricing of order alias `o` with its redemption left-joined
 * as `r` (see {@link REDEMPTION_JOIN}): `subtotal_won`, `discount_won`, `total_won`, `coupon_id`.
 */
export const PRICING_COLUMNS = `coalesce(o.subtotal_won, o.total_won) as subtotal_won,
            case when o.status = 'PENDING' and r.status = 'RESERVED' then r.discount_won else o.discount_won end as discount_won,
            case when o.status = 'PENDING' and r.status = 'RESERVED' then o.total_won - r.discount_won else o.total_won end as total_won,
            coalesce(o.coupon_id, r.coupon_id) as coupon_id`;

/** The join {@link PRICING_COLUMNS} reads: the redemption of order `o` (primary key order_id), if any. */
export const REDEMPTION_JOIN = 'left join coupon_redemptions r on r.order_id = o.id';

/** The pricing columns of a row (int8 columns are numbers: db/int8.ts). */
export interface PricingRow {
  subtotal_won: number;
  discount_won: number;
  total_won: number;
  coupon_id: number | null;
}

/** The pricing members of an order view or summary, from a row of {@link PRICING_COLUMNS}. */
export function pricingOf(row: PricingRow): { subtotalWon: number; discountWon: number; totalWon: number; couponId: number | null } {
  return { subtotalWon: row.subtotal_won, discountWon: row.discount_won, totalWon: row.total_won, couponId: row.coupon_id };
}
