/**
 * The seat reservation contract shared by the API, the workflow and the activities:
 * inputs, results, and the Update/Signal/Query definitions of `seatReservation`.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SagaProgress } from './saga.ts';

/** Business status of a reservation. PENDING (with HELD seats) is the saga's semantic lock. */
export type ReservationStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED' | 'COMPENSATION_FAILED';

/** Bounds of a hold, in seconds: per request `holdSeconds` must lie within them. */
export const MIN_HOLD_SECONDS = 1;
export const MAX_HOLD_SECONDS = 1800;

/**
 * Input of the `seatReservation` workflow.
 * - `seatIds`: distinct seat ids of performance `performanceId`, sorted ascending.
 * - `holdMs`: how long the seats stay held waiting for payment, in ms.
 * - `requestHash`: hex SHA-256 of the normalized request (Idempotency-Key reuse check).
 * - `queueTokenId`: the caller's ACTIVE queue token for the performance (common/queue.ts),
 *   re-checked by createReservation under its row lock; absent in sagas started before
 *   the waiting queue. The workflow passes it on unchanged, so it needs no version.
 */
export interface SeatReservationInput {
  reservationId: string;
  userId: number;
  performanceId: number;
  seatIds: number[];
  holdMs: number;
  requestHash: string;
  queueTokenId?: string;
}

/**
 * Answer of the `reservationHold` Update: whether the seats are held. `holdExpiresAt` is
 * an ISO-8601 instant; amounts in won.
 */
export interface HoldOutcome {
  reservationId: string;
  status: ReservationStatus;
  seatIds: number[];
  totalWon: number;
  holdExpiresAt: string;
  reason?: string;
  message?: string;
  /** Seats someone else holds or bought (SeatUnavailable). */
  unavailableSeatIds?: number[];
  requestHash: string;
}

/** Result of the `pay` Update: the reservation CONFIRMED and the points charged. */
export interface PaymentOutcome {
  reservationId: string;
  status: 'CONFIRMED';
  totalWon: number;
  paidPoints: number;
}

/** Result of the `seatReservation` workflow: the reservation's final status. */
export interface ReservationResult {
  reservationId: string;
  status: ReservationStatus;
}

/** Saga progress of a reservation, plus its hold expiry (ISO-8601). */
export type ReservationProgress = SagaProgress<ReservationStatus> & { holdExpiresAt: string | null };

/** Update: waits until the seats are held (or refused) and returns the outcome; sent with update-with-start. */
export const reservationHoldUpdate = defineUpdate<HoldOutcome>('reservationHold');

/**
 * Update: pays the reservation with points and confirms it. Its validator rejects
 * (before anything reaches history) a reservation that is not payable: `HoldExpired`,
 * `ReservationCancelled`, `AlreadyConfirmed`. A refused payment (`InsufficientPoints`)
 * fails the Update and keeps the hold. Concurrent calls share one payment.
 */
export const payReservationUpdate = defineUpdate<PaymentOutcome>('payReservation');

/**
 * Signal (legacy): the user cancels; the seats are released and the reservation ends
 * CANCELLED. It only sets a flag, so a payment already under way still confirms. The API
 * no longer sends it (it sends {@link reservationCancelUpdate}); the workflow keeps its
 * handler for the sagas and recorded histories that received it.
 */
export const cancelReservationSignal = defineSignal('cancelReservation');

/**
 * Update: the user cancels. Its validator refuses, before anything reaches history,
 * `PaymentInProgress` while a payment runs (its outcome decides: retry the cancellation
 * once it has failed) and `AlreadyConfirmed` once paid. Accepted, it stops any later
 * payment (the pay validator answers `ReservationCancelled`), and waits until the saga has
 * released the seats and closed the reservation; it returns the final status (CANCELLED,
 * EXPIRED when the hold had already expired, COMPENSATION_FAILED when a compensation
 * failed for good).
 */
export const reservationCancelUpdate = defineUpdate<ReservationResult>('reservationCancel');

/** Query: status, hold expiry and saga progress. */
export const reservationProgressQuery = defineQuery<ReservationProgress>('reservationProgress');

/**
 * Update (operator): re-runs the compensations of a reservation parked in
 * COMPENSATION_FAILED, after the cause was fixed, and returns its status (CANCELLED or
 * EXPIRED when they all succeed now, COMPENSATION_FAILED again otherwise). The same
 * Update as the order's `retryCompensations`; its validator rejects the call
 * (`NotCompensationFailed`) for a reservation that is not parked.
 */
export const retryReservationCompensationsUpdate = defineUpdate<ReservationResult>('retryCompensations');

/** Event type sent to the data platform for a confirmed reservation. */
export const RESERVATION_CONFIRMED_EVENT = 'reservation.confirmed';
