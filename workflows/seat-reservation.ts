/**
 * The seat reservation saga (`reservation-<reservationId>`), after docs/architecture.md:
 * createReservation -> holdSeats (all or none) -> wait on a durable timer for the `pay`
 * Update, the `cancel` Signal or the hold's expiry -> payWithPoints -> confirmReservation
 * (the pivot: HELD -> RESERVED, PENDING -> CONFIRMED) -> notifyDataPlatform.
 *
 * The timer is durable: if no worker runs when the hold expires, the next worker to pick
 * the workflow up fires it and releases the seats. A payment refused for insufficient
 * points keeps the hold, so the user can top up and pay again before it expires.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { FailureType } from '../common/failures.ts';
import { confirmedEventId, stepKey } from '../common/ids.ts';
import {
  RESERVATION_CONFIRMED_EVENT,
  cancelReservationSignal,
  payReservationUpdate,
  reservationHoldUpdate,
  reservationProgressQuery,
  type HoldOutcome,
  type PaymentOutcome,
  type ReservationProgress,
  type ReservationStatus,
  type SeatReservationInput,
} from '../common/reservations.ts';
import { FORWARD_STEP_OPTIONS, MUST_COMPLETE_OPTIONS } from './activity-options.ts';
import { failureOf, type FailureSummary } from './failures.ts';
import { notifyDataPlatform } from './notify.ts';
import { SagaObserver } from './observability.ts';
import { Saga } from './saga.ts';

const steps = proxyActivities<Activities>(FORWARD_STEP_OPTIONS);
const mustComplete = proxyActivities<Activities>(MUST_COMPLETE_OPTIONS);

/** Mutable state of one reservation saga, shared by its handlers and its main flow. */
interface ReservationState {
  input: SeatReservationInput;
  workflowId: string;
  holdExpiresAtMs: number;
  progress: ReservationProgress;
  saga: Saga;
  observer: SagaObserver;
  totalWon: number;
  hold?: HoldOutcome;
  cancelled: boolean;
  confirmed: boolean;
  paying: boolean;
  payment?: Promise<PaymentOutcome>;
  refundRegistered: boolean;
  /** A failure after the hold that ends the saga (for example HoldExpired at confirmation). */
  failure?: FailureSummary;
  closing: boolean;
}

/**
 * Runs one seat reservation. Returns the final status: CONFIRMED, CANCELLED (refused
 * hold or user cancellation), EXPIRED, or COMPENSATION_FAILED.
 */
export async function seatReservation(input: SeatReservationInput): Promise<{ reservationId: string; status: ReservationStatus }> {
  const state = initialState(input);
  registerHandlers(state);
  setStatus(state, 'PENDING');

  const held = await holdPhase(state);
  if (!held) return { reservationId: input.reservationId, status: state.progress.status };

  await waitForPaymentCancelOrExpiry(state);
  state.closing = true;

  if (state.confirmed) {
    setStatus(state, 'CONFIRMED');
    await notifyDataPlatform(state.progress, state.workflowId, {
      eventId: confirmedEventId(state.workflowId),
      type: RESERVATION_CONFIRMED_EVENT,
      occurredAt: new Date().toISOString(),
      payload: { reservationId: input.reservationId, userId: input.userId, performanceId: input.performanceId, seatIds: input.seatIds, totalWon: state.totalWon },
    });
  } else {
    const failure = state.failure ?? (state.cancelled ? reasonOf(FailureType.ReservationCancelled, 'Cancelled by the user') : reasonOf(FailureType.HoldExpired, 'The hold expired before payment'));
    const status = failure.type === FailureType.HoldExpired ? 'EXPIRED' : 'CANCELLED';
    await compensateAndClose(state, status, failure);
  }
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return { reservationId: input.reservationId, status: state.progress.status };
}

/**
 * Waits for the pay Update, the cancel Signal or the hold's expiry. A payment that began
 * before the expiry is allowed to finish. Cancelling the workflow itself (an operator,
 * from the Web UI) counts as the user's cancellation: the seats are released.
 */
async function waitForPaymentCancelOrExpiry(state: ReservationState): Promise<void> {
  const remainingMs = Math.max(0, state.holdExpiresAtMs - Date.now());
  try {
    await condition(() => state.cancelled || state.confirmed || state.failure !== undefined, remainingMs);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    state.cancelled = true;
  }
  await CancellationScope.nonCancellable(() => condition(() => !state.paying));
}

function initialState(input: SeatReservationInput): ReservationState {
  const { workflowId } = workflowInfo();
  const holdExpiresAtMs = Date.now() + input.holdMs;
  const progress: ReservationProgress = {
    workflowId,
    status: 'PENDING',
    steps: [],
    compensations: [],
    notification: 'NOT_APPLICABLE',
    holdExpiresAt: new Date(holdExpiresAtMs).toISOString(),
  };
  const observer = new SagaObserver('seatReservation');
  observer.started({ reservationId: input.reservationId, userId: input.userId, holdExpiresAt: new Date(holdExpiresAtMs) });
  const saga = new Saga(progress, { hooks: observer });
  return { input, workflowId, holdExpiresAtMs, progress, saga, observer, totalWon: 0, cancelled: false, confirmed: false, paying: false, refundRegistered: false, closing: false };
}

function registerHandlers(state: ReservationState): void {
  setHandler(reservationProgressQuery, () => state.progress);
  // Handlers wait in non-cancellable scopes: a cancelled saga still answers.
  setHandler(reservationHoldUpdate, async () => {
    await CancellationScope.nonCancellable(() => condition(() => state.hold !== undefined));
    return state.hold!;
  });
  setHandler(cancelReservationSignal, () => {
    state.cancelled = true;
  });
  // Concurrent pay calls share one payment; a refused payment clears it so the user can retry.
  setHandler(payReservationUpdate, () => (state.payment ??= pay(state)), { validator: () => assertPayable(state) });
}

