/**
 * Waiting-queue checks (common/queue.ts, db/queue.ts), all from the token table's
 * timestamps rather than from what the admission driver says it did:
 * - the cap: at no instant more than `activeLimit` tokens of one performance active, each
 *   token active over `[admitted_at, coalesce(ended_at, +infinity))`;
 * - admission in ticket order: no token admitted while a token of the same performance
 *   with a smaller ticket was still WAITING;
 * - a counter's `waiting` counts its performance's WAITING tokens;
 * - no token ACTIVE past its `active_until` by more than a grace (the driver ends timed-out
 *   tokens within its poll);
 * - a CONFIRMED reservation's token is its user's token for its performance, EXPIRED.
 * The per-performance checks always count every token of a performance in scope.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ResolvedScope } from './scope.ts';
import { rows, sql, tableExists, within, type Fragment } from './sql.ts';
import { QUEUE_CHECK_NAMES, result, type CheckResult, type InvariantOptions, type Violation } from './types.ts';

/**
 * Default of `queue.overdueGraceMs` (ms): 5 s plus the default safety poll of the admission
 * driver (QUEUE_POLL_MS, 1 s), within which it ends a token whose `active_until` passed.
 */
export const DEFAULT_QUEUE_OVERDUE_GRACE_MS = 6_000;

/** The queue tokens (alias `t`) of the performances in scope. */
function tokensWithin(scope: ResolvedScope | undefined, alias = 't'): Fragment {
  return within(`${alias}.performance_id`, scope?.performances, 'int');
}

function iso(at: Date | string): string {
  return new Date(at).toISOString();
}

/** The deepest overlap of one performance's active intervals above the cap. */
interface CapPeak {
  performance_id: number;
  at: Date;
  active: number;
  token_ids: string[];
}

/**
 * `queue-tokens-within-active-limit`: a sweep over each performance's admitted/ended
 * instants (ends before starts at equal instants) finds the deepest overlap of active
 * intervals; above `options.queue.activeLimit` it is a violation naming the instant and the
 * tokens active then (in ticket order). Skipped without a limit: suites on one database run
 * different limits.
 */
export async function queueTokensWithinActiveLimit(em: EntityManager, scope: ResolvedScope | undefined, options: InvariantOptions): Promise<CheckResult> {
  const check = 'queue-tokens-within-active-limit';
  const limit = options.queue?.activeLimit;
  if (limit === undefined) return { ...result(check, []), skipped: 'no active limit given (queue.activeLimit)' };
  const peaks = await rows<CapPeak>(
    em,
    sql`with admitted as (
          select t.id, t.performance_id, t.ticket, t.admitted_at, t.ended_at from queue_tokens t
          where t.admitted_at is not null and ${tokensWithin(scope)}
        ), instants as (
          select performance_id, admitted_at as at, 1 as delta from admitted
          union all
          select performance_id, ended_at, -1 from admitted where ended_at is not null
        ), depth as (
          select performance_id, at,
                 sum(delta) over (partition by performance_id order by at, delta rows unbounded preceding)::int as active
          from instants
        ), peaks as (
          select distinct on (performance_id) performance_id, at, active from depth
          where active > ${limit} order by performance_id, active desc, at
        )
        select p.performance_id, p.at, p.active,
               (select json_agg(a.id order by a.ticket) from admitted a
                where a.performance_id = p.performance_id and a.admitted_at <= p.at and (a.ended_at is null or a.ended_at > p.at)) as token_ids
        from peaks p order by p.performance_id`,
  );
  return result(check, peaks.map((p): Violation => ({
    check,
    rule: 'at no instant more than the active limit of a performance\'s tokens are ACTIVE',
    ids: { performanceId: p.performance_id, tokenIds: p.token_ids },
    expected: `at most ${limit} active at once`,
    found: `${p.active} active at ${iso(p.at)}`,
  })));
}

