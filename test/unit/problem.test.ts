/**
 * Problem details (api/problem.ts, api/problem-types.ts): every code a client can receive is documented with a
 * title and a description, bodies have exactly the contract's members, and an extension
 * member can never overwrite a standard one.
 */
import { describe, expect, test } from '@jest/globals';
import { FailureType } from '../../common/index.ts';
import { ApiError, ErrorCode, ReservationErrorCode, validationError } from '../../api/errors.ts';
import {
  assertProblemExtensions,
  problemDetails,
  problemDetailsSchema,
  problemTypeUri,
  STANDARD_PROBLEM_MEMBERS,
} from '../../api/problem.ts';
import { problemTypes } from '../../api/problem-types.ts';
import { problemTypeDocument } from '../../api/problems/views.ts';

describe('problemTypes', () => {
  test('every code has a title, a description and statuses in 400..599', () => {
    for (const [code, type] of Object.entries(problemTypes)) {
      expect({ code, title: type.title.length > 0, description: type.description.length > 0 }).toEqual({
        code,
        title: true,
        description: true,
      });
      expect(type.statuses.length).toBeGreaterThan(0);
      for (const status of type.statuses) expect(status >= 400 && status <= 599).toBe(true);
    }
  });

  test('titles are distinct: a title names one problem type', () => {
    const titles = Object.values(problemTypes).map((type) => type.title);
    expect(new Set(titles).size).toBe(titles.length);
  });

  test('lists every ErrorCode, every reservation code and every failure type', () => {
    // Every FailureType can reach a client: as an order's cancellation reason (any step
    // failure), a reservation's, or the refusal of an operator retry.
    const codes = [...Object.values(ErrorCode), ...Object.values(ReservationErrorCode), ...Object.values(FailureType)];
    for (const code of codes) expect({ code, listed: Object.hasOwn(problemTypes, code) }).toEqual({ code, listed: true });
  });

  test('documents each code at its type URI', () => {
    expect(problemTypeUri('OutOfStock')).toBe('/problems/OutOfStock');
    expect(problemTypeDocument('InsufficientPoints')).toEqual({
      type: '/problems/InsufficientPoints',
      code: 'InsufficientPoints',
      title: 'Insufficient points',
      status: 402,
      statuses: [402, 422],
      description: expect.any(String),
    });
    expect(problemTypeDocument('NoSuchCode')).toBeUndefined();
    // Inherited properties are not codes.
    expect(problemTypeDocument('constructor')).toBeUndefined();
    expect(problemTypeDocument('__proto__')).toBeUndefined();
  });
});

describe('problemDetails', () => {
  test('has the standard members, then the extension members', () => {
    const body = problemDetails({
      status: 422,
      code: ErrorCode.UnknownProduct,
      detail: 'Unknown product ids: 7',
      instance: '/orders',
      requestId: 'req-1',
      extensions: { productIds: [7] },
    });
    expect(body).toEqual({
      type: '/problems/UnknownProduct',
      title: 'Unknown product',
      status: 422,
      detail: 'Unknown product ids: 7',
      instance: '/orders',
      code: 'UnknownProduct',
      requestId: 'req-1',
      productIds: [7],
    });
    expect(problemDetailsSchema.parse(body)).toEqual(body);
  });

  test('omits instance when the path is unknown; titles an unlisted code by the code', () => {
    const body = problemDetails({ status: 409, code: 'SomeNewReason', detail: 'd', requestId: 'r' });
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'requestId', 'status', 'title', 'type']);
    expect(body.title).toBe('SomeNewReason');
    expect(problemDetailsSchema.safeParse(body).success).toBe(true);
  });

  test('puts validation errors in the errors member', () => {
    const err = validationError([
      { path: 'items.0.quantity', message: 'Too small' },
      { path: '', message: 'Invalid input' },
    ]);
    const body = problemDetails({ status: err.status, code: err.code, detail: err.message, instance: '/orders', requestId: 'r', extensions: err.details });
    expect(body.errors).toEqual([
      { path: 'items.0.quantity', message: 'Too small' },
      { path: '', message: 'Invalid input' },
    ]);
    expect(body).toMatchObject({ type: '/problems/ValidationFailed', title: 'Validation failed', status: 400 });
    expect(problemDetailsSchema.parse(body)).toEqual(body);
  });

  test('refuses an extension member named like a standard member, at run time and by type', () => {
    for (const member of STANDARD_PROBLEM_MEMBERS) {
      const clash: Record<string, unknown> = { [member]: 'overwritten', other: 1 };
      expect(() => assertProblemExtensions(clash)).toThrow(TypeError);
      expect(() => new ApiError(409, 'X', 'm', { details: clash })).toThrow(`may not be named ${member}`);
      expect(() => problemDetails({ status: 409, code: 'X', detail: 'm', requestId: 'r', extensions: clash })).toThrow(TypeError);
    }
    // @ts-expect-error an object literal with a standard member's name does not compile
    expect(() => new ApiError(409, 'X', 'm', { details: { code: 'Y' } })).toThrow(TypeError);
    // @ts-expect-error requestId is a standard member too
    expect(() => problemDetails({ status: 409, code: 'X', detail: 'm', requestId: 'r', extensions: { requestId: 'forged' } })).toThrow(TypeError);
    expect(() => new ApiError(409, 'X', 'm', { details: { orderId: 'o' } })).not.toThrow();
  });
});
