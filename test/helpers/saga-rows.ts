/**
 * Saga rows written by the real activities, step by step as the sagas run them, for the
 * invariant checker's tests: orders confirmed, cancelled (out of stock, unpaid) or
 * running; reservations held, confirmed or expired. The data platform is a fake that
 * records the event ids it receives. Also the checker's scoped call and report readers.
 */
import { expect } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Orm } from '../../db/orm.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import type { DataPlatformClient } from '../../activities/data-platform.ts';
import { confirmedEventId, orderWorkflowId, reservationWorkflowId, stepKey } from '../../common/ids.ts';
import {
  checkInvariants,
  formatInvariantReport,
  type CheckName,
  type InvariantOptions,
  type InvariantReport,
  type InvariantScope,
} from '../../invariants/index.ts';

/** An order created by {@link SagaRows.newOrder}; `totalWon` at 1,000 won a unit. */
export interface NewOrder {
  orderId: string;
  workflowId: string;
  userId: number;
  totalWon: number;
}

/** A reservation created by {@link SagaRows.heldReservation}. */
export interface NewReservation {
  reservationId: string;
  workflowId: string;
  userId: number;
  totalWon: number;
}

/** Writes saga rows through the activities on `orm`; the fake data platform records into `received`. */
export class SagaRows {
  readonly orm: Orm;
  readonly acts: Activities;
  /** Event ids the fake data platform received, in order. */
  readonly received: string[] = [];

  constructor(orm: Orm) {
    this.orm = orm;
    const dataPlatform: DataPlatformClient = {
      send: async (event) => {
        this.received.push(event.eventId);
        return { status: 201, duplicate: false };
      },
    };
    this.acts = createActivities({ orm, dataPlatform });
  }

  /** The received events, but for `except`, as the data platform lists them. */
  events(except: string[] = []) {
    return this.received.filter((id) => !except.includes(id)).map((eventId) => ({ eventId, attempts: 1 }));
  }

  /** Checks the invariants on `scope`, by default with every received event. */
  check(scope: InvariantScope, options: Omit<InvariantOptions, 'scope'> = { receivedEvents: this.events() }): Promise<InvariantReport> {
    return checkInvariants(this.orm, { ...options, scope });
  }

  /** Runs SQL behind the activities' back (to plant or undo a violation). */
  sql(query: string, params: unknown[] = []): Promise<unknown[]> {
    return this.orm.em.fork().execute(query, params as never[]);
  }

  /** Creates a PENDING order of `quantity` units of `productId` at 1,000 won each. */
  async newOrder(userId: number, productId: number, quantity: number): Promise<NewOrder> {
    const orderId = randomUUID();
    const workflowId = orderWorkflowId(orderId);
    const order = await this.acts.createOrder({ orderId, userId, workflowId, requestHash: 'h', items: [{ productId, quantity }] });
    return { orderId, workflowId, userId, totalWon: order.totalWon };
  }

  /** An order that reserved, paid, confirmed and notified. */
  async confirmedOrder(userId: number, productId: number, quantity: number): Promise<NewOrder> {
    const o = await this.newOrder(userId, productId, quantity);
    await this.acts.reserveStock({ orderId: o.orderId });
    await this.pay(o);
    await this.acts.confirmOrder({ orderId: o.orderId });
    await this.notify(o.workflowId);
    return o;
  }

  /** An order cancelled for OutOfStock: compensations ran as the saga runs them (release only). */
  async outOfStockOrder(userId: number, productId: number, quantity: number): Promise<NewOrder> {
    const o = await this.newOrder(userId, productId, quantity);
    expect(await isBusinessFailure(this.acts.reserveStock({ orderId: o.orderId }), 'OutOfStock')).toBe(true);
    await this.acts.releaseStock({ orderId: o.orderId });
    await this.acts.cancelOrder({ orderId: o.orderId, reason: 'OutOfStock', message: 'not enough stock' });
    return o;
  }

  /** An order cancelled for InsufficientPoints after its stock was reserved. */
  async unpaidOrder(userId: number, productId: number, quantity: number): Promise<NewOrder> {
    const o = await this.newOrder(userId, productId, quantity);
    await this.acts.reserveStock({ orderId: o.orderId });
    expect(await isBusinessFailure(this.pay(o), 'InsufficientPoints')).toBe(true);
    await this.refund(o);
    await this.acts.releaseStock({ orderId: o.orderId });
    await this.acts.cancelOrder({ orderId: o.orderId, reason: 'InsufficientPoints', message: 'balance too low' });
    return o;
  }

  /** Creates a reservation of `seatIds` and holds them for an hour. */
  async heldReservation(userId: number, performanceId: number, seatIds: number[]): Promise<NewReservation> {
    const reservationId = randomUUID();
    const workflowId = reservationWorkflowId(reservationId);
    const created = await this.acts.createReservation({
      reservationId,
      userId,
      performanceId,
      seatIds,
      holdExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      workflowId,
      requestHash: 'h',
    });
    await this.acts.holdSeats({ reservationId });
    return { reservationId, workflowId, userId, totalWon: created.totalWon };
  }

  /** A reservation that held, paid, confirmed and notified. */
  async confirmedReservation(userId: number, performanceId: number, seatIds: number[]): Promise<NewReservation> {
    const r = await this.heldReservation(userId, performanceId, seatIds);
    await this.pay(r);
    await this.acts.confirmReservation({ reservationId: r.reservationId });
    await this.notify(r.workflowId, 'reservation.confirmed');
    return r;
  }

  /** A reservation whose hold expired: refunded (nothing was paid), seats released, closed EXPIRED. */
  async expiredReservation(userId: number, performanceId: number, seatIds: number[]): Promise<NewReservation> {
    const r = await this.heldReservation(userId, performanceId, seatIds);
    await this.refund(r);
    await this.acts.releaseSeats({ reservationId: r.reservationId });
    await this.acts.closeReservation({ reservationId: r.reservationId, status: 'EXPIRED', reason: 'HoldExpired', message: 'hold expired' });
    return r;
  }

  private pay(saga: NewOrder | NewReservation) {
    const { userId, totalWon, workflowId } = saga;
    return this.acts.payWithPoints({ userId, amountPoints: totalWon, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
  }

  private refund(saga: NewOrder | NewReservation) {
    const { userId, workflowId } = saga;
    return this.acts.refundPoints({ userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') });
  }

  private async notify(workflowId: string, type = 'order.confirmed'): Promise<void> {
    await this.acts.notifyDataPlatform({
      sagaId: workflowId,
      event: { eventId: confirmedEventId(workflowId), type, occurredAt: new Date().toISOString(), payload: {} },
    });
  }
}

async function isBusinessFailure(promise: Promise<unknown>, type: string): Promise<boolean> {
  try {
    await promise;
    return false;
  } catch (err) {
    return err instanceof ApplicationFailure && err.type === type;
  }
}

/** The violations check `name` found. */
export function violationsOf(report: InvariantReport, name: CheckName) {
  return report.checks.find((c) => c.name === name)!.violations;
}

/** The notes check `name` left. */
export function notesOf(report: InvariantReport, name: CheckName) {
  return report.checks.find((c) => c.name === name)!.notes;
}

/** Fails with the formatted report unless every invariant holds. */
export async function expectOk(report: InvariantReport): Promise<void> {
  if (!report.ok) throw new Error(`invariants broken:\n${formatInvariantReport(report)}`);
}
