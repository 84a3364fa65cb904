/**
 * The seat reservation saga (`reservation-<reservationId>`), after docs/architecture.md:
 * createReservation -> holdSeats (all or none) -> wait on a durable timer for the `pay`
 * Update, the `reservationCancel` Update (or the legacy `cancel` Signal) or the hold's
 * expiry -> payWithPoints -> confirmReservation (the pivot: HELD -> RESERVED, PENDING ->
 * CONFIRMED, the `reservation.confirmed` event into the outbox). The saga ends after its
 * pivot; sagas started before the patch `outbox-after-pivot` (common/outbox.ts) run
 * notifyDataPlatform then.
 *
 * The timer is durable: if no worker runs when the hold expires, the next worker to pick
 * the workflow up fires it and releases the seats. A payment refused for insufficient
 * points, or failed for a reason that is not a business rejection (its retries ran out),
 * keeps the hold, so the user can pay again before it expires. A cancellation is refused
 * while a payment runs, so the answer to it is what happens.
 *
 * The reservation row is closed (`closeReservation`) whenever `createReservation` was
 * attempted, even if its result never reached the workflow (cancelled during the step, or
 * its reply lost after the retries ran out): the close is a no-op without a row. An
 * attempt that commits only after that close leaves a PENDING row whose workflow is
 * closed; the reconciliation workflow finds and closes such rows.
 */
