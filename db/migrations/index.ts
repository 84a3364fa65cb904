/** The committed migrations, in order. Add each new migration here. */
import { Migration20261121200510_initial } from './Migration20261121200510_initial.ts';
import { Migration20261121202251_seat_reservations } from './Migration20261121202251_seat_reservations.ts';
import { Migration20261121202944_product_initial_stock } from './Migration20261121202944_product_initial_stock.ts';
import { Migration20261123090000_list_keyset_indexes } from './Migration20261123090000_list_keyset_indexes.ts';
import { Migration20261204120000_money_bigint } from './Migration20261204120000_money_bigint.ts';
import { Migration20261204200000_coupons } from './Migration20261204200000_coupons.ts';
import { Migration20261204200100_payments } from './Migration20261204200100_payments.ts';
import { Migration20261205090000_queue_tokens } from './Migration20261205090000_queue_tokens.ts';
import { Migration20261205120000_outbox } from './Migration20261205120000_outbox.ts';
import { Migration20261205130000_product_sales } from './Migration20261205130000_product_sales.ts';
import { Migration20261205140000_ranking_watermark } from './Migration20261205140000_ranking_watermark.ts';
import { Migration20261205140100_outbox_repair_indexes } from './Migration20261205140100_outbox_repair_indexes.ts';

export const MIGRATIONS = [
  { name: 'Migration20261121200510_initial', class: Migration20261121200510_initial },
  { name: 'Migration20261121202251_seat_reservations', class: Migration20261121202251_seat_reservations },
  { name: 'Migration20261121202944_product_initial_stock', class: Migration20261121202944_product_initial_stock },
  { name: 'Migration20261123090000_list_keyset_indexes', class: Migration20261123090000_list_keyset_indexes },
  { name: 'Migration20261204120000_money_bigint', class: Migration20261204120000_money_bigint },
  { name: 'Migration20261204200000_coupons', class: Migration20261204200000_coupons },
  { name: 'Migration20261204200100_payments', class: Migration20261204200100_payments },
  { name: 'Migration20261205090000_queue_tokens', class: Migration20261205090000_queue_tokens },
  { name: 'Migration20261205120000_outbox', class: Migration20261205120000_outbox },
  { name: 'Migration20261205130000_product_sales', class: Migration20261205130000_product_sales },
  { name: 'Migration20261205140000_ranking_watermark', class: Migration20261205140000_ranking_watermark },
  { name: 'Migration20261205140100_outbox_repair_indexes', class: Migration20261205140100_outbox_repair_indexes },
];
