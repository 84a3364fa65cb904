/**
 * Payments bounded context: one payment per saga (`payments`, unique `saga_id`), its
 * method and its status PAID -> REFUNDED.
 *
 * The money itself moves through a method, behind the {@link PaymentMethodHandler}
 * strategy: authorize (take the money, or reserve it at a gateway), capture (make it final
 * at the pivot) and refund (give it back, the compensation). POINTS is the one method
 * today (activities/points.ts: the ledger debit is final at once, so its capture does
 * nothing). {@link authorizePayment} and {@link refundPayment} run a method's step and
 * record the payment in the caller's transaction, so the payment row and the money move
 * commit together or not at all. A card method behind an external gateway is another
 * handler; the sagas keep their pay step and its refund (docs/architecture.md, Payments).
 *
 * Idempotent as the steps around them: the row is keyed by the saga's workflow id, a
 * retried pay finds it (`on conflict do nothing`), a retried refund finds it REFUNDED and
 * changes nothing, and a refund of a saga that paid nothing writes no row.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PaymentMethod } from '../common/payments.ts';
import { sql } from './tx.ts';

/** What the pay step charges: `amountWon` (integer >= 0) to `userId` for saga `sagaId`. */
export interface PaymentCharge {
  /** Workflow id of the paying saga: the payment's key. */
  sagaId: string;
  userId: number;
  amountWon: number;
  /** `<sagaId>:pay`: what a method hands its gateway as the idempotency key. */
  idempotencyKey: string;
}

/** What the refund gives back: whatever saga `sagaId` paid, if anything. */
export interface PaymentRefund {
  sagaId: string;
  userId: number;
  /** `<sagaId>:refund`. */
  idempotencyKey: string;
}

/** A method step's outcome: `amountWon` moved (0 for a refund of nothing) and the method's own result. */
export interface MethodOutcome<R> {
  amountWon: number;
  result: R;
}

/**
 * How one payment method moves money, each step in the caller's transaction `em` and
 * idempotent per saga (a retry returns the first outcome). `Paid` and `Refunded` are what
 * the saga's activities return for this method (unchanged for recorded histories).
 */
export interface PaymentMethodHandler<Paid, Refunded> {
  readonly method: PaymentMethod;
  /**
   * Takes (or, at a gateway, authorizes) `charge.amountWon`.
   * @throws a business failure (non-retryable, common/failures.ts) when the method refuses it; nothing is taken.
   */
  authorize(em: EntityManager, charge: PaymentCharge): Promise<MethodOutcome<Paid>>;
  /**
   * Makes an authorized payment final (at the pivot); a no-op for a method that takes money
   * at once. Not called yet: POINTS has nothing to capture, and a card's capture step after
   * the pivot would call it (docs/architecture.md, Payments).
   */
  capture(em: EntityManager, sagaId: string): Promise<void>;
  /** Gives back what the saga paid (a void before capture, a refund after); `amountWon` 0 when nothing was taken. */
  refund(em: EntityManager, refund: PaymentRefund): Promise<MethodOutcome<Refunded>>;
}

/**
 * The pay step: runs `handler.authorize` and records the saga's payment PAID with the
 * amount it took, in `em`'s transaction. A retry returns the method's first outcome and
 * leaves the existing row as it is.
 *
 * @returns the method's result, as the saga's pay activity returns it.
 * @throws what `handler.authorize` throws; then no payment row is written.
 */
export async function authorizePayment<Paid, Refunded>(
  em: EntityManager,
  handler: PaymentMethodHandler<Paid, Refunded>,
  charge: PaymentCharge,
): Promise<Paid> {
  const outcome = await handler.authorize(em, charge);
  await insertPayment(em, charge, handler.method, outcome.amountWon);
  return outcome.result;
}

/**
 * The refund (the pay step's compensation): runs `handler.refund` and marks the saga's
 * payment REFUNDED, in `em`'s transaction. A saga that paid nothing has no payment row and
 * gets none; a retry finds the row REFUNDED already and changes nothing.
 *
 * @returns the method's result, as the saga's refund activity returns it.
 */
export async function refundPayment<Paid, Refunded>(
  em: EntityManager,
  handler: PaymentMethodHandler<Paid, Refunded>,
  refund: PaymentRefund,
): Promise<Refunded> {
  const outcome = await handler.refund(em, refund);
  await markRefunded(em, refund.sagaId);
  return outcome.result;
}

async function insertPayment(em: EntityManager, charge: PaymentCharge, method: PaymentMethod, amountWon: number): Promise<void> {
  // The unique saga_id makes a retried pay (or one that raced its twin) a no-op.
  await sql(
    em,
    `insert into payments (saga_id, user_id, amount_won, method, status, created_at, updated_at, refunded_at)
     values (?, ?, ?, ?, 'PAID', now(), now(), null)
     on conflict (saga_id) do nothing`,
    [charge.sagaId, charge.userId, amountWon, method],
  );
}

async function markRefunded(em: EntityManager, sagaId: string): Promise<void> {
  await sql(
    em,
    `update payments set status = 'REFUNDED', refunded_at = now(), updated_at = now()
     where saga_id = ? and status = 'PAID'`,
    [sagaId],
  );
}
