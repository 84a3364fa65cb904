/** Global teardown of `npm run test:cluster`: stops the server cluster-global-setup.ts started. */
import type { TemporalCluster } from '../scripts/temporal-cluster.ts';
import { CLUSTER_KEY } from './cluster-global-setup.ts';

export default async function clusterGlobalTeardown(): Promise<void> {
  const cluster = (globalThis as Record<symbol, TemporalCluster | undefined>)[CLUSTER_KEY];
  await cluster?.stop();
}