/** Rejects a pay Update before it reaches history when the reservation is not payable. */
function assertPayable(state: ReservationState): void {
  if (state.confirmed) throw ApplicationFailure.nonRetryable('The reservation is already paid', FailureType.AlreadyConfirmed);
  if (state.hold === undefined) throw ApplicationFailure.nonRetryable('The seats are not held yet', FailureType.SeatUnavailable);
  if (state.hold.status !== 'PENDING' || state.cancelled) {
    throw ApplicationFailure.nonRetryable('The reservation was cancelled', FailureType.ReservationCancelled);
  }
  if (state.payment) return; // joins the payment under way
  if (state.closing || Date.now() >= state.holdExpiresAtMs || state.failure) {
    throw ApplicationFailure.nonRetryable('The hold has expired', FailureType.HoldExpired);
  }
}

async function holdPhase(state: ReservationState): Promise<boolean> {
  const { input, saga } = state;
  let created = false;
  try {
    const reservation = await saga.step('createReservation', () =>
      steps.createReservation({ ...input, holdExpiresAt: state.progress.holdExpiresAt!, workflowId: state.workflowId }),
    );
    created = true;
    state.totalWon = reservation.totalWon;
    saga.addCompensation('releaseSeats', () => mustComplete.releaseSeats({ reservationId: input.reservationId }));
    await saga.step('holdSeats', () => steps.holdSeats({ reservationId: input.reservationId }));
  } catch (err) {
    const failure = failureOf(err);
    const details = (err as { cause?: { details?: { seatIds?: number[] }[] } }).cause?.details?.[0];
    state.hold = holdOutcome(state, 'CANCELLED', failure, details?.seatIds);
    await compensateAndClose(state, 'CANCELLED', failure, created);
    return false;
  }
  state.hold = holdOutcome(state, 'PENDING');
  return true;
}

async function pay(state: ReservationState): Promise<PaymentOutcome> {
  const { input, saga, workflowId } = state;
  state.paying = true;
  try {
    if (!state.refundRegistered) {
      state.refundRegistered = true;
      saga.addCompensation('refundPoints', () =>
        mustComplete.refundPoints({ userId: input.userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') }),
      );
    }
    try {
      await saga.step('payWithPoints', () =>
        steps.payWithPoints({ userId: input.userId, amountPoints: state.totalWon, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') }),
      );
    } catch (err) {
      state.payment = undefined;
      throw asUpdateFailure(err, state, FailureType.InsufficientPoints);
    }
    try {
      // The pivot runs to its end even if the workflow is cancelled meanwhile: compensating
      // while it may still commit would leave a confirmed, refunded reservation.
      await CancellationScope.nonCancellable(() =>
        saga.step('confirmReservation', () => mustComplete.confirmReservation({ reservationId: input.reservationId })),
      );
    } catch (err) {
      throw asUpdateFailure(err, state);
    }
    state.confirmed = true;
    return { reservationId: input.reservationId, status: 'CONFIRMED', totalWon: state.totalWon, paidPoints: state.totalWon };
  } finally {
    state.paying = false;
  }
}

/**
 * Turns a step failure into the Update's failure. A failure of type `keepHoldType`
 * leaves the saga waiting (the user may retry); any other ends it.
 */
function asUpdateFailure(err: unknown, state: ReservationState, keepHoldType?: string): ApplicationFailure {
  const failure = failureOf(err);
  if (failure.type !== keepHoldType) state.failure = failure;
  const details = (err as { cause?: { details?: unknown[] } }).cause?.details ?? [];
  return ApplicationFailure.nonRetryable(failure.message, failure.type, ...details);
}

async function compensateAndClose(state: ReservationState, status: 'CANCELLED' | 'EXPIRED', failure: FailureSummary, created = true): Promise<void> {
  const { reservationId } = state.input;
  state.progress.failure = failure;
  await CancellationScope.nonCancellable(async () => {
    try {
      await state.saga.compensate();
    } catch (err) {
      const compensationFailure = failureOf(err);
      log.error('reservation compensation failed; operator needed', { reservationId, failureType: compensationFailure.type });
      if (created) {
        await mustComplete.closeReservation({ reservationId, status: 'COMPENSATION_FAILED', reason: FailureType.CompensationFailed, message: compensationFailure.message });
      }
      setStatus(state, 'COMPENSATION_FAILED');
      return;
    }
    if (created) await mustComplete.closeReservation({ reservationId, status, reason: failure.type, message: failure.message });
    setStatus(state, status);
  });
}

function holdOutcome(state: ReservationState, status: ReservationStatus, failure?: FailureSummary, unavailableSeatIds?: number[]): HoldOutcome {
  const outcome: HoldOutcome = {
    reservationId: state.input.reservationId,
    status,
    seatIds: state.input.seatIds,
    totalWon: state.totalWon,
    holdExpiresAt: state.progress.holdExpiresAt!,
    requestHash: state.input.requestHash,
  };
  if (failure) Object.assign(outcome, { reason: failure.type, message: failure.message });
  if (unavailableSeatIds) outcome.unavailableSeatIds = unavailableSeatIds;
  return outcome;
}

function reasonOf(type: string, message: string): FailureSummary {
  return { type, message };
}

function setStatus(state: ReservationState, status: ReservationStatus): void {
  state.progress.status = status;
  // A replayed hold request sees where the reservation is now.
  if (state.hold) state.hold.status = status;
  state.observer.status(status);
}
