/** Waiting for a local HTTP endpoint to answer, used by the start scripts. */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `url` answers with a 2xx status.
 *
 * @throws Error when it has not within `timeoutMs` (ms).
 */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}
