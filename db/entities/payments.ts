/** Payments bounded context: one payment per saga. */
import { defineEntity, p } from '@mikro-orm/core';
import { PAYMENT_METHODS, PAYMENT_STATUSES } from '../../common/payments.ts';

/**
 * The payment of one saga (`sagaId`: the order's or reservation's workflow id, unique),
 * made by user `userId`. `amountWon` is what the pay step charged, in won (a `bigint`
 * column, read as an exact number: db/int8.ts); `method` says how (POINTS today).
 * Written PAID by the pay step in the same transaction as its point-ledger debit, and
 * marked REFUNDED (with `refundedAt`) by the refund in the same transaction as the credit
 * (activities/payments.ts). A saga that paid nothing has no row.
 */
export const Payment = defineEntity({
  name: 'Payment',
  tableName: 'payments',
  checks: [{ name: 'payments_amount_non_negative', expression: 'amount_won >= 0' }],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    sagaId: p.string().length(200).unique(),
    userId: p.integer(),
    amountWon: p.bigint('number'),
    method: p.enum([...PAYMENT_METHODS]),
    status: p.enum([...PAYMENT_STATUSES]),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
    refundedAt: p.datetime().nullable(),
  },
});
