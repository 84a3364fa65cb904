/**
 * The Payments contract: one payment per saga (order or reservation), its method, its
 * status and how the API shows it. Workflow-safe: constants and types only.
 */

/**
 * How a payment moves money. `POINTS`: the user's prepaid point balance (1 point pays
 * 1 won), debited by the pay step and credited back by its refund. A card behind an
 * external gateway would be a second member here and a second implementation of the
 * `PaymentMethodHandler` strategy (activities/payments.ts); the sagas do not change.
 */
export const PaymentMethod = {
  Points: 'POINTS',
} as const;

/** One of {@link PaymentMethod}: the `payments.method` column. */
export type PaymentMethod = (typeof PaymentMethod)[keyof typeof PaymentMethod];

/** Every payment method, in the order of the `payments_method_check` constraint. */
export const PAYMENT_METHODS = [PaymentMethod.Points] as const satisfies readonly PaymentMethod[];

/**
 * Status of a payment: PAID once the pay step took the money (the ledger debit, in the
 * same transaction), REFUNDED once the saga's compensation gave it back. There is no
 * other transition: a refused or never-made payment has no row at all.
 */
export const PAYMENT_STATUSES = ['PAID', 'REFUNDED'] as const;

/** One of {@link PAYMENT_STATUSES}. */
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * A saga's payment as `GET /orders/:id` and `GET /reservations/:id` show it (member
 * `payment`, null when the saga has paid nothing). `amountWon` is what the pay step
 * charged (an order's total after its discount); instants are ISO 8601 UTC.
 */
export interface PaymentView {
  method: PaymentMethod;
  status: PaymentStatus;
  amountWon: number;
  /** When the pay step took the money. */
  paidAt: string;
  /** When the refund gave it back; null while PAID. */
  refundedAt: string | null;
}
