/** Reservations bounded context: concerts, performances, seats and seat reservations. */
import { defineEntity, p } from '@mikro-orm/core';
import { AppUser } from './catalog.ts';

/** A concert (a tour or show) with several performances. */
export const Concert = defineEntity({
  name: 'Concert',
  tableName: 'concerts',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(200),
    artist: p.string().length(200),
    venue: p.string().length(200),
  },
});

/** One performance of a concert at `startsAt`. */
export const Performance = defineEntity({
  name: 'Performance',
  tableName: 'performances',
  properties: {
    id: p.integer().primary().autoincrement(),
    concert: () => p.manyToOne(Concert).index(),
    startsAt: p.datetime(),
  },
});

export const SEAT_STATUSES = ['AVAILABLE', 'HELD', 'RESERVED'] as const;

/**
 * A seat of one performance, priced in won. HELD is the reservation saga's semantic lock:
 * `reservationId` holds it until `holdExpiresAt`; RESERVED means sold to `reservationId`.
 * A seat whose hold has expired may be held by another reservation before the old hold
 * is released; releases only touch seats still held by their own reservation.
 */
export const Seat = defineEntity({
  name: 'Seat',
  tableName: 'seats',
  uniques: [{ name: 'seats_performance_label_unique', properties: ['performance', 'section', 'number'] }],
  checks: [
    {
      name: 'seats_holder_consistent',
      expression: "(status = 'AVAILABLE' and reservation_id is null and hold_expires_at is null) or (status = 'HELD' and reservation_id is not null and hold_expires_at is not null) or (status = 'RESERVED' and reservation_id is not null)",
    },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    performance: () => p.manyToOne(Performance).index(),
    section: p.string().length(20),
    number: p.integer(),
    priceWon: p.bigint('number'),
    status: p.enum(SEAT_STATUSES).index(),
    reservationId: p.uuid().nullable().index(),
    holdExpiresAt: p.datetime().nullable(),
  },
});

export const RESERVATION_STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED', 'COMPENSATION_FAILED'] as const;

/**
 * A seat reservation. `totalWon` is the sum of its seats' prices; `seatIds` the seats
 * requested (kept after release, for history). `seatsReleasedAt` is set by the release
 * compensation, after which a late hold attempt of this reservation is refused.
 */
export const Reservation = defineEntity({
  name: 'Reservation',
  tableName: 'reservations',
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(AppUser).index(),
    performance: () => p.manyToOne(Performance).index(),
    seatIds: p.json<number[]>(),
    status: p.enum(RESERVATION_STATUSES).index(),
    totalWon: p.bigint('number'),
    holdExpiresAt: p.datetime(),
    reason: p.string().length(64).nullable(),
    message: p.text().nullable(),
    workflowId: p.string().length(200).unique(),
    requestHash: p.string().length(64),
    seatsReleasedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
    confirmedAt: p.datetime().nullable(),
    /** The queue token that admitted the hold (null for reservations from before the queue); a token has at most one PENDING reservation. */
    queueTokenId: p.uuid().nullable(),
  },
});