/** A token admitted while one with a smaller ticket still waited. */
interface OvertakingToken {
  id: string;
  performance_id: number;
  ticket: number;
  admitted_at: Date;
  ahead_id: string;
  ahead_ticket: number;
  ahead_status: string;
}

/**
 * `queue-tokens-admitted-in-ticket-order`: a token's wait ends when it is admitted, or when
 * it ends without being admitted (cancelled while WAITING), or never while it waits; a token
 * admitted at an instant before the wait of a smaller ticket of its performance ended is a
 * violation naming the first such ticket. Tokens admitted in one pass share their instant.
 */
export async function queueTokensAdmittedInTicketOrder(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'queue-tokens-admitted-in-ticket-order';
  const found = await rows<OvertakingToken>(
    em,
    sql`with waits as (
          select t.id, t.performance_id, t.ticket, t.status, t.admitted_at,
                 coalesce(t.admitted_at, t.ended_at, 'infinity'::timestamptz) as waited_until
          from queue_tokens t where ${tokensWithin(scope)}
        ), ahead as (
          select w.*, max(waited_until) over (partition by performance_id order by ticket
                                              rows between unbounded preceding and 1 preceding) as ahead_waited_until
          from waits w
        )
        select a.id, a.performance_id, a.ticket, a.admitted_at, b.id as ahead_id, b.ticket as ahead_ticket, b.status as ahead_status
        from ahead a
        cross join lateral (
          select w.id, w.ticket, w.status from waits w
          where w.performance_id = a.performance_id and w.ticket < a.ticket and w.waited_until > a.admitted_at
          order by w.ticket limit 1
        ) b
        where a.admitted_at is not null and a.ahead_waited_until > a.admitted_at
        order by a.performance_id, a.ticket`,
  );
  return result(check, found.map((t): Violation => ({
    check,
    rule: 'tokens of a performance are admitted in ticket order',
    ids: { performanceId: t.performance_id, tokenId: t.id, ticket: t.ticket, waitingTokenId: t.ahead_id, waitingTicket: t.ahead_ticket },
    expected: `ticket ${t.ahead_ticket} admitted or gone before ticket ${t.ticket}`,
    found: `ticket ${t.ticket} admitted at ${iso(t.admitted_at)} while ticket ${t.ahead_ticket} waited (now ${t.ahead_status})`,
  })));
}

/**
 * `queue-counters-count-waiting`: each performance's `queue_counters.waiting` equals its
 * WAITING tokens; WAITING tokens of a performance without a counter row are a violation too.
 */
export async function queueCountersCountWaiting(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'queue-counters-count-waiting';
  const found = await rows<{ performance_id: number; counted: number | null; waiting: number }>(
    em,
    sql`select coalesce(c.performance_id, w.performance_id) as performance_id, c.waiting as counted, coalesce(w.n, 0) as waiting
        from (select t.performance_id, t.waiting from queue_counters t where ${tokensWithin(scope)}) c
        full join (select t.performance_id, count(*)::int as n from queue_tokens t
                   where t.status = 'WAITING' and ${tokensWithin(scope)} group by t.performance_id) w
          on w.performance_id = c.performance_id
        where c.waiting is distinct from coalesce(w.n, 0)
        order by 1`,
  );
  return result(check, found.map((c): Violation => ({
    check,
    rule: 'a queue counter\'s waiting counts its performance\'s WAITING tokens',
    ids: { performanceId: c.performance_id },
    expected: `waiting ${c.waiting}`,
    found: c.counted === null ? 'no queue counter' : `waiting ${c.counted}`,
  })));
}

/**
 * `queue-tokens-active-within-deadline`: no token is still ACTIVE more than
 * `options.queue.overdueGraceMs` (default {@link DEFAULT_QUEUE_OVERDUE_GRACE_MS}) after its
 * `active_until`, measured at the check's transaction start.
 */
