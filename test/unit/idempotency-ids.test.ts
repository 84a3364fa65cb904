/**
 * Saga ids derived from Idempotency-Keys (issue 13, item 4): keyed with the server secret,
 * scoped to the caller, shaped as RFC 9562 UUIDs version 8, and no longer the public uuid v5
 * anyone could compute; and the IDEMPOTENCY_SECRET settings that production must give.
 */
import { describe, it, expect } from '@jest/globals';
import { v5 as uuidv5 } from 'uuid';
import { z } from 'zod';
import { keyedUuid, orderIdFor, reservationIdFor, topUpIdFor } from '../../api/idempotency.ts';
import { sagaIdMessage } from '../../common/ids.ts';
import { loadConfig } from '../../config/index.ts';
import { DEV_IDEMPOTENCY_SECRET } from '../../config/env.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
/** The namespace of the ids before this change: uuid v5 of `<userId>:<key>` in it, computable by anyone. */
const OLD_NAMESPACE = 'ea0817c1-6f1b-4243-9fcb-fe68a6d81685';
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids derived from an Idempotency-Key', () => {
  it('are the same for the same user, key and secret', () => {
    expect(orderIdFor(SECRET, 7, 'demo-1')).toBe(orderIdFor(SECRET, 7, 'demo-1'));
    expect(reservationIdFor(SECRET, 7, 'demo-1')).toBe(reservationIdFor(SECRET, 7, 'demo-1'));
  });

  it('differ between two users with the same key', () => {
    expect(orderIdFor(SECRET, 1, 'demo-1')).not.toBe(orderIdFor(SECRET, 2, 'demo-1'));
    expect(reservationIdFor(SECRET, 1, 'demo-1')).not.toBe(reservationIdFor(SECRET, 2, 'demo-1'));
    expect(topUpIdFor(SECRET, 1, 'demo-1')).not.toBe(topUpIdFor(SECRET, 2, 'demo-1'));
  });

  it('cannot be confused by moving characters between the user id and the key', () => {
    expect(sagaIdMessage('order', 1, '2x')).not.toBe(sagaIdMessage('order', 12, 'x'));
    expect(orderIdFor(SECRET, 1, '2x')).not.toBe(orderIdFor(SECRET, 12, 'x'));
    expect(orderIdFor(SECRET, 1, '2:x')).not.toBe(orderIdFor(SECRET, 12, ':x'));
  });

  it('differ under another secret', () => {
    expect(orderIdFor(SECRET, 7, 'demo-1')).not.toBe(orderIdFor(`${SECRET}-rotated`, 7, 'demo-1'));
  });

  it('differ between an order, a reservation and a top-up with one key', () => {
    const ids = [orderIdFor(SECRET, 7, 'k'), reservationIdFor(SECRET, 7, 'k'), topUpIdFor(SECRET, 7, 'k')];
    expect(new Set(ids).size).toBe(3);
  });

  it('are no longer the uuid v5 of the user id and key in the public namespace', () => {
    expect(orderIdFor(SECRET, 1, 'demo-1')).not.toBe(uuidv5('1:demo-1', OLD_NAMESPACE));
    expect(orderIdFor(DEV_IDEMPOTENCY_SECRET, 1, 'demo-1')).not.toBe(uuidv5('1:demo-1', OLD_NAMESPACE));
    expect(reservationIdFor(SECRET, 1, 'demo-1')).not.toBe(uuidv5('reservation:1:demo-1', OLD_NAMESPACE));
  });

  it('are RFC 9562 UUIDs version 8 that the API accepts as ids', () => {
    const id = orderIdFor(SECRET, 1, 'demo-1');
    expect(id).toMatch(UUID_V8);
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(keyedUuid(SECRET, 'x')).toMatch(UUID_V8);
  });

  it('are random without a key', () => {
    const id = orderIdFor(SECRET, 1, undefined);
    expect(id).not.toBe(orderIdFor(SECRET, 1, undefined));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
  });
});

describe('IDEMPOTENCY_SECRET', () => {
  it('is required in production, and the development secret is refused there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/IDEMPOTENCY_SECRET: required when NODE_ENV is production/);
    expect(() => loadConfig({ NODE_ENV: 'production', IDEMPOTENCY_SECRET: DEV_IDEMPOTENCY_SECRET })).toThrow(/IDEMPOTENCY_SECRET/);
    expect(loadConfig({ NODE_ENV: 'production', IDEMPOTENCY_SECRET: SECRET }).idempotency).toEqual({ secret: SECRET, developmentDefault: false });
  });

  it('must be at least 32 characters', () => {
    expect(() => loadConfig({ IDEMPOTENCY_SECRET: 'x'.repeat(31) })).toThrow(/IDEMPOTENCY_SECRET: must be at least 32 characters/);
  });

  it('defaults to the public development secret outside production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).idempotency).toEqual({ secret: DEV_IDEMPOTENCY_SECRET, developmentDefault: true });
    expect(loadConfig({ NODE_ENV: 'test' }).idempotency.developmentDefault).toBe(true);
  });
});
