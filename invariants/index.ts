/**
 * The invariants of docs/architecture.md ("Invariants and the checker"), checked against the
 * database in one REPEATABLE READ, read-only transaction, so every check sees the same
 * snapshot. Each activity is one local transaction, so every invariant except data-platform
 * delivery holds at any committed snapshot, even while sagas are running; delivery holds
 * once the sagas have finished (or, with `allowInFlight`, reports the ones still sending).
 *
 * Used by tests (scoped to their own rows, since other suites share the database) and by
 * `npm run check:invariants` (everything). One module per group of checks: stock.ts,
 * points.ts, payments.ts, sagas.ts, seats.ts, coupons.ts, queue.ts, orphans.ts, data-platform.ts, ranking.ts; scope.ts
 * resolves a scope.
 */
import type { Orm } from '../db/orm.ts';
import { dataPlatformDelivery } from './data-platform.ts';
import { paymentsMatchLedger } from './payments.ts';
import { paymentsBelongToLiveOrConfirmedSagas, pointConservation } from './points.ts';
import { closedSagasHaveNoEffects, confirmedSagasAreComplete } from './sagas.ts';
import { pendingSagasHaveLiveWorkflows } from './orphans.ts';
import { couponRedemptionsMatchCoupons, couponsWithinCampaignQuantity, reservedCouponsBelongToPendingOrders, usedCouponsBelongToConfirmedOrders } from './coupons.ts';
import { queueChecks } from './queue.ts';
import { rankingChecks } from './ranking.ts';
import { resolveScope } from './scope.ts';
import { seatsHaveOneLiveHolder } from './seats.ts';
import { stockConservation, stockLinesMatchOrders } from './stock.ts';
import type { InvariantOptions, InvariantReport } from './types.ts';

export { formatInvariantReport } from './report.ts';
export {
  CHECK_NAMES,
  QUEUE_CHECK_NAMES,
  type CheckName,
  type CheckResult,
  type InvariantIds,
  type InvariantNote,
  type InvariantOptions,
  type InvariantReport,
  type InvariantScope,
  type QueueCheckOptions,
  type ReceivedEventLike,
  type Violation,
} from './types.ts';

/**
 * Checks every invariant in one consistent snapshot (REPEATABLE READ, read only) and
 * returns each check's violations; writes nothing.
 *
 * A defect can show in two checks (a payment left on a CANCELLED order breaks both
 * `payments-belong-to-live-or-confirmed-sagas` and `closed-sagas-have-no-effects`): each
 * check is complete for its own rule.
 *
 * @param orm an open ORM; the check forks its own EntityManager.
 * @param options scope, data-platform events, in-flight tolerance and the queue's limit; see {@link InvariantOptions}.
 * @returns the checks in `CHECK_NAMES` order and whether all passed.
 */
export async function checkInvariants(orm: Orm, options: InvariantOptions = {}): Promise<InvariantReport> {
  const checks = await orm.em.fork().transactional(
    async (em) => {
      const scope = options.scope ? await resolveScope(em, options.scope) : undefined;
      return [
        await stockConservation(em, scope),
        await stockLinesMatchOrders(em, scope),
        await pointConservation(em, scope),
        await paymentsBelongToLiveOrConfirmedSagas(em, scope),
        await paymentsMatchLedger(em, scope),
        await closedSagasHaveNoEffects(em, scope),
        await confirmedSagasAreComplete(em, scope),
        await seatsHaveOneLiveHolder(em, scope),
        await couponsWithinCampaignQuantity(em, scope),
        await usedCouponsBelongToConfirmedOrders(em, scope),
        await reservedCouponsBelongToPendingOrders(em, scope),
        await couponRedemptionsMatchCoupons(em, scope),
        ...(await queueChecks(em, scope, options)),
        await pendingSagasHaveLiveWorkflows(em, scope, options),
        await dataPlatformDelivery(em, scope, options),
        ...(await rankingChecks(em, scope)),
      ];
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  return { checks, ok: checks.every((c) => c.passed) };
}
