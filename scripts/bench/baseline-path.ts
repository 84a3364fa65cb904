/** Path of the baseline server's order route (scripts/bench/baseline-server.ts). */
export const BASELINE_ORDERS_PATH = '/baseline/orders';
