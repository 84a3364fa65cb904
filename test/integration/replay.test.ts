/**
 * Replay: every recorded saga history (test/histories/, written by
 * test/tools/record-histories.ts) must replay against the current workflow code without
 * a non-determinism error. A change that running sagas would trip over (reordered steps,
 * a new command without `patched()`) fails here before it reaches production. Histories
 * of every version replay, the sagas started before the outbox (v1-v6, which deliver their
 * event with `notifyDataPlatform`) as well as those that end at their pivot (v7 on), and
 * those that start with their search attributes and upsert them once at the end (v8 on).
 */
import { describe, it, expect, beforeAll } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { OUTBOX_AFTER_PIVOT_PATCH } from '../../common/outbox.ts';
import { SAGA_ONE_UPSERT_PATCH } from '../../common/saga.ts';
import { WORKFLOWS_PATH } from '../../worker/worker.ts';
import { bundleWorkflows } from '../helpers/temporal.ts';

const HISTORIES = fileURLToPath(new URL('../histories/', import.meta.url));
/** The first version recorded with the transactional outbox (patch `outbox-after-pivot`). */
const OUTBOX_VERSION = 7;
/** The first version recorded with the search attributes given at start (patch {@link SAGA_ONE_UPSERT_PATCH}). */
const ONE_UPSERT_VERSION = 8;
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

  it('keeps notifyDataPlatform in the confirmed sagas from before the outbox, and has none from v7 on', async () => {
    const confirmed = files.filter((f) => /(order|order-coupon)-confirmed|reservation-confirmed-after-top-up|reservation-paid-after-failed-payment/.test(f));
    const shapes = await Promise.all(
      confirmed.map(async (file) => {
        const { events } = JSON.parse(await readFile(`${HISTORIES}${file}`, 'utf8')) as { events: HistoryEvent[] };
        const version = Number(/^v(\d+)-/.exec(file)![1]);
        return { file, outbox: version >= OUTBOX_VERSION, notifies: scheduledActivities(events).includes('notifyDataPlatform'), patches: patchIds(events) };
      }),
    );
    expect(shapes.filter((s) => s.outbox).map((s) => s.file)).toEqual(expect.arrayContaining(['v7-order-confirmed.json', 'v7-reservation-confirmed-after-top-up.json']));
    for (const shape of shapes) {
      // From v8 on the outbox is part of the saga's shape: the one v8 patch stands for it.
      const patched = shape.patches.includes(OUTBOX_AFTER_PIVOT_PATCH) || shape.patches.includes(SAGA_ONE_UPSERT_PATCH);
      expect({ file: shape.file, notifies: shape.notifies, patched }).toEqual({ file: shape.file, notifies: !shape.outbox, patched: shape.outbox });
    }
  });

  it('has, from v8 on, one patch marker and the business search attributes upserted only at the end or when parked', async () => {
    const sagas = files.filter((f) => Number(/^v(\d+)-/.exec(f)![1]) >= ONE_UPSERT_VERSION && !f.includes('points-top-up'));
    expect(sagas).toEqual(expect.arrayContaining(['v8-order-confirmed.json', 'v8-order-out-of-stock.json', 'v8-reservation-cancelled.json']));
    for (const file of sagas) {
      const { events } = JSON.parse(await readFile(`${HISTORIES}${file}`, 'utf8')) as { events: HistoryEvent[] };
      expect({ file, patches: patchIds(events) }).toEqual({ file, patches: [SAGA_ONE_UPSERT_PATCH] });
      // The ids and PENDING came with the start (v8-order-unknown-user was started without them: one upsert of them first).
      const upserts = upsertedKeys(events).filter((keys) => !keys.includes('TemporalChangeVersion'));
      const starting = file === 'v8-order-unknown-user.json' ? 1 : 0;
      const parked = file.includes('compensation-failed-then-retried') ? 1 : 0;
      expect({ file, upserts: upserts.length }).toEqual({ file, upserts: starting + parked + 1 });
      expect(upserts.slice(starting).every((keys) => keys.includes('SagaStatus'))).toBe(true);
    }
    const confirmed = await readFile(`${HISTORIES}v8-order-confirmed.json`, 'utf8');
    expect(upsertedKeys((JSON.parse(confirmed) as { events: HistoryEvent[] }).events)).toEqual([['TemporalChangeVersion'], ['SagaStatus']]);
  });
});

/** An event of a recorded history, as the CLI writes it (proto3 JSON), with what these checks read. */
interface HistoryEvent {
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  upsertWorkflowSearchAttributesEventAttributes?: { searchAttributes?: { indexedFields?: Record<string, unknown> } };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> };
}

/** The activity types a history schedules, in order (local activities are markers, not counted). */
function scheduledActivities(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? '?'] : []));
}

/** The patch ids a history's `core_patch` markers record (base64 JSON `{ id, deprecated }`). */
function patchIds(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

/** The search attribute names of each upsert of a history, in order (each sorted). */
function upsertedKeys(events: HistoryEvent[]): string[][] {
  return events.flatMap((e) => {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    return fields ? [Object.keys(fields).sort()] : [];
  });
}
