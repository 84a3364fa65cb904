/** Every entity of the application database, for the ORM configuration. */
export * from './catalog.ts';
export * from './orders.ts';
export * from './deliveries.ts';
import { AppUser, PointAccount, PointLedgerEntry, Product } from './catalog.ts';
import { DataPlatformDelivery } from './deliveries.ts';
import { Order, OrderLine, StockReservation } from './orders.ts';

export const ALL_ENTITIES = [
  Product,
  AppUser,
  PointAccount,
  PointLedgerEntry,
  Order,
  OrderLine,
  StockReservation,
  DataPlatformDelivery,
];
