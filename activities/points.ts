/**
 * Points bounded context: paying with, refunding and topping up a user's prepaid point
 * balance, kept as an append-only ledger (`point_ledger`) plus a balance row.
 *
 * Every movement locks the user's account row (`FOR UPDATE`) first, so payments of one
 * user are serialized and the balance can never go negative; the ledger's unique
 * (reference, kind) makes a retried payment or refund a lookup instead of a second movement.
 *
 * Points are also the POINTS payment method ({@link pointsMethod}, the Payments
 * context's strategy of activities/payments.ts): the saga's pay step and its refund record
 * the saga's payment row in the same transaction as their ledger movement.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { FailureType } from '../common/failures.ts';
import { PaymentMethod } from '../common/payments.ts';
import { authorizePayment, refundPayment, type PaymentMethodHandler } from './payments.ts';
import { businessFailure, inTransaction, sql } from './tx.ts';

/** Input of {@link payWithPoints}: charge `amountPoints` (integer >= 0) to `userId` for saga `sagaId`. */
export interface PayInput {
  userId: number;
  amountPoints: number;
  /** Workflow id of the paying saga: the ledger reference, unique per kind. */
  sagaId: string;
  /** `<sagaId>:pay`, stored under a unique constraint. */
  idempotencyKey: string;
}

/** Input of {@link refundPoints}: give back what saga `sagaId` paid, if anything. */
export interface RefundInput {
  userId: number;
  sagaId: string;
  /** `<sagaId>:refund`. */
  idempotencyKey: string;
}

/** A ledger movement and the balance after it, in points. */
export interface PointsResult {
  ledgerEntryId: number | null;
  amountPoints: number;
  balancePoints: number;
}

/** Input of {@link topUpPoints}: credit `amountPoints` (integer >= 1) once per `topUpId`. */
export interface TopUpPointsInput {
  topUpId: string;
  userId: number;
  amountPoints: number;
}

/** A ledger row as read (int8 columns are numbers: db/int8.ts). */
interface LedgerRow {
  id: number;
  kind: 'TOP_UP' | 'PAYMENT' | 'REFUND';
  amount_points: number;
}

/** Default cap of a balance, in points (config `POINTS_BALANCE_LIMIT`). */
export const DEFAULT_BALANCE_LIMIT_POINTS = 1_000_000_000;

/** Dependencies of the points activities. */
export interface PointsDeps {
  orm: Orm;
  /**
   * Largest balance a top-up may leave, in points (config `POINTS_BALANCE_LIMIT`);
   * default {@link DEFAULT_BALANCE_LIMIT_POINTS}.
   */
  balanceLimitPoints?: number | undefined;
}

/** Builds the points activities. */
export function createPointsActivities({ orm, balanceLimitPoints = DEFAULT_BALANCE_LIMIT_POINTS }: PointsDeps) {
  return {
    /**
     * Pays `amountPoints` from the user's balance: appends a PAYMENT ledger row and writes
     * the saga's payment PAID (method POINTS, `amountWon` = `amountPoints`), in one
     * transaction. Idempotent per saga: a retry returns the existing payment. Compensation:
     * {@link refundPoints}.
     *
     * @throws InsufficientPoints (non-retryable) when the balance is lower; nothing changes.
     * @throws UnknownUser (non-retryable) when the user has no point account.
     * @throws SagaAlreadyCompensated (non-retryable) when the saga already ran its refund.
     */
    async payWithPoints(input: PayInput): Promise<PointsResult> {
      const charge = { sagaId: input.sagaId, userId: input.userId, amountWon: input.amountPoints, idempotencyKey: input.idempotencyKey };
      return inTransaction(orm, (em) => authorizePayment(em, pointsMethod, charge));
    },

    /**
     * Compensation of {@link payWithPoints}: credits back what the saga paid, appends a
     * REFUND row and marks the saga's payment REFUNDED, in one transaction. Idempotent and
     * a no-op when nothing was paid; in that case it writes a 0-point REFUND tombstone so a
     * late payment attempt of the saga is refused, and no payment row.
     *
     * Never refused by the balance cap: giving money back must complete, even when top-ups
     * since the payment filled the balance up to the cap (it may then end above it, by at
     * most what was paid). Balances are 64-bit, so a refund cannot overflow one either.
     */
    async refundPoints(input: RefundInput): Promise<PointsResult> {
      return inTransaction(orm, (em) => refundPayment(em, pointsMethod, input));
    },

    /**
     * Credits `amountPoints` to the user once per `topUpId` (TOP_UP ledger row with
     * reference `points-top-up-<topUpId>`). A retry returns the first result.
     *
     * The cap is checked here, under the account's row lock, because concurrent top-ups
     * race: the API's early check cannot see the others.
     *
     * @throws UnknownUser (non-retryable) when the user has no point account.
     * @throws BalanceLimitExceeded (non-retryable) when the balance would exceed
     *   `balanceLimitPoints`; nothing changes.
     */
    async topUpPoints(input: TopUpPointsInput): Promise<PointsResult> {
      const reference = `points-top-up-${input.topUpId}`;
      return inTransaction(orm, async (em) => {
        const balance = await lockAccount(em, input.userId);
        const done = (await movementsOf(em, reference)).find((m) => m.kind === 'TOP_UP');
        if (done) return recorded(done, balance);
        if (balance + input.amountPoints > balanceLimitPoints) {
          throw businessFailure(
            FailureType.BalanceLimitExceeded,
            `A top-up of ${input.amountPoints} points would take the balance of ${balance} points above the cap of ${balanceLimitPoints}`,
            { userId: input.userId, balancePoints: balance, amountPoints: input.amountPoints, balanceLimitPoints },
          );
        }
        return appendMovement(em, input.userId, 'TOP_UP', input.amountPoints, reference, reference);
      });
    },
  };
}

