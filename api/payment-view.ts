/**
 * A saga's payment as the order and reservation views show it (member `payment`): its
 * schema, for both views and the OpenAPI document, and its read from the Payments
 * context's `payments` table.
 */
import { z } from 'zod';
import { PAYMENT_METHODS, PAYMENT_STATUSES, type PaymentView } from '../common/payments.ts';
import type { Orm } from '../db/orm.ts';
import { Instant } from './schemas.ts';

/** The `payment` member of an order or reservation: the saga's payment, or null when it paid nothing. */
export const PaymentViewSchema = z
  .object({
    method: z.enum(PAYMENT_METHODS).meta({ description: 'How it was paid: `POINTS`, the prepaid point balance (1 point pays 1 won).' }),
    status: z.enum(PAYMENT_STATUSES).meta({ description: 'PAID: the money was taken; REFUNDED: the saga was undone and gave it back.' }),
    amountWon: z.number().int().nonnegative().meta({ description: 'What the pay step charged, in won (an order\'s total after its discount).' }),
    paidAt: Instant.meta({ description: 'When the money was taken.' }),
    refundedAt: Instant.nullable().meta({ description: 'When it was given back; null while PAID.' }),
  })
  .meta({ id: 'Payment', description: 'The payment of an order or reservation: method, status, amount in won and when it was paid and refunded.' });

/** `to_char` format of a UTC timestamp as `Date#toISOString` writes it (milliseconds, `Z`). */
const ISO_8601_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The payment of saga `sagaId` (an order's or reservation's workflow id), as shown in its
 * view, or null when the saga has paid nothing (no payment row).
 */
export async function findPaymentView(orm: Orm, sagaId: string): Promise<PaymentView | null> {
  const [row] = await orm.em.fork().execute<PaymentView[]>(
    `select method, status, amount_won as "amountWon",
            to_char(created_at at time zone 'UTC', ${ISO_8601_UTC}) as "paidAt",
            to_char(refunded_at at time zone 'UTC', ${ISO_8601_UTC}) as "refundedAt"
     from payments where saga_id = ?`,
    [sagaId] as never[],
    'all',
  );
  return row ?? null;
}
