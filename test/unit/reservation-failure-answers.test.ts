/**
 * Every failure type a running reservation saga can refuse a payment or a cancellation
 * with maps to a truthful answer (api/reservations/failures.ts): a business rejection is
 * a 4xx with a code its operation documents, a failure of ours a 503 `SagaUnavailable`
 * with `Retry-After`, and only a type that route never gets (a bug of ours) a 500.
 */
import { describe, it, expect } from '@jest/globals';
import { FailureType } from '../../common/failures.ts';
import { cancelFailureAnswer, paymentFailureAnswer, refusalError } from '../../api/reservations/failures.ts';
import { isProblemCode, problemTypes } from '../../api/problem-types.ts';
import { openApiDocument } from '../../api/openapi/document.ts';

/** The problem codes operation `operationId` documents at `status`. */
function documentedCodes(operationId: string, status: number): string[] {
  for (const item of Object.values(openApiDocument().paths ?? {})) {
    for (const operation of Object.values(item as Record<string, any>)) {
      if (operation?.operationId === operationId) return operation.responses?.[String(status)]?.['x-problem-codes'] ?? [];
    }
  }
  throw new Error(`No operation ${operationId}`);
}

/** What each route may answer with a 4xx: the failure types its Update refuses or fails with. */
const REJECTIONS = {
  payReservation: {
    answer: paymentFailureAnswer,
    types: ['SeatUnavailable', 'UnknownUser', 'InsufficientPoints', 'HoldExpired', 'ReservationCancelled', 'Cancelled', 'AlreadyConfirmed', 'SagaAlreadyCompensated'],
  },
  cancelReservation: { answer: cancelFailureAnswer, types: ['PaymentInProgress', 'AlreadyConfirmed'] },
} as const;

describe.each(Object.entries(REJECTIONS))('%s', (operationId, { answer, types }) => {
  it.each(Object.values(FailureType))('answers %s with a documented code at a documented status, never a made-up 4xx', (type) => {
    const { status, code } = answer(type);
    expect(isProblemCode(code)).toBe(true);
    expect(problemTypes[code as keyof typeof problemTypes].statuses).toContain(status);
    expect(documentedCodes(operationId, status)).toContain(code);
    if (type === FailureType.UnexpectedError) expect(answer(type)).toEqual({ status: 503, code: 'SagaUnavailable', retryAfter: true });
    else if ((types as readonly string[]).includes(type)) expect([status >= 400 && status < 500, status]).toEqual([true, status]);
    else expect({ status, code }).toEqual({ status: 500, code: 'UnexpectedError' });
  });

  it('answers a type outside FailureType (an activity\'s own error name) as a failure of ours: 503 with Retry-After', () => {
    expect(answer('ConnectionLost')).toEqual({ status: 503, code: 'SagaUnavailable', retryAfter: true });
  });
});

describe('the refusals of the validators', () => {
  it('keep their own codes', () => {
    expect(cancelFailureAnswer(FailureType.PaymentInProgress)).toEqual({ status: 409, code: 'PaymentInProgress' });
    expect(paymentFailureAnswer(FailureType.ReservationCancelled)).toEqual({ status: 409, code: 'ReservationCancelled' });
    expect(paymentFailureAnswer(FailureType.Cancelled)).toEqual({ status: 409, code: 'ReservationCancelled' });
    expect(paymentFailureAnswer(FailureType.HoldExpired)).toEqual({ status: 410, code: 'HoldExpired' });
    expect(paymentFailureAnswer(FailureType.InsufficientPoints)).toEqual({ status: 402, code: 'InsufficientPoints' });
  });
});

describe('refusalError', () => {
  it('sends Retry-After with a 503 and Location with every answer', () => {
    const error = refusalError(paymentFailureAnswer('ConnectionLost'), 'ConnectionLost', 'r-1');
    expect([error.status, error.code, error.headers['Retry-After'], error.headers.Location]).toEqual([503, 'SagaUnavailable', '2', '/reservations/r-1']);
    const refused = refusalError(cancelFailureAnswer(FailureType.PaymentInProgress), FailureType.PaymentInProgress, 'r-1', { message: 'paying' });
    expect([refused.status, refused.code, refused.message, refused.headers['Retry-After']]).toEqual([409, 'PaymentInProgress', 'paying', undefined]);
  });
});
