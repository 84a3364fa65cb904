/**
 * The invariant checker's public entry, kept at this path for its importers (scripts,
 * tests); the checks live in db/invariants/, one module per group.
 */
export * from './invariants/index.ts';
