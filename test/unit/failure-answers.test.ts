/**
 * Every failure type (common/failures.ts) walked through every route's mapping from a
 * saga's failure to an HTTP answer (issue 12, finding 7): each one is answered with a
 * documented problem code at a status its problem type lists and its operation documents
 * in the OpenAPI document, and only failures of the service itself are 5xx. A type the
 * route never gets is a bug of ours (500); a failure of ours while a reservation saga
 * still runs (its hold kept) is 503 `SagaUnavailable`, since paying again may succeed.
 */
import { describe, it, expect } from '@jest/globals';
import { FailureType } from '../../common/failures.ts';
import { orderCancellationAnswer, type FailureAnswer } from '../../api/orders/failures.ts';
import { cancelFailureAnswer, holdFailureAnswer, paymentFailureAnswer, refusalError } from '../../api/reservations/failures.ts';
import { openApiDocument } from '../../api/openapi/document.ts';
import { isProblemCode, problemTypes } from '../../api/problem-types.ts';

/** Failure types that are failures of the service, not of the request: never a 4xx. */
const SERVICE_FAILURES = new Set<string>([
  FailureType.UnexpectedError,
  FailureType.DataException,
  FailureType.IntegrityConstraintViolation,
  FailureType.CompensationFailed,
]);

/** The problem codes operation `operationId` documents at `status` (`x-problem-codes`). */
function documentedCodes(operationId: string, status: number): string[] {
  for (const item of Object.values(openApiDocument().paths ?? {})) {
    for (const operation of Object.values(item as Record<string, any>)) {
      if (operation?.operationId !== operationId) continue;
      return operation.responses?.[String(status)]?.['x-problem-codes'] ?? [];
    }
  }
  throw new Error(`No operation ${operationId}`);
}

/** One route's mapping: the operation it answers and the answer for a failure type. */
interface Mapping {
  operationId: string;
  answer: (type: FailureType) => FailureAnswer;
}

const MAPPINGS: Record<string, Mapping> = {
  'POST /orders (a cancelled order)': { operationId: 'createOrder', answer: orderCancellationAnswer },
  'POST /reservations (a refused hold)': { operationId: 'createReservation', answer: holdFailureAnswer },
  'POST /reservations/:id/payment (a refused or failed payment)': { operationId: 'payReservation', answer: paymentFailureAnswer },
  'DELETE /reservations/:id (a refused cancellation)': { operationId: 'cancelReservation', answer: cancelFailureAnswer },
};

const ALL_TYPES = Object.values(FailureType);

describe.each(Object.entries(MAPPINGS))('%s', (_name, { operationId, answer }) => {
  it.each(ALL_TYPES)('answers %s with a documented code and status', (type) => {
    const { status, code } = answer(type);

    expect(isProblemCode(code)).toBe(true);
    expect(problemTypes[code as keyof typeof problemTypes].statuses).toContain(status);
    expect(documentedCodes(operationId, status)).toContain(code);
    if (SERVICE_FAILURES.has(type)) expect(status).toBeGreaterThanOrEqual(500);
  });
});

describe('orderCancellationAnswer', () => {
  it('answers a business rejection 4xx with its own type as the code', () => {
    expect(orderCancellationAnswer(FailureType.OutOfStock)).toEqual({ status: 409, code: 'OutOfStock' });
    expect(orderCancellationAnswer(FailureType.InsufficientPoints)).toEqual({ status: 422, code: 'InsufficientPoints' });
  });

  it('answers a failure of ours, or a reason no route knows, 500 UnexpectedError', () => {
    expect(orderCancellationAnswer(FailureType.UnexpectedError)).toEqual({ status: 500, code: 'UnexpectedError' });
    expect(orderCancellationAnswer('InjectedFailure')).toEqual({ status: 500, code: 'UnexpectedError' });
  });

  it('answers an order cancelled without a reason 409 OrderCancelled', () => {
    expect(orderCancellationAnswer(null)).toEqual({ status: 409, code: 'OrderCancelled' });
  });
});

describe('the reservation refusals', () => {
  /** The failure types each reservation route answers with a 4xx: what its Update refuses or fails with. */
  const REJECTIONS = {
    pay: {
      answer: paymentFailureAnswer,
      types: ['SeatUnavailable', 'UnknownUser', 'InsufficientPoints', 'HoldExpired', 'ReservationCancelled', 'Cancelled', 'AlreadyConfirmed', 'SagaAlreadyCompensated'],
    },
    cancel: { answer: cancelFailureAnswer, types: ['PaymentInProgress', 'AlreadyConfirmed'] },
  } as const;

  describe.each(Object.entries(REJECTIONS))('%s', (_route, { answer, types }) => {
    it.each(ALL_TYPES)('answers %s as a rejection only when the route can get it', (type) => {
      const { status, code } = answer(type);
      if (type === FailureType.UnexpectedError) expect(answer(type)).toEqual({ status: 503, code: 'SagaUnavailable', retryAfter: true });
      else if ((types as readonly string[]).includes(type)) expect(status >= 400 && status < 500).toBe(true);
      else expect({ status, code }).toEqual({ status: 500, code: 'UnexpectedError' });
    });

    it("answers a type outside FailureType (an activity's own error name) as a failure of ours: 503 with Retry-After", () => {
      expect(answer('ConnectionLost')).toEqual({ status: 503, code: 'SagaUnavailable', retryAfter: true });
    });
  });

  it('keep the validators\' own codes', () => {
    expect(cancelFailureAnswer(FailureType.PaymentInProgress)).toEqual({ status: 409, code: 'PaymentInProgress' });
    expect(paymentFailureAnswer(FailureType.ReservationCancelled)).toEqual({ status: 409, code: 'ReservationCancelled' });
    expect(paymentFailureAnswer(FailureType.Cancelled)).toEqual({ status: 409, code: 'ReservationCancelled' });
    expect(paymentFailureAnswer(FailureType.HoldExpired)).toEqual({ status: 410, code: 'HoldExpired' });
    expect(paymentFailureAnswer(FailureType.InsufficientPoints)).toEqual({ status: 402, code: 'InsufficientPoints' });
  });

  it('send Retry-After with a 503 and Location with every answer (refusalError)', () => {
    const error = refusalError(paymentFailureAnswer('ConnectionLost'), 'ConnectionLost', 'r-1');
    expect([error.status, error.code, error.headers['Retry-After'], error.headers.Location]).toEqual([503, 'SagaUnavailable', '2', '/reservations/r-1']);
    const refused = refusalError(cancelFailureAnswer(FailureType.PaymentInProgress), FailureType.PaymentInProgress, 'r-1', { message: 'paying' });
    expect([refused.status, refused.code, refused.message, refused.headers['Retry-After']]).toEqual([409, 'PaymentInProgress', 'paying', undefined]);
  });
});
