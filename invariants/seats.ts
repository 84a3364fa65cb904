/** Seat check: every HELD or RESERVED seat has one live holder that lists it. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { unexplainedSeats, type UnexplainedSeatRow } from '../db/orphans.ts';
import type { ResolvedScope } from './scope.ts';
import { rows, sql, within } from './sql.ts';
import { result, type CheckResult, type InvariantNote, type Violation } from './types.ts';

/**
 * `seats-have-one-live-holder`: a HELD seat is held by a PENDING reservation that lists
 * it, a RESERVED seat by a CONFIRMED one; a seat still HELD by a COMPENSATION_FAILED
 * reservation is a note.
 */
export async function seatsHaveOneLiveHolder(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'seats-have-one-live-holder';
  const found = await rows<UnexplainedSeatRow>(
    em,
    unexplainedSeats(sql`${within('s.performance_id', scope?.performances, 'int')} or ${within('s.reservation_id', scope?.reservations, 'uuid')}`),
  );
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const seat of found) {
    const ids = { seatId: seat.id, reservationId: seat.reservation_id };
    const holder = seat.status === 'HELD' ? 'PENDING' : 'CONFIRMED';
    if (seat.status === 'HELD' && seat.reservation_status === 'COMPENSATION_FAILED') {
      notes.push({ check, kind: 'needs-operator', ids, detail: 'seat still HELD by a COMPENSATION_FAILED reservation' });
      continue;
    }
    const state = seat.reservation_status === null ? 'no such reservation' : `reservation ${seat.reservation_status}${seat.listed ? '' : ' that does not list the seat'}`;
    violations.push({
      check,
      rule: `a ${seat.status} seat belongs to a ${holder} reservation that lists it`,
      ids,
      expected: `reservation ${holder} listing seat ${seat.id}`,
      found: state,
    });
  }
  return result(check, violations, notes);
}