/**
 * The POINTS payment method: authorize debits the balance (a PAYMENT ledger row, final at
 * once), capture has nothing left to do, refund credits back what was paid (a REFUND row;
 * 0 points, a tombstone, when nothing was). 1 point pays 1 won. Each step locks the
 * account row first and is a lookup when its ledger row exists.
 */
export const pointsMethod: PaymentMethodHandler<PointsResult, PointsResult> = {
  method: PaymentMethod.Points,

  async authorize(em, charge) {
    const balance = await lockAccount(em, charge.userId);
    const movements = await movementsOf(em, charge.sagaId);
    const paid = movements.find((m) => m.kind === 'PAYMENT');
    if (paid) return outcome(recorded(paid, balance));
    const refunded = movements.some((m) => m.kind === 'REFUND');
    // A re-run after the saga compensated (a worker lost the first outcome) still reports
    // the business reason when it holds, so the order keeps its true cancellation reason.
    if (refunded && balance >= charge.amountWon) {
      throw businessFailure(FailureType.SagaAlreadyCompensated, `Saga ${charge.sagaId} was already refunded`, {
        sagaId: charge.sagaId,
      });
    }
    if (refunded || balance < charge.amountWon) {
      throw businessFailure(
        FailureType.InsufficientPoints,
        `Balance ${balance} points is below the ${charge.amountWon} points to pay`,
        { userId: charge.userId, balancePoints: balance, requiredPoints: charge.amountWon },
      );
    }
    return outcome(await appendMovement(em, charge.userId, 'PAYMENT', charge.amountWon, charge.sagaId, charge.idempotencyKey));
  },

  async capture() {
    // A ledger debit is final when it commits: nothing is left to capture at the pivot.
  },

  async refund(em, refund) {
    const balance = await lockAccount(em, refund.userId);
    const movements = await movementsOf(em, refund.sagaId);
    const refunded = movements.find((m) => m.kind === 'REFUND');
    if (refunded) return outcome(recorded(refunded, balance));
    const paid = movements.find((m) => m.kind === 'PAYMENT');
    return outcome(await appendMovement(em, refund.userId, 'REFUND', paid?.amount_points ?? 0, refund.sagaId, refund.idempotencyKey));
  },
};

/** A points movement as a method outcome: the points moved are the won paid or refunded. */
function outcome(result: PointsResult): { amountWon: number; result: PointsResult } {
  return { amountWon: result.amountPoints, result };
}

async function lockAccount(em: EntityManager, userId: number): Promise<number> {
  const rows = await sql<{ balance_points: number }>(
    em,
    'select balance_points from point_accounts where user_id = ? for update',
    [userId],
  );
  const row = rows[0];
  if (!row) throw businessFailure(FailureType.UnknownUser, `User ${userId} has no point account`, { userId });
  return row.balance_points;
}

/** The result of a movement already in the ledger (a retried activity). */
function recorded(row: LedgerRow, balancePoints: number): PointsResult {
  return { ledgerEntryId: row.id, amountPoints: row.amount_points, balancePoints };
}

function movementsOf(em: EntityManager, reference: string): Promise<LedgerRow[]> {
  return sql<LedgerRow>(em, 'select id, kind, amount_points from point_ledger where reference = ?', [reference]);
}

async function appendMovement(
  em: EntityManager,
  userId: number,
  kind: LedgerRow['kind'],
  amountPoints: number,
  reference: string,
  idempotencyKey: string,
): Promise<PointsResult> {
  const delta = kind === 'PAYMENT' ? -amountPoints : amountPoints;
  // Balance and ledger row in one statement: both or neither.
  const [entry] = await sql<{ id: number; balance_points: number }>(
    em,
    `with account as (
       update point_accounts set balance_points = balance_points + ?, updated_at = now() where user_id = ? returning balance_points
     )
     insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
     values (?, ?, ?, ?, ?, now()) returning id, (select balance_points from account) as balance_points`,
    [delta, userId, userId, kind, amountPoints, reference, idempotencyKey],
  );
  return { ledgerEntryId: entry!.id, amountPoints, balancePoints: entry!.balance_points };
}