import {
  ApplicationFailure, CancellationScope, allHandlersFinished, condition, isCancellation, proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { FailureType } from '../common/failures.ts';
import { confirmedEventId, SEAT_RESERVATION_WORKFLOW, stepKey } from '../common/ids.ts';
import {
  RESERVATION_CONFIRMED_EVENT, cancelReservationSignal, payReservationUpdate, reservationCancelUpdate, reservationHoldUpdate, reservationProgressQuery,
  retryReservationCompensationsUpdate, type HoldOutcome, type PaymentOutcome, type ReservationProgress, type ReservationResult,
  type ReservationStatus, type SeatReservationInput,
} from '../common/reservations.ts';
import { FORWARD_STEP_OPTIONS, MUST_COMPLETE_OPTIONS } from './activity-options.ts';
import { failureDetails, failureOf, type FailureSummary } from './failures.ts';
import { afterPivot, eventInOutbox } from './notify.ts';
import { paymentFailure } from './reservation-payment.ts';
import { SagaRun } from './saga-run.ts';

const steps = proxyActivities<Activities>(FORWARD_STEP_OPTIONS);
const mustComplete = proxyActivities<Activities>(MUST_COMPLETE_OPTIONS);
const CANCELLED_BY_USER: FailureSummary = { type: FailureType.ReservationCancelled, message: 'Cancelled by the user' };
const HOLD_EXPIRED: FailureSummary = { type: FailureType.HoldExpired, message: 'The hold expired before payment' };

/**
 * Patch id of parking for the operator's retry when a compensation fails for good. Sagas
 * recorded before it close COMPENSATION_FAILED and complete, as they did.
 */
export const RESERVATION_PARKING_PATCH = 'reservation-parks-on-compensation-failure';

/**
 * Patch id of closing the reservation row when `createReservation` failed or its result
 * never arrived (a no-op without a row). Sagas recorded before it close nothing then.
 */
export const RESERVATION_FIRST_STEP_CLOSE_PATCH = 'reservation-closes-without-create-result';

/**
 * Runs one seat reservation. Returns the final status: CONFIRMED, CANCELLED (refused
 * hold or user cancellation), EXPIRED, or COMPENSATION_FAILED (sagas from before parking).
 */
export async function seatReservation(input: SeatReservationInput): Promise<ReservationResult> {
  return new SeatReservation(input).run();
}

/** One seat reservation: its steps in {@link run} and in the pay Update, its state in the fields. */
class SeatReservation {
  readonly #input: SeatReservationInput;
  readonly #workflowId = workflowInfo().workflowId;
  readonly #holdExpiresAtMs: number;
  readonly #saga: SagaRun<ReservationProgress, ReservationResult>;
  #totalWon = 0;
  /** The answer of the hold Update, once the seats are held or refused. */
  #hold: HoldOutcome | undefined;
  #cancelled = false;
  #confirmed = false;
  /** The payment under way or done; concurrent pay Updates share it. */
  #payment: Promise<PaymentOutcome> | undefined;
  #paying = false;
  /** A failure after the hold that ends the saga (for example HoldExpired at confirmation). */
  #failure: FailureSummary | undefined;
  #closing = false;

  constructor(input: SeatReservationInput) {
    this.#input = input;
    this.#holdExpiresAtMs = Date.now() + input.holdMs;
    this.#saga = new SagaRun<ReservationProgress, ReservationResult>({
      workflowType: SEAT_RESERVATION_WORKFLOW,
      subject: 'reservation',
      logFields: { reservationId: input.reservationId },
      progress: { workflowId: this.#workflowId, status: 'PENDING', steps: [], compensations: [], notification: 'NOT_APPLICABLE',
        holdExpiresAt: new Date(this.#holdExpiresAtMs).toISOString() },
      // A replayed hold request sees where the reservation is now.
      onStatus: (status) => {
        if (this.#hold) this.#hold.status = status;
      },
      operatorRetry: { update: retryReservationCompensationsUpdate, answer: () => this.#result() },
    });
  }

  async run(): Promise<ReservationResult> {
    const { reservationId, userId, seatIds } = this.#input;
    const saga = this.#saga;
    // Recorded histories fix this order: search attributes, then the handlers (registering
    // the hold Update accepts the update-with-start request), then the status.
    saga.started({ reservationId, userId, holdExpiresAt: new Date(this.#holdExpiresAtMs) });
    setHandler(reservationProgressQuery, () => saga.progress);
    // Handlers wait in non-cancellable scopes: a cancelled saga still answers.
    setHandler(reservationHoldUpdate, async () => {
      await CancellationScope.nonCancellable(() => condition(() => this.#hold !== undefined));
      return this.#hold!;
    });
    // The legacy Signal stays for the sagas and recorded histories that received it.
    setHandler(cancelReservationSignal, () => {
      this.#cancelled = true;
    });
    setHandler(reservationCancelUpdate, () => this.#cancel(), { validator: () => this.#assertCancellable() });
    // Concurrent pay calls share one payment; a refused payment clears it so the user can retry.
    setHandler(payReservationUpdate, () => (this.#payment ??= this.#pay()), { validator: () => this.#assertPayable() });
    saga.setStatus('PENDING');
    // Decided at the start: a saga from before the outbox notifies, wherever it resumes.
    const outbox = eventInOutbox((id) => saga.hasPatch(id));

    let created = false;
    try {
      const reservation = await saga.step('createReservation', () =>
        steps.createReservation({ ...this.#input, holdExpiresAt: saga.progress.holdExpiresAt!, workflowId: this.#workflowId }),
      );
      created = true;
      this.#totalWon = reservation.totalWon;
      saga.addCompensation('releaseSeats', () => mustComplete.releaseSeats({ reservationId }));
      await saga.step('holdSeats', () => steps.holdSeats({ reservationId }));
    } catch (err) {
      const failure = failureOf(err);
      const details = failureDetails(err)[0] as { seatIds?: number[] } | undefined;
      this.#hold = this.#holdOutcome('CANCELLED', failure, details?.seatIds);
      // The row may exist although the step's result never arrived; sagas from before the patch close nothing then.
      await this.#compensateAndClose('CANCELLED', failure, created || saga.hasPatch(RESERVATION_FIRST_STEP_CLOSE_PATCH));
      await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
      return this.#result();
    }
    this.#hold = this.#holdOutcome('PENDING');

    // Wait for the pay Update, the cancel Update (or legacy Signal) or the hold's expiry (a durable timer); a workflow
    // cancellation (an operator) counts as the user's; a payment begun before the expiry may finish.
    try {
      await condition(() => this.#cancelled || this.#confirmed || this.#failure !== undefined, Math.max(0, this.#holdExpiresAtMs - Date.now()));
    } catch (err) {
      if (!isCancellation(err)) throw err;
      this.#cancelled = true;
    }
    await CancellationScope.nonCancellable(() => condition(() => !this.#paying));
    this.#closing = true;
    if (this.#confirmed) {
      // The relay delivers the event the pivot wrote: the progress says so with the status.
      if (outbox) saga.progress.notification = 'OUTBOX';
      saga.setStatus('CONFIRMED');
      await afterPivot(saga.progress, outbox, this.#workflowId, () => ({
        eventId: confirmedEventId(this.#workflowId),
        type: RESERVATION_CONFIRMED_EVENT,
        occurredAt: new Date().toISOString(),
        payload: { reservationId, userId, performanceId: this.#input.performanceId, seatIds, totalWon: this.#totalWon },
      }));
    } else {
      const failure = this.#failure ?? (this.#cancelled ? CANCELLED_BY_USER : HOLD_EXPIRED);
      await this.#compensateAndClose(failure.type === FailureType.HoldExpired ? 'EXPIRED' : 'CANCELLED', failure, true);
    }
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    return this.#result();
  }

  /** The pay Update: pays with points, then confirms (the pivot). */
  async #pay(): Promise<PaymentOutcome> {
    const { reservationId, userId } = this.#input;
    const saga = this.#saga;
    const workflowId = this.#workflowId;
    this.#paying = true;
    try {
      saga.addCompensationOnce('refundPoints', () =>
        mustComplete.refundPoints({ userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') }),
      );
      try {
        await saga.step('payWithPoints', () =>
          steps.payWithPoints({ userId, amountPoints: this.#totalWon, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') }),
        );
      } catch (err) {
        this.#payment = undefined;
        throw paymentFailure(
          err,
          (failure) => {
            this.#failure = failure;
          },
          (id) => saga.hasPatch(id),
        );
      }
      try {
        await saga.pivot('confirmReservation', () => mustComplete.confirmReservation({ reservationId }));
      } catch (err) {
        throw this.#asUpdateFailure(err);
      }
      this.#confirmed = true;
      return { reservationId, status: 'CONFIRMED', totalWon: this.#totalWon, paidPoints: this.#totalWon };
    } finally {
      this.#paying = false;
    }
  }

  /** The cancel Update, accepted: no payment runs; waits until the saga has closed the reservation. */
  async #cancel(): Promise<ReservationResult> {
    this.#cancelled = true;
    await CancellationScope.nonCancellable(() => condition(() => this.#saga.progress.status !== 'PENDING'));
    return this.#result();
  }

  /** Rejects a cancel Update before it reaches history while a payment runs or once paid. */
  #assertCancellable(): void {
    if (this.#confirmed) throw ApplicationFailure.nonRetryable('The reservation is already paid', FailureType.AlreadyConfirmed);
    if (this.#paying) {
      throw ApplicationFailure.nonRetryable('The reservation is being paid; cancel again if the payment fails', FailureType.PaymentInProgress);
    }
  }

  /**
   * Compensates and closes the reservation `status`. `closes` false (a saga from before
   * the first-step patch whose row was never seen) writes nothing.
   */
  #compensateAndClose(status: 'CANCELLED' | 'EXPIRED', failure: FailureSummary, closes: boolean): Promise<void> {
    const { reservationId } = this.#input;
    return this.#saga.compensateAndClose<typeof status>(failure, {
      status,
      ...(closes && { close: (s, f) => mustComplete.closeReservation({ reservationId, status: s, reason: f.type, message: f.message }) }),
      // Sagas recorded before parking existed end COMPENSATION_FAILED instead of parking.
      parks: () => this.#saga.hasPatch(RESERVATION_PARKING_PATCH),
    });
  }

  /** Rejects a pay Update before it reaches history when the reservation is not payable. */
  #assertPayable(): void {
    if (this.#confirmed) throw ApplicationFailure.nonRetryable('The reservation is already paid', FailureType.AlreadyConfirmed);
    if (this.#hold === undefined) throw ApplicationFailure.nonRetryable('The seats are not held yet', FailureType.SeatUnavailable);
    if (this.#hold.status !== 'PENDING' || this.#cancelled) {
      throw ApplicationFailure.nonRetryable('The reservation was cancelled', FailureType.ReservationCancelled);
    }
    if (this.#payment) return; // joins the payment under way
    if (this.#closing || Date.now() >= this.#holdExpiresAtMs || this.#failure) {
      throw ApplicationFailure.nonRetryable('The hold has expired', FailureType.HoldExpired);
    }
  }

  /** The pay Update's failure from the pivot's: it ends the saga. */
  #asUpdateFailure(err: unknown): ApplicationFailure {
    const failure = failureOf(err);
    this.#failure = failure;
    return ApplicationFailure.nonRetryable(failure.message, failure.type, ...failureDetails(err));
  }

  #holdOutcome(status: ReservationStatus, failure?: FailureSummary, unavailableSeatIds?: number[]): HoldOutcome {
    const { reservationId, seatIds, requestHash } = this.#input;
    const outcome: HoldOutcome = { reservationId, status, seatIds, totalWon: this.#totalWon, holdExpiresAt: this.#saga.progress.holdExpiresAt!, requestHash };
    if (failure) Object.assign(outcome, { reason: failure.type, message: failure.message });
    if (unavailableSeatIds) outcome.unavailableSeatIds = unavailableSeatIds;
    return outcome;
  }

  #result(): ReservationResult {
    return { reservationId: this.#input.reservationId, status: this.#saga.progress.status };
  }
}
