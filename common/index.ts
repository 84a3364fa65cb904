/** Workflow-safe contract shared by api/, workflows/ and activities/. */
export * from './failures.ts';
export * from './ids.ts';
export * from './saga.ts';
export * from './orders.ts';
export * from './points.ts';
export * from './reservations.ts';
export * from './queue.ts';
