/**
 * Generators of the order routes (api/orders/routes.ts): POST /orders, whose body defects
 * are in {@link orderBodies}, GET /orders/:id, and GET /users/:id/orders (a paged list,
 * see routes/lists.ts).
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import { jsonBodyFamilies } from '../families.ts';
import { notAnEntityId, pathFamilies } from '../paths.ts';
import { DEPTHS, deepArray, extraKey, neverValidValue, objectText, pastMax } from '../values.ts';
import { listEndpoint } from './lists.ts';

const item = (productId: string, quantity: string) => objectText([['productId', productId], ['quantity', quantity]]);
const order = (userId: string, items: string, extra: [string, string][] = []) => objectText([['userId', userId], ['items', items], ...extra]);

/** POST /orders: an order body with one defect, an order's envelope defects, a bad Idempotency-Key. */
function postOrders(kit: EndpointKit): EndpointGenerator {
  const { fx } = kit;
  const validItems = fc.constantFrom([fx.productA], [fx.productB], [fx.productA, fx.productB], [fx.productB, fx.productA]).map((ids) => ids.map((id) => item(String(id), '1')));
  const validOrder = validItems.map((items) => order(String(fx.userId), `[${items.join(',')}]`));
  const { families, validParts } = jsonBodyFamilies('/orders', orderBodies(kit, validItems, validOrder), validOrder);
  return kit.make('POST /orders', families, validParts, kit.others('POST'));
}

/** Order bodies with one defect, built on `validItems` (the text of each item) and `validOrder` (a whole body). */
function orderBodies(kit: EndpointKit, validItems: fc.Arbitrary<string[]>, validOrder: fc.Arbitrary<string>): fc.Arbitrary<{ text: string; defect: string }> {
  const { fx, absentText } = kit;
  return fc.oneof(
    fc.tuple(fc.oneof(neverValidValue, absentText, fc.constant(String(fx.userWithoutAccount))), validItems).map(([u, items]) => ({ text: order(u, `[${items.join(',')}]`), defect: `userId ${u.slice(0, 40)}` })),
    fc.tuple(validItems, fc.nat(), pastMax(1000)).map(([items, i, q]) => {
      const at = i % items.length;
      const bad = items.map((it, j) => (j === at ? item(String(JSON.parse(it).productId), q) : it));
      return { text: order(String(fx.userId), `[${bad.join(',')}]`), defect: `quantity ${q.slice(0, 40)}` };
    }),
    fc.tuple(validItems, fc.oneof(neverValidValue, absentText)).map(([items, p]) => ({ text: order(String(fx.userId), `[${[item(p, '1'), ...items].join(',')}]`), defect: `productId ${p.slice(0, 40)}` })),
    fc.constantFrom(fx.productA, fx.productB).map((p) => ({ text: order(String(fx.userId), `[${item(String(p), '1')},${item(String(p), '2')}]`), defect: 'duplicate productId' })),
    neverValidValue.map((v) => ({ text: order(String(fx.userId), v), defect: `items ${v.slice(0, 40)}` })),
    fc.constant({ text: order(String(fx.userId), `[${Array.from({ length: 51 }, (_, i) => item(String(i + 1), '1')).join(',')}]`), defect: '51 items' }),
    fc.tuple(validItems, fc.constantFrom('productId', 'quantity')).map(([items, drop]) => ({
      text: order(String(fx.userId), `[${objectText(drop === 'productId' ? [['quantity', '1']] : [['productId', String(fx.productA)]])},${items.slice(1).join(',')}]`.replace(',]', ']')),
      defect: `item without ${drop}`,
    })),
    fc.tuple(validItems, extraKey(['productId', 'quantity']), neverValidValue).map(([items, k, v]) => ({
      text: order(String(fx.userId), `[${objectText([['productId', String(fx.productA)], ['quantity', '1'], [k, v]])}${items.length > 1 ? ',' + items.filter((it) => JSON.parse(it).productId !== fx.productA).join(',') : ''}]`.replace(',]', ']')),
      defect: `unknown item field ${JSON.stringify(k)}`,
    })),
    fc.constantFrom(...DEPTHS).map((d) => ({ text: order(String(fx.userId), deepArray(d, item(String(fx.productA), '1'))), defect: `items nested ${d} deep` })),
    validItems.map((items) => ({ text: order(String(fx.userId), `[${items.map((it) => `[${it}]`).join(',')}]`), defect: 'items that are arrays' })),
    // No userId is no defect: the order is placed for the token's user.
    fc.constant({ text: objectText([['userId', String(fx.userId)]]), defect: 'no items' }),
    fc.tuple(validItems, extraKey(['userId', 'items', 'couponId']), fc.oneof(neverValidValue, fc.constant('1'))).map(([items, k, v]) => ({ text: order(String(fx.userId), `[${items.join(',')}]`, [[k, v]]), defect: `unknown field ${JSON.stringify(k)}` })),
    fc.tuple(validItems, fc.oneof(neverValidValue, fc.constantFrom('0', '-1', '1.5', '"1"', '2147483648', 'null'))).map(([items, c]) => ({ text: order(String(fx.userId), `[${items.join(',')}]`, [['couponId', c]]), defect: `couponId ${c.slice(0, 40)}` })),
    fc.tuple(validItems, neverValidValue).map(([items, v]) => ({ text: order(String(fx.userId), `[${items.join(',')}]`, [['userId', v]]), defect: 'duplicate userId key, the last bad' })),
    validOrder.map((text) => ({ text: `[${text}]`, defect: 'array body' })),
    fc.tuple(validOrder, fc.constantFrom(...DEPTHS)).map(([text, d]) => ({ text: deepArray(d, text), defect: `body nested ${d} deep` })),
    fc.constant({ text: '{}', defect: 'empty object' }),
  );
}

/**
 * GET /users/:id/orders: query defects on a user with or without a point account (both
 * are users); a bad id, or one of no user (404).
 */
function getUserOrders(kit: EndpointKit): EndpointGenerator {
  const { fx, absentText, noBody } = kit;
  const template = '/users/:id/orders';
  const validId = fc.constantFrom(fx.userId, fx.userWithoutAccount).map(String);
  return listEndpoint(kit, 'GET /users/:id/orders', 'orders', validId.map((id) => template.replace(':id', id)), pathFamilies('GET', template, validId, notAnEntityId, absentText, noBody));
}

/** The generators of POST /orders, GET /orders/:id and GET /users/:id/orders. */
export function orderEndpoints(kit: EndpointKit): { orders: EndpointGenerator; getOrder: EndpointGenerator; userOrders: EndpointGenerator } {
  return { orders: postOrders(kit), getOrder: kit.byUuid('GET /orders/:id', 'GET', '/orders/:id', kit.others('GET')), userOrders: getUserOrders(kit) };
}
