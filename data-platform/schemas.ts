/**
 * Wire contract of the mock data platform: the zod schemas of its request bodies and
 * the types of what it stores and answers. The real client lives in `activities/`.
 */
import { z } from 'zod';

/**
 * Body of `POST /events`: one business event, delivered at least once. `eventId` is the
 * deduplication key; `occurredAt` is an ISO 8601 date-time with an offset (e.g. `Z`).
 */
export const IncomingEventSchema = z.object({
  eventId: z.string().trim().min(1).max(200),
  type: z.string().trim().min(1).max(100),
  occurredAt: z.iso.datetime({ offset: true }),
  payload: z.record(z.string(), z.unknown()),
});

/** A validated `POST /events` body. */
export type IncomingEvent = z.infer<typeof IncomingEventSchema>;

/** Upper bound of the simulated latency, in ms (10 minutes), so a typo cannot hang a demo forever. */
export const MAX_LATENCY_MS = 600_000;

/**
 * Body of `PUT /settings`: a partial update of {@link DataPlatformSettings}. Unknown keys
 * are refused so that a misspelt setting fails loudly instead of doing nothing.
 */
export const SettingsPatchSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS).optional(),
  failureRate: z.number().min(0).max(1).optional(),
  down: z.boolean().optional(),
  failAfterRecord: z.number().min(0).max(1).optional(),
});

/** A validated `PUT /settings` body; absent keys keep their current value. */
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/**
 * How the mock misbehaves on `POST /events`, changeable at run time.
 *
 * - `latencyMs`: delay before anything else happens, in ms.
 * - `down`: answer 503 without recording.
 * - `failureRate`: probability (0..1) of answering 500 without recording.
 * - `failAfterRecord`: probability (0..1) of recording the event and then answering 500
 *   (the ambiguous case: the sender cannot tell whether its delivery counted).
 */
export type DataPlatformSettings = {
  latencyMs: number;
  failureRate: number;
  down: boolean;
  failAfterRecord: number;
};

/**
 * An event as stored and returned by `GET /events`. `receivedAt` is the ISO time of the
 * first successful recording; `attempts` counts every valid delivery of this `eventId`
 * that reached the mock, including the ones it answered with 500 or 503.
 */
export type ReceivedEvent = {
  eventId: string;
  type: string;
  occurredAt: string;
  payload: Record<string, unknown>;
  receivedAt: string;
  attempts: number;
};

/** The JSON body of every error answer: `{ error: { code, message, details } }`. */
export type ErrorBody = {
  error: { code: string; message: string; details?: unknown };
};
