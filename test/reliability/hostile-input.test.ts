/**
 * Hostile input, property-based (fast-check): for every endpoint, generated invalid
 * requests (see hostile/endpoints.ts for the families) go as real HTTP requests to the
 * API listening on port 0. Property: each is answered, within a deadline, with a 4xx
 * (501 only for a method the API has on no route) whose body is RFC 9457 problem details
 * (`application/problem+json`, `type` `/problems/<code>`, `status`, `instance` and
 * `requestId` matching the answer; see `refusalProblems`). Every input is invalid
 * by construction, and the contract oracle (hostile/oracle.ts) confirms it before sending.
 * Where a family knows the exact answer (`expect`: a list query's 400 `ValidationFailed`
 * at the bad parameters, `GET /problems/:code`'s 404), the answer must be that one. The
 * few valid requests, which the oracle must accept, must be answered as expected: a
 * list's valid query a 200 page, `GET /problems/<known code>` a 200 with exactly the
 * contract's document (hostile/expected.ts).
 * Requests to routes that need a token carry a valid one of their natural actor (so they
 * still reach validation); the token family corrupts it instead (random bytes, truncated,
 * a flipped bit, a corrupted duplicate header first, another scheme, spaces inside) and
 * expects exactly 401 `InvalidToken` with the bearer challenge (hostile/tokens.ts).
 * After all runs: the Temporal client, which records and refuses every workflow call, was
 * never called, and the suite's private database is unchanged row for row.
 *
 * Each endpoint's property runs with seed `HOSTILE_SEED` (fixed by default) plus its
 * index; a failure prints the command that replays it. `HOSTILE_RUNS` changes the runs
 * per endpoint (200 by default); `HOSTILE_STATS=1` prints the answers per endpoint.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import fc from 'fast-check';
import { pino } from 'pino';
import { Client, Connection } from '@temporalio/client';
import { refusingInterceptor } from '../helpers/http.ts';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import type { Orm } from '../../db/orm.ts';
import { tokenFor } from '../helpers/auth.ts';
import { testConfig } from '../helpers/db.ts';
import { createFixtures, createPrivateDatabase, dropDatabase, readWorld, snapshot, withDatabase, type Snapshot } from './hostile/database.ts';
import type { EndpointGenerator } from './hostile/endpoint-kit.ts';
import { endpointGenerators } from './hostile/endpoints.ts';
import { UNKNOWN_METHODS } from './hostile/families.ts';
import { expectedProblems, isAcceptance } from './hostile/expected.ts';
import { describeAnswer, describeRequest, refusalProblems, send, type HostileRequest } from './hostile/http.ts';
import { ENDPOINTS, headBytes, mightBeAcceptedBy, type World } from './hostile/oracle.ts';

const SEED = Number(process.env.HOSTILE_SEED ?? 20_261_121);
const RUNS = Number(process.env.HOSTILE_RUNS ?? 200);
/** No answer within this is a hang. Answers take milliseconds; 1 MB bodies a few more. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Wait after a raw request's answer before counting Temporal calls. */
const RAW_SETTLE_MS = 20;
/**
 * Request heads up to this size are clear of Node's 16 KiB limit, so an `expect`ed answer
 * holds; noise headers can push a larger one past it (431).
 */
const EXACT_HEAD_BYTES = 14 * 1024;

let orm: Orm;
let databaseUrl: string;
let connection: Connection;
let server: RunningApiServer;
let port: number;
let world: World;
let generators: EndpointGenerator[];
let before: Snapshot;
const temporalCalls: string[] = [];
/** The request sent before the current one, for a Temporal call that comes late. */
let previous = '(none)';
/** Answers per endpoint, by `status code`; printed with HOSTILE_STATS=1. */
const answers: Record<string, Record<string, number>> = {};


beforeAll(async () => {
  const base = testConfig();
  const testDb = decodeURIComponent(new URL(base.database.url).pathname.slice(1));
  databaseUrl = withDatabase(base.database.url, `${testDb}_hostile_${process.pid}`);
  const config = testConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
  orm = await createPrivateDatabase(databaseUrl);
  // No retry interceptor: a stray call fails at once instead of retrying.
  connection = Connection.lazy({ address: config.temporal.address, interceptors: [] });
  const client = new Client({ connection, namespace: config.temporal.namespace, interceptors: { workflow: [refusingInterceptor(temporalCalls)] } });
  server = await startApiServer({ orm, client, config, logger: pino({ level: 'silent' }) }, { host: '127.0.0.1', port: 0 });
  port = Number(new URL(server.url).port);
  const rows = await createFixtures(orm);
  const tokens = new Map(await Promise.all([rows.userId, rows.userWithoutAccount].map(async (id) => [id, await tokenFor(id)] as const)));
  const fixtures = { ...rows, tokens };
  world = await readWorld(orm, config.api.bodyLimitBytes, new Set(tokens.values()));
  generators = endpointGenerators(fixtures, `127.0.0.1:${port}`);
  before = await snapshot(orm);
});

