/** Paths of the bench-only servers' order routes. */

/** The single-transaction baseline (scripts/bench/baseline-server.ts). */
export const BASELINE_ORDERS_PATH = '/baseline/orders';

/** API and worker in one process (scripts/bench/combined-server.ts); `?start=update|eager`. */
export const COMBINED_ORDERS_PATH = '/bench/orders';
