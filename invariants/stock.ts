/**
 * Stock checks: each product's stock is conserved, and every live stock line belongs to
 * an order in the matching state.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { unexplainedStockLines, type UnexplainedStockLineRow } from '../db/orphans.ts';
import type { ResolvedScope } from './scope.ts';
import { rows, sql, within } from './sql.ts';
import { result, type CheckResult, type InvariantNote, type Violation } from './types.ts';

/** `stock-conservation`: initial stock = stock + RESERVED + COMMITTED units, per product. */
export async function stockConservation(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const found = await rows<{ id: number; initial_stock: number; stock: number; reserved: number; committed: number }>(
    em,
    sql`select p.id, p.initial_stock, p.stock,
               coalesce(sum(r.quantity) filter (where r.status = 'RESERVED'), 0)::int as reserved,
               coalesce(sum(r.quantity) filter (where r.status = 'COMMITTED'), 0)::int as committed
        from products p left join stock_reservations r on r.product_id = p.id
        where ${within('p.id', scope?.products, 'int')}
        group by p.id
        having p.initial_stock <> p.stock + coalesce(sum(r.quantity) filter (where r.status in ('RESERVED', 'COMMITTED')), 0)
        order by p.id`,
  );
  return result('stock-conservation', found.map((p) => ({
    check: 'stock-conservation',
    rule: 'initial stock = stock + reserved + sold',
    ids: { productId: p.id },
    expected: `initial_stock ${p.initial_stock}`,
    found: `${p.stock + p.reserved + p.committed} (stock ${p.stock} + reserved ${p.reserved} + committed ${p.committed})`,
  })));
}

/**
 * `stock-lines-match-orders`: a RESERVED line belongs to a PENDING order, a COMMITTED one
 * to a CONFIRMED order; RESERVED units of a COMPENSATION_FAILED order are a note.
 */
export async function stockLinesMatchOrders(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const found = await rows<UnexplainedStockLineRow>(
    em,
    unexplainedStockLines(sql`${within('o.id', scope?.orders, 'uuid')} or ${within('r.product_id', scope?.products, 'int')}`),
  );
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const line of found) {
    const ids = { orderId: line.order_id, productId: line.product_id };
    if (line.line_status === 'RESERVED' && line.order_status === 'COMPENSATION_FAILED') {
      notes.push({
        check: 'stock-lines-match-orders',
        kind: 'needs-operator',
        ids,
        detail: `${line.quantity} units still RESERVED by a COMPENSATION_FAILED order`,
      });
      continue;
    }
    const wanted = line.line_status === 'RESERVED' ? 'PENDING' : 'CONFIRMED';
    violations.push({
      check: 'stock-lines-match-orders',
      rule: `a ${line.line_status} stock line belongs to a ${wanted} order`,
      ids,
      expected: `order ${wanted}`,
      found: `order ${line.order_status} with ${line.quantity} units ${line.line_status}`,
    });
  }
  return result('stock-lines-match-orders', violations, notes);
}
