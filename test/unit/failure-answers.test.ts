/**
 * Every failure type (common/failures.ts) walked through every route's mapping from a
 * saga's failure to an HTTP answer (issue 12, finding 7): each one is answered with a
 * documented problem code at a status its problem type lists and its operation documents
 * in the OpenAPI document, and only failures of the service itself are 5xx.
 */
import { describe, it, expect } from '@jest/globals';
import { FailureType } from '../../common/failures.ts';
import { orderCancellationAnswer, type FailureAnswer } from '../../api/orders/failures.ts';
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
