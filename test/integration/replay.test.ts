/**
 * Replay: every recorded saga history (test/histories/, written by
 * test/tools/record-histories.ts) must replay against the current workflow code without
 * a non-determinism error. A change that running sagas would trip over (reordered steps,
 * a new command without `patched()`) fails here before it reaches production.
 */
import { describe, it, expect, beforeAll } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/worker.ts';
import { bundleWorkflows } from '../helpers/temporal.ts';

const HISTORIES = fileURLToPath(new URL('../histories/', import.meta.url));
let bundle: WorkflowBundleWithSourceMap;
let files: string[];

beforeAll(async () => {
  bundle = await bundleWorkflows(WORKFLOWS_PATH);
  files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
});

describe('workflow replay', () => {
  it('covers every saga path', () => {
    const paths = files.map((f) => f.replace(/^v\d+-/, '').replace(/\.json$/, ''));
    expect(new Set(paths)).toEqual(
      new Set([
        'order-confirmed',
        'order-out-of-stock',
        'order-insufficient-points',
        'order-compensation-failed-then-retried',
        'reservation-compensation-failed',
        'reservation-compensation-failed-then-retried',
        'reservation-confirmed-after-top-up',
        'reservation-expired',
        'reservation-cancelled',
        'reservation-seat-unavailable',
        'reservation-paid-after-failed-payment',
        'reservation-unknown-user',
        'order-unknown-user',
        'points-top-up',
        'order-coupon-confirmed',
        'order-coupon-not-found',
        'order-coupon-not-owned',
        'order-coupon-already-used',
        'order-coupon-expired',
        'order-coupon-minimum-not-met',
        'order-coupon-insufficient-points',
        'order-coupon-cancelled',
      ]),
    );
  });

  it('replays every recorded history without non-determinism', async () => {
    async function* histories() {
      for (const file of files) {
        yield { workflowId: file, history: JSON.parse(await readFile(`${HISTORIES}${file}`, 'utf8')) };
      }
    }
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories())) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
