/** The workflows the worker registers. Function names are persisted workflow types. */
export { orderCheckout } from './order-checkout.ts';
export { topUpPoints } from './points-top-up.ts';
export { reconcileSagas } from './reconciliation.ts';
export { seatReservation } from './seat-reservation.ts';