export async function queueTokensActiveWithinDeadline(em: EntityManager, scope: ResolvedScope | undefined, options: InvariantOptions): Promise<CheckResult> {
  const check = 'queue-tokens-active-within-deadline';
  const graceMs = options.queue?.overdueGraceMs ?? DEFAULT_QUEUE_OVERDUE_GRACE_MS;
  const found = await rows<{ id: string; performance_id: number; active_until: Date; overdue_ms: number }>(
    em,
    sql`select t.id, t.performance_id, t.active_until,
               (extract(epoch from now() - t.active_until) * 1000)::bigint as overdue_ms
        from queue_tokens t
        where t.status = 'ACTIVE' and t.active_until < now() - make_interval(secs => ${graceMs}::double precision / 1000)
          and ${tokensWithin(scope)}
        order by t.performance_id, t.ticket`,
  );
  return result(check, found.map((t): Violation => ({
    check,
    rule: `a token ends within ${graceMs} ms after its activeUntil`,
    ids: { performanceId: t.performance_id, tokenId: t.id },
    expected: `EXPIRED by ${iso(new Date(new Date(t.active_until).getTime() + graceMs))}`,
    found: `ACTIVE ${t.overdue_ms} ms past activeUntil ${iso(t.active_until)}`,
  })));
}

/** A CONFIRMED reservation whose token is not as it should be. */
interface ConfirmedWithToken {
  id: string;
  user_id: number;
  performance_id: number;
  queue_token_id: string;
  status: string | null;
  end_reason: string | null;
  token_user_id: number | null;
  token_performance_id: number | null;
}

/**
 * `confirmed-reservations-expire-their-tokens`: a CONFIRMED reservation admitted by a queue
 * token (`queue_token_id` set) names its user's token for its performance, and that token is
 * EXPIRED (PAID, or TIMED_OUT while the payment ran), never still live nor CANCELLED.
 */
export async function confirmedReservationsExpireTheirTokens(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'confirmed-reservations-expire-their-tokens';
  const found = await rows<ConfirmedWithToken>(
    em,
    sql`select r.id, r.user_id, r.performance_id, r.queue_token_id, t.status, t.end_reason,
               t.user_id as token_user_id, t.performance_id as token_performance_id
        from reservations r left join queue_tokens t on t.id = r.queue_token_id
        where r.status = 'CONFIRMED' and r.queue_token_id is not null and ${within('r.id', scope?.reservations, 'uuid')}
          and (t.id is null or t.status <> 'EXPIRED' or t.user_id <> r.user_id or t.performance_id <> r.performance_id)
        order by r.id`,
  );
  return result(check, found.map((r): Violation => {
    const owned = r.token_user_id === r.user_id && r.token_performance_id === r.performance_id;
    return {
      check,
      rule: owned || r.status === null ? 'a CONFIRMED reservation\'s queue token is EXPIRED' : 'a reservation\'s queue token is its user\'s for its performance',
      ids: { reservationId: r.id, tokenId: r.queue_token_id },
      expected: `token of user ${r.user_id} for performance ${r.performance_id}, EXPIRED (PAID or TIMED_OUT)`,
      found: r.status === null
        ? 'no such token'
        : `token of user ${r.token_user_id} for performance ${r.token_performance_id}, ${r.status}${r.end_reason ? ` (${r.end_reason})` : ''}`,
    };
  }));
}

/**
 * The queue checks in {@link QUEUE_CHECK_NAMES} order; each skipped when the database has no
 * waiting queue yet (migrated only up to an older migration).
 */
export async function queueChecks(em: EntityManager, scope: ResolvedScope | undefined, options: InvariantOptions): Promise<CheckResult[]> {
  if (!(await tableExists(em, 'queue_tokens'))) {
    return QUEUE_CHECK_NAMES.map((name) => ({ ...result(name, []), skipped: 'no waiting queue in this database (migration pending)' }));
  }
  return [
    await queueTokensWithinActiveLimit(em, scope, options),
    await queueTokensAdmittedInTicketOrder(em, scope),
    await queueCountersCountWaiting(em, scope),
    await queueTokensActiveWithinDeadline(em, scope, options),
    await confirmedReservationsExpireTheirTokens(em, scope),
  ];
}
