/**
 * Global set-up of `npm run test:cluster` (jest.cluster.config.js): migrates the test
 * database as test/global-setup.ts does, then starts the real Temporal server on
 * PostgreSQL (scripts/temporal-cluster.ts; built with Go into .tools/bin when missing,
 * progress on stderr) and points every suite at it through TEST_TEMPORAL_ADDRESS and
 * TEST_TEMPORAL_NAMESPACE. cluster-global-teardown.ts stops it.
 *
 * The suite's server is not the one `npm run temporal:cluster` runs: its frontend port is
 * 20 above TEMPORAL_CLUSTER_ADDRESS's (7255 by default) and its databases are the
 * cluster's with `_test` appended, dropped first, so both can run at once and every run
 * starts from nothing (no workflow of an earlier run matches a suite's visibility query).
 * Its Prometheus endpoint is off.
 */
import pino from 'pino';
import { loadConfig } from '../config/index.ts';
import { prepareDatabase } from '../db/orm.ts';
import { startTemporalCluster, type TemporalCluster } from '../scripts/temporal-cluster.ts';
import { parseAddress } from '../scripts/temporal-dev-server.ts';

/** Where the teardown finds the running cluster (jest runs set-up and teardown in one process). */
export const CLUSTER_KEY = Symbol.for('temporal-saga-reference.test-cluster');

export default async function clusterGlobalSetup(): Promise<void> {
  const config = loadConfig();
  const { orm } = await prepareDatabase({ url: config.database.testUrl, poolMax: 2 });
  await orm.close();

  const { host, port } = parseAddress(config.cluster.address);
  const url = new URL(config.cluster.databaseUrl);
  url.pathname = `${url.pathname}_test`;
  const log = pino({ level: config.logLevel === 'silent' ? 'silent' : 'info' }, pino.destination(2));
  const cluster = await startTemporalCluster({
    log,
    config,
    address: `${host}:${port + 20}`,
    metricsAddress: null,
    databases: { url: url.toString(), visibility: `${config.cluster.visibilityDatabase}_test` },
    fresh: true,
    namespace: config.testTemporal.namespace,
  });
  (globalThis as Record<symbol, TemporalCluster>)[CLUSTER_KEY] = cluster;
  process.env.TEST_TEMPORAL_ADDRESS = cluster.address;
  process.env.TEST_TEMPORAL_NAMESPACE = cluster.namespace;
}
