/**
 * All activities of the worker, built from their dependencies. The worker is the one
 * place that calls this; workflows only see {@link Activities} as a type. One factory per
 * bounded context, each on its own tables, plus the pivots of both sagas (pivots.ts), the
 * one place where a transaction spans contexts.
 */
import type { Orm } from '../db/orm.ts';
import { createDataPlatformActivities, type DataPlatformClient } from './data-platform.ts';
import { createInventoryActivities } from './inventory.ts';
import { createOrderActivities } from './orders.ts';
import { createPivotActivities } from './pivots.ts';
import { createPointsActivities } from './points.ts';
import { createSeatActivities } from './seats.ts';

/** What the activities need: the ORM and the data platform client. */
export interface ActivityDeps {
  orm: Orm;
  dataPlatform: DataPlatformClient;
}

/** Builds every activity of every bounded context. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderActivities(deps),
    ...createInventoryActivities(deps),
    ...createPointsActivities(deps),
    ...createSeatActivities(deps),
    ...createPivotActivities(deps),
    ...createDataPlatformActivities(deps),
  };
}

/** The activity functions by name, as `proxyActivities` sees them. */
export type Activities = ReturnType<typeof createActivities>;