afterAll(async () => {
  if (process.env.HOSTILE_STATS) console.log(JSON.stringify(answers, null, 1));
  await server?.close();
  await connection?.close();
  await orm?.close();
  if (databaseUrl) await dropDatabase(databaseUrl);
});

/** The property for one request; throws with the request and the answer when it fails. */
async function checkAnswered(req: HostileRequest): Promise<void> {
  const accepted = isAcceptance(req.expect);
  const acceptedBy = mightBeAcceptedBy(req, world);
  if (accepted) {
    if (acceptedBy !== req.endpoint) throw new Error(`generated as valid a request the oracle does not accept: ${describeRequest(req)}`);
  } else {
    if (req.defects.length === 0) throw new Error(`generated without a defect: ${describeRequest(req)}`);
    if (acceptedBy) throw new Error(`generated a request ${acceptedBy} might accept: ${describeRequest(req)}`);
  }
  const callsBefore = temporalCalls.length;
  const answer = await send(port, req, REQUEST_TIMEOUT_MS);
  // The parser may refuse a raw request's body after its head reached a route: give such
  // a route the moment it needs to (wrongly) call Temporal, so the call is pinned on this request.
  if (req.raw) await delay(RAW_SETTLE_MS);
  // A raw request's target may be what the parser refused: its instance is not known.
  const problems = accepted ? [] : refusalProblems(answer, { unknownMethod: UNKNOWN_METHODS.includes(req.method), target: req.raw ? undefined : req.target });
  if (req.expect && (accepted || headBytes(req) <= EXACT_HEAD_BYTES)) problems.push(...expectedProblems(answer, req.expect));
  if (temporalCalls.length !== callsBefore) {
    // A route still running after its request was answered calls late, during the next one.
    problems.push(`Temporal was called (${temporalCalls.slice(callsBefore).join(', ')}) by this request or, late, by the one before: ${previous}`);
  }
  previous = describeRequest(req);
  const code = (() => {
    try {
      return (JSON.parse(answer.body.toString('utf8')) as { code?: string }).code;
    } catch {
      return undefined;
    }
  })();
  const tally = (answers[req.endpoint] ??= {});
  tally[`${answer.status} ${code}`] = (tally[`${answer.status} ${code}`] ?? 0) + 1;
  if (problems.length > 0) {
    throw new Error(`${problems.join('; ')}\n  request: ${describeRequest(req)}\n  answer:  ${describeAnswer(answer)}`);
  }
}

describe('every endpoint refuses hostile input with a problem-details 4xx (or gives the exact answer expected) and changes nothing', () => {
  it('covers the fifteen endpoints of the oracle table', () => {
    expect(generators.map((g) => g.endpoint).sort()).toEqual([...ENDPOINTS].sort());
  });

  it.each(ENDPOINTS.map((endpoint, index) => [endpoint, index] as const))('%s', async (endpoint, index) => {
    const generator = generators.find((g) => g.endpoint === endpoint)!;
    // One seed per endpoint, so endpoints of the same shape do not replay the same draws.
    const seed = SEED + index;
    try {
      await fc.assert(fc.asyncProperty(generator.arbitrary, checkAnswered), { numRuns: RUNS, seed });
    } catch (err) {
      // fast-check's report has the seed, the path and the shrunk counterexample; say how to rerun it.
      throw new Error(
        `${endpoint}: property failed with seed ${seed}; rerun with HOSTILE_SEED=${SEED} npm run test:reliability -- test/reliability/hostile-input.test.ts -t '${endpoint}'\n` +
          `${(err as Error).message}\nFailure: ${((err as Error).cause as Error | undefined)?.message ?? '(see above)'}`,
      );
    }
  });

  it('made no Temporal call and left every row of the database as it was', async () => {
    expect(temporalCalls).toEqual([]);
    expect(await snapshot(orm)).toEqual(before);
  });
});
