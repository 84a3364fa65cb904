/**
 * All activities of the worker, built from their dependencies. The worker is the one
 * place that calls this; workflows only see {@link Activities} as a type. One factory per
 * bounded context, each on its own tables, plus the pivots of both sagas (pivots.ts), the
 * one place where a transaction spans contexts, and the reconciliation's reads
 * (reconciliation.ts), which span contexts and write nothing.
 */
import type { Orm } from '../db/orm.ts';
import { createCouponActivities } from './coupons.ts';
import { createDataPlatformActivities, type DataPlatformClient } from './data-platform.ts';
import { createInventoryActivities } from './inventory.ts';
import { createOrderActivities } from './orders.ts';
import { createPivotActivities } from './pivots.ts';
import { createPointsActivities } from './points.ts';
import { createReconciliationActivities, type WorkflowStateLookup } from './reconciliation.ts';
import { createSeatActivities, type HoldLimits } from './seats.ts';

/** What the activities need: the ORM, the data platform client, the money limits (config `limits`) and the hold caps (config `holdLimits`). */
export interface ActivityDeps {
  orm: Orm;
  dataPlatform: DataPlatformClient;
  /** Cap of a balance, in points (points.ts; default 1,000,000,000). */
  balanceLimitPoints?: number | undefined;
  /** Largest total of one order, in won (orders.ts; default 1,000,000,000). */
  orderTotalLimitWon?: number | undefined;
  /** Per-user caps on live seat holds and held seats (seats.ts; default 4 holds, 8 seats). */
  holdLimits?: HoldLimits | undefined;
  /** How the reconciliation asks Temporal about workflows (reconciliation.ts); default: the worker's client. */
  workflowStates?: WorkflowStateLookup;
}

/** Builds every activity of every bounded context. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderActivities(deps),
    ...createInventoryActivities(deps),
    ...createCouponActivities(deps),
    ...createPointsActivities(deps),
    ...createSeatActivities(deps),
    ...createPivotActivities(deps),
    ...createDataPlatformActivities(deps),
    ...createReconciliationActivities(deps),
  };
}

/** The activity functions by name, as `proxyActivities` sees them. */
export type Activities = ReturnType<typeof createActivities>;
