/**
 * The HTTP load of the scale-out suite (two-workers.test.ts): checkout orders and seat
 * reservations sent to a real API process by a few concurrent clients, each saga with
 * the outcome it is planned to have, and a client that rides out the moment a worker dies
 * (a payment or cancellation answered 202 or 503 `SagaUnavailable` is sent again until
 * the reservation reads as planned, as the API asks).
 */
import type { OrderItem } from '../../../common/index.ts';
import { orderWorkflowId, reservationWorkflowId } from '../../../common/ids.ts';
import type { AppConfig } from '../../../config/index.ts';
import type { Orm } from '../../../db/orm.ts';
import { callApi, type ApiAnswer } from '../../helpers/stack.ts';

/** Where the load's requests go: the API process, and what `callApi` needs for tokens. */
export interface LoadTarget {
  apiUrl: string;
  orm: Orm;
  config: AppConfig;
}

/** A checkout order of the load and the outcome it is planned to have. */
export interface OrderRequest {
  kind: 'order';
  userId: number;
  /** Sorted by product id, as the API sorts them. */
  items: OrderItem[];
  plan: 'CONFIRMED' | 'CANCELLED';
}

/** A seat reservation of the load: held, then paid (CONFIRMED) or cancelled (CANCELLED). */
export interface ReservationRequest {
  kind: 'reservation';
  userId: number;
  performanceId: number;
  seatIds: number[];
  plan: 'CONFIRMED' | 'CANCELLED';
}

export type LoadRequest = OrderRequest | ReservationRequest;

/** A request once the API gave it an id, with its saga's workflow id. */
export type SentRequest = LoadRequest & { id: string; workflowId: string };

/** How often a payment or cancellation is sent before the suite gives up. */
const ATTEMPT_LIMIT = 60;

/**
 * Sends `send()` (a payment or a cancellation, both safe to repeat) until the reservation
 * reads `want`: an answer of 200 or 409 `AlreadyConfirmed` ends it at once; 202 (not
 * decided within the wait), 503 `SagaUnavailable` (e.g. the saga's worker just died) or
 * 409 `SeatUnavailable` while the seats are not held yet (a hold answered 202) is
 * followed by reading the reservation, and the request is sent again 0.5 s later while it
 * is still PENDING.
 *
 * @throws Error on any other answer, when the reservation ends otherwise, or after
 *   {@link ATTEMPT_LIMIT} attempts.
 */
async function untilReservation(target: LoadTarget, req: ReservationRequest, id: string, want: string, send: () => Promise<ApiAnswer>): Promise<void> {
  let last: ApiAnswer | undefined;
  for (let attempt = 1; attempt <= ATTEMPT_LIMIT; attempt++) {
    const answer = (last = await send());
    if (answer.status === 200 || (answer.status === 409 && answer.body?.code === 'AlreadyConfirmed')) return;
    const notYet = answer.status === 202 || answer.status === 503 || (answer.status === 409 && answer.body?.code === 'SeatUnavailable');
    if (!notYet) throw new Error(`reservation ${id} towards ${want}: answered ${answer.status} ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const view = await callApi(target, 'GET', `/reservations/${id}`, undefined, {}, { as: req.userId });
    if (view.status === 200 && view.body.status === want) return;
    if (view.status === 200 && view.body.status !== 'PENDING') throw new Error(`reservation ${id} ended ${view.body.status} (${view.body.reason}), planned ${want}`);
  }
  throw new Error(`reservation ${id} not ${want} after ${ATTEMPT_LIMIT} attempts; last answer ${last?.status} ${JSON.stringify(last?.body)}`);
}

function expectStatus(what: string, answer: ApiAnswer, allowed: number[]): void {
  if (!allowed.includes(answer.status)) throw new Error(`${what}: answered ${answer.status} ${JSON.stringify(answer.body)}, expected ${allowed.join(' or ')}`);
}

/**
 * POST /orders; 201 (confirmed within the wait) or 202 (still running), and for an order
 * planned to fail also its refusal (409 `OutOfStock`, 422 `InsufficientPoints`: the
 * problem carries the cancelled order).
 */
async function sendOrder(target: LoadTarget, req: OrderRequest): Promise<SentRequest> {
  const answer = await callApi(target, 'POST', '/orders', { userId: req.userId, items: req.items });
  expectStatus('POST /orders', answer, req.plan === 'CANCELLED' ? [201, 202, 409, 422] : [201, 202]);
  const id = String(answer.body.orderId ?? answer.body.order?.orderId);
  return { ...req, id, workflowId: orderWorkflowId(id) };
}

/**
 * POST /reservations, then POST .../payment or DELETE (after a 202 hold, sent again until
 * the seats are held, see {@link untilReservation}).
 */
async function sendReservation(target: LoadTarget, req: ReservationRequest): Promise<SentRequest> {
  const hold = await callApi(target, 'POST', '/reservations', { userId: req.userId, performanceId: req.performanceId, seatIds: req.seatIds, holdSeconds: 600 });
  expectStatus('POST /reservations', hold, [201, 202]);
  const id = String(hold.body.reservationId);
  if (req.plan === 'CONFIRMED') {
    await untilReservation(target, req, id, 'CONFIRMED', () => callApi(target, 'POST', `/reservations/${id}/payment`, undefined, {}, { as: req.userId }));
  } else {
    await untilReservation(target, req, id, 'CANCELLED', () => callApi(target, 'DELETE', `/reservations/${id}`, undefined, {}, { as: req.userId }));
  }
  return { ...req, id, workflowId: reservationWorkflowId(id) };
}

/**
 * Sends every request of `requests` through `clients` concurrent clients (each takes the
 * next request once its last one was answered) and resolves with them, ids filled in,
 * in the order of `requests`. `onAnswered(n)` is called after each answered request with
 * how many were answered so far (the suite kills a worker from there).
 *
 * @throws Error on the first request answered with a status the plan does not allow.
 */
export async function sendLoad(
  target: LoadTarget,
  requests: LoadRequest[],
  clients: number,
  onAnswered: (answered: number) => Promise<void> | void = () => {},
): Promise<SentRequest[]> {
  const sent: SentRequest[] = new Array(requests.length);
  let next = 0;
  let answered = 0;
  const client = async () => {
    while (next < requests.length) {
      const i = next++;
      const req = requests[i]!;
      sent[i] = req.kind === 'order' ? await sendOrder(target, req) : await sendReservation(target, req);
      await onAnswered(++answered);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return sent;
}
