/**
 * Error codes of the reservation routes, on top of the shared {@link ErrorCode}s, and the
 * HTTP status each reservation failure type is answered with.
 */
import { FailureType } from '../../common/index.ts';
import { ApiError, ErrorCode, type ProblemExtensions } from '../errors.ts';
import { reservationPath } from './request.ts';

/** Stable error codes specific to concerts and reservations. */
export const ReservationErrorCode = {
  /** 422: the performance of a reservation request does not exist; member `performanceId`. */
  UnknownPerformance: 'UnknownPerformance',
  /** 422: some seat ids do not exist or belong to another performance; member `seatIds` lists them. */
  UnknownSeat: FailureType.UnknownSeat,
  /** 409: a requested seat is held or sold; member `seatIds` lists them when known. */
  SeatUnavailable: FailureType.SeatUnavailable,
  /** 402: the balance is below the price; the hold is kept. Members `reservationId, userId, balancePoints, requiredPoints`. */
  InsufficientPoints: FailureType.InsufficientPoints,
  /** 410: the hold expired (the seats were released) before the reservation was paid. */
  HoldExpired: FailureType.HoldExpired,
  /** 409: the reservation was cancelled (by its user, or its hold was refused). */
  ReservationCancelled: FailureType.ReservationCancelled,
  /** 409: the reservation is already paid and confirmed. */
  AlreadyConfirmed: FailureType.AlreadyConfirmed,
} as const;

/**
 * Status of each failure type a reservation can end or be refused with; a type not
 * listed is answered 409.
 */
export const RESERVATION_FAILURE_STATUS: Readonly<Record<string, number>> = {
  [FailureType.SeatUnavailable]: 409,
  [FailureType.UnknownSeat]: 422,
  [FailureType.UnknownUser]: 422,
  [FailureType.InsufficientPoints]: 402,
  [FailureType.HoldExpired]: 410,
  [FailureType.ReservationCancelled]: 409,
  [FailureType.AlreadyConfirmed]: 409,
  [FailureType.CompensationFailed]: 409,
};

/** Default message of each failure type, when the saga gave none. */
const MESSAGES: Readonly<Record<string, string>> = {
  [FailureType.SeatUnavailable]: 'Some of the seats are held or sold',
  [FailureType.UnknownSeat]: 'Some seat ids do not belong to this performance',
  [FailureType.UnknownUser]: 'The user has no point account',
  [FailureType.InsufficientPoints]: 'The point balance is below the price; the seats stay held until the hold expires',
  [FailureType.HoldExpired]: 'The hold expired before the reservation was paid; the seats were released',
  [FailureType.ReservationCancelled]: 'The reservation was cancelled',
  [FailureType.AlreadyConfirmed]: 'The reservation is already paid and confirmed',
  [FailureType.CompensationFailed]: 'The reservation failed and could not be fully undone',
};

/**
 * The {@link ApiError} for a reservation failure of type `type` (its status from
 * {@link RESERVATION_FAILURE_STATUS}, the type as the code), with `Location` pointing at
 * the reservation; `reservationId` and `details` become extension members of the answer.
 */
export function reservationFailure(
  type: string,
  reservationId: string,
  options: { message?: string | null; details?: ProblemExtensions } = {},
): ApiError {
  const code = type === FailureType.CompensationFailed ? ErrorCode.CompensationFailed : type;
  return new ApiError(
    RESERVATION_FAILURE_STATUS[type] ?? 409,
    code,
    options.message ?? MESSAGES[type] ?? `The reservation failed: ${type}`,
    { details: { reservationId, ...options.details }, headers: { Location: reservationPath(reservationId) } },
  );
}
