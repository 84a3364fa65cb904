/** Every entity of the application database, for the ORM configuration. */
export * from './catalog.ts';
export * from './orders.ts';
export * from './deliveries.ts';
export * from './concerts.ts';
export * from './coupons.ts';
export * from './payments.ts';
export * from './queue.ts';
export * from './ranking.ts';
import { AppUser, PointAccount, PointLedgerEntry, Product } from './catalog.ts';
import { DataPlatformDelivery } from './deliveries.ts';
import { Concert, Performance, Reservation, Seat } from './concerts.ts';
import { Coupon, CouponCampaign, CouponRedemption } from './coupons.ts';
import { Order, OrderLine, StockReservation } from './orders.ts';
import { Payment } from './payments.ts';
import { QueueCounter, QueueToken } from './queue.ts';
import { ProductSalesDaily, RankingConsumedEvent, RankingConsumerPosition } from './ranking.ts';

export const ALL_ENTITIES = [
  Product,
  AppUser,
  PointAccount,
  PointLedgerEntry,
  Order,
  OrderLine,
  StockReservation,
  DataPlatformDelivery,
  Concert,
  Performance,
  Seat,
  Reservation,
  CouponCampaign,
  Coupon,
  CouponRedemption,
  Payment,
  QueueCounter,
  QueueToken,
  ProductSalesDaily,
  RankingConsumedEvent,
  RankingConsumerPosition,
];
