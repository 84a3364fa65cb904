/**
 * Each bounded context owns its tables: an activity file reads and writes only the tables
 * of its own context, and a fact from another context reaches it through the saga's
 * inputs and results (docs/architecture.md, "Bounded contexts and their tables").
 *
 * The check reads every activities/*.ts file, takes the SQL out of its string literals
 * (a literal is SQL when it starts with select, insert, update, delete or with), finds
 * the names of the application's tables in it (the tables of db/entities), and fails
 * when a function names a table of another context, unless the exceptions below allow
 * it. An exception that no longer matches anything fails too, so the list shrinks with
 * the code. Activities use raw SQL only: an activity importing db/entities would escape
 * this check, so that fails as well. A context file that imports another context's file
 * (a transaction spanning both through the owner's functions) fails too, unless listed.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ALL_ENTITIES } from '../../db/entities/index.ts';

const ACTIVITIES_DIR = path.resolve(import.meta.dirname, '../../activities');

/** Context -> its activity file and the tables it owns. */
const CONTEXTS: Record<string, { file: string; tables: string[] }> = {
  Inventory: { file: 'inventory.ts', tables: ['products', 'stock_reservations'] },
  Points: { file: 'points.ts', tables: ['point_accounts', 'point_ledger'] },
  Orders: { file: 'orders.ts', tables: ['orders', 'order_lines'] },
  Reservations: { file: 'seats.ts', tables: ['reservations', 'seats', 'queue_tokens'] },
  'Data platform': { file: 'data-platform.ts', tables: ['data_platform_deliveries'] },
  Coupons: { file: 'coupons.ts', tables: ['coupon_campaigns', 'coupons', 'coupon_redemptions'] },
  Payments: { file: 'payments.ts', tables: ['payments'] },
};

/** Tables no activity may name: written by the seed, read by the API. */
const NOT_OWNED_BY_ACTIVITIES: Record<string, string> = {
  app_users: 'Identity: users come from the seed; a saga knows its user by id',
  concerts: 'the concert catalog, read by the API',
  performances: 'the concert catalog, read by the API',
  queue_counters: "the waiting queue's per-performance counter: joins (the API) and admissions (the worker's driver) through db/queue.ts; a saga step only reads and ends its own token",
  product_sales_daily: "the Ranking read model: kept by the worker's ranking consumer of the outbox (db/ranking.ts), read by GET /products/popular; no saga step touches it",
  ranking_consumed_events: "the ranking consumer's record of the outbox events it counted (db/ranking.ts), written with product_sales_daily in one transaction",
  ranking_consumer_position: "the ranking consumer's position in the outbox (db/ranking.ts); no saga step touches it",
};

/** Activity files of no context: plumbing, naming no table at all. */
const SHARED_FILES = ['index.ts', 'tx.ts'];

/**
 * Activity files of no context that read across contexts and write nothing: the
 * reconciliation (activities/reconciliation.ts) finds orphaned sagas and stray effects with
 * the invariant checker's SQL (db/orphans.ts), and repairs only through the contexts' own
 * compensations, run by its workflow. Never goes: looking across contexts is its job.
 */
const READ_ONLY_READERS: Record<string, string> = { 'reconciliation.ts': '../db/orphans.ts' };

/**
 * The allowed crossings. `fn` is the innermost named function or method around the SQL
 * (an activity, or the helper it calls).
 */
interface Exception {
  file: string;
  fn: string;
  tables: string[];
  reason: string;
  /** When the exception can go; absent for the pivots, which cross contexts by design. */
  removeWhen?: string;
}

const PIVOT_REASON =
  'the pivot: checks every effect of the saga and makes them final in one transaction, so the saga never ends half confirmed (activities/pivots.ts)';

const EXCEPTIONS: Exception[] = [
  { file: 'pivots.ts', fn: 'confirmOrder', tables: ['orders', 'order_lines', 'stock_reservations', 'point_ledger'], reason: PIVOT_REASON },
  { file: 'pivots.ts', fn: 'confirmReservation', tables: ['reservations', 'seats', 'point_ledger'], reason: PIVOT_REASON },
  { file: 'pivots.ts', fn: 'expireQueueToken', tables: ['reservations', 'queue_tokens'], reason: PIVOT_REASON },
  {
    file: 'pivots.ts',
    fn: 'writeOutboxEvent',
    tables: ['data_platform_deliveries'],
    reason:
      "the transactional outbox: the pivot writes its saga's data-platform event into the outbox in the transaction that confirms, so a saga is CONFIRMED if and only if its event exists, and the relay delivers it (common/outbox.ts)",
  },
  {
    file: 'inventory.ts',
    fn: 'legacyOrderLines',
    tables: ['order_lines'],
    reason: 'LEGACY: a reserveStock/releaseStock input without `lines`, scheduled by a saga started before the saga passed them',
    removeWhen:
      'no orderCheckout workflow started before the deploy whose workflow passes `lines` to reserveStock and releaseStock is still running (then make `lines` required)',
  },
  {
    file: 'orders.ts',
    fn: 'createOrder',
    tables: ['products', 'point_accounts'],
    reason:
      "prices read at order time from Inventory's catalog; the user's existence from Points (the API checked both, a saga started directly through Temporal did not)",
    removeWhen: "a later change passes the API's quote (prices) and its user check through the saga input",
  },
  {
    file: 'orders.ts',
    fn: 'assertUserExists',
    tables: ['point_accounts'],
    reason: "createOrder's UnknownUser refusal, told apart when no price came back",
    removeWhen: 'createOrder no longer reads point_accounts',
  },
  {
    file: 'seats.ts',
    fn: 'createReservation',
    tables: ['point_accounts'],
    reason:
      'UnknownUser before anything is held, for a saga started without the API; without it such a saga would hold seats and fail only at payWithPoints',
    removeWhen: "the API's user check reaches the saga through its input",
  },
];

/**
 * The allowed imports of one context's activity file by another's: a transaction that
 * spans two contexts through the owner's own functions, so each table's SQL stays in its
 * owner's file (the SQL check above sees no crossing) and this list names the crossing.
 */
interface ImportException {
  file: string;
  imports: string;
  reason: string;
}

const IMPORT_EXCEPTIONS: ImportException[] = [
  {
    file: 'points.ts',
    imports: 'payments.ts',
    reason:
      "by design: the pay step (payWithPoints) and its refund (refundPoints) span Points and Payments. The saga's payment row and its ledger debit or credit commit in one transaction, so no payment is ever recorded without its money moved, nor money moved without its payment; the points are the POINTS method behind Payments' PaymentMethodHandler (activities/payments.ts), and the SQL of each table stays in its owner's file",
  },
];

const ALL_TABLES = ALL_ENTITIES.map((e) => e.meta.tableName);

function ownerOf(table: string): string | undefined {
  return Object.entries(CONTEXTS).find(([, c]) => c.tables.includes(table))?.[0];
}

/** One table named in the SQL of a function. */
interface TableUse {
  file: string;
  fn: string;
  table: string;
}

/** The innermost named function-like node around `node`: a function, a method, or a variable holding a function. */
function enclosingName(node: ts.Node): string {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name) return n.name.getText();
    if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && ts.isVariableDeclaration(n.parent)) return n.parent.name.getText();
    if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && ts.isPropertyAssignment(n.parent)) return n.parent.name.getText();
  }
  return '(module)';
}

/** The text of a string-like literal, `${…}` replaced by a placeholder; null for other nodes. */
function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => ` ? ${s.literal.text}`).join('');
  return null;
}

function tableUses(file: string, source: string): TableUse[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const uses: TableUse[] = [];
  const visit = (node: ts.Node) => {
    const text = literalText(node);
    if (text !== null && /^\s*(select|insert|update|delete|with)\b/i.test(text)) {
      for (const table of ALL_TABLES) {
        if (new RegExp(`(?<![\\w."])"?${table}"?(?![\\w"])`, 'i').test(text)) uses.push({ file, fn: enclosingName(node), table });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses;
}

function activityFiles(): { file: string; source: string }[] {
  return readdirSync(ACTIVITIES_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((file) => ({ file, source: readFileSync(path.join(ACTIVITIES_DIR, file), 'utf8') }));
}

function isAllowed(use: TableUse): boolean {
  const context = Object.values(CONTEXTS).find((c) => c.file === use.file);
  if (context?.tables.includes(use.table)) return true;
  return EXCEPTIONS.some((e) => e.file === use.file && e.fn === use.fn && e.tables.includes(use.table));
}

describe('each bounded context owns its tables', () => {
  const files = activityFiles();
  const uses = files.flatMap(({ file, source }) => tableUses(file, source));

  it('assigns every table of db/entities to exactly one context, or to none on purpose', () => {
    const assigned = [...Object.values(CONTEXTS).flatMap((c) => c.tables), ...Object.keys(NOT_OWNED_BY_ACTIVITIES)];
    expect([...assigned].sort()).toEqual([...ALL_TABLES].sort());
  });

  it('knows every activity file: a context file, the pivots, or plumbing', () => {
    const known = [...Object.values(CONTEXTS).map((c) => c.file), 'pivots.ts', ...SHARED_FILES, ...Object.keys(READ_ONLY_READERS)];
    expect(files.map((f) => f.file).filter((f) => !known.includes(f))).toEqual([]);
  });

  it('finds the SQL of every context file (the check reads what it should)', () => {
    for (const { file, tables } of Object.values(CONTEXTS)) {
      expect({ file, named: tables.filter((t) => uses.some((u) => u.file === file && u.table === t)) }).toEqual({ file, named: tables });
    }
  });

  it("names no other context's table in an activity file, except the listed exceptions", () => {
    const crossings = uses
      .filter((u) => !isAllowed(u))
      .map((u) => `${u.file} ${u.fn}() names ${u.table} (${ownerOf(u.table) ?? NOT_OWNED_BY_ACTIVITIES[u.table] ?? 'no owner'})`);
    expect(crossings).toEqual([]);
  });

  it('lists no exception that nothing needs any more', () => {
    const stale = EXCEPTIONS.flatMap((e) =>
      e.tables
        .filter((t) => !uses.some((u) => u.file === e.file && u.fn === e.fn && u.table === t))
        .map((t) => `${e.file} ${e.fn}() ${t}`),
    );
    expect(stale).toEqual([]);
  });

  it('lets the cross-context readers read only: no SQL of their own, and only selects in the queries they share with the checker', () => {
    for (const [file, queries] of Object.entries(READ_ONLY_READERS)) {
      expect({ file, tables: uses.filter((u) => u.file === file).map((u) => u.table) }).toEqual({ file, tables: [] });
      const source = readFileSync(path.join(ACTIVITIES_DIR, queries), 'utf8');
      const shared = tableUses(queries, source);
      expect(shared.length).toBeGreaterThan(0);
      const statements = [...source.matchAll(/`\s*(\w+)/g)].map((m) => m[1]!.toLowerCase()).filter((w) => /^(select|insert|update|delete|with|merge)$/.test(w));
      expect({ queries, statements: [...new Set(statements)] }).toEqual({ queries, statements: ['select'] });
    }
  });

  it("imports no other context's activity file in a context file, except the listed exceptions", () => {
    const contextFiles = Object.values(CONTEXTS).map((c) => c.file);
    const imports = files
      .filter(({ file }) => contextFiles.includes(file))
      .flatMap(({ file, source }) =>
        [...source.matchAll(/from '\.\/([\w-]+\.ts)'/g)].map((m) => ({ file, imports: m[1]! })).filter((i) => contextFiles.includes(i.imports)),
      );
    const listed = (i: { file: string; imports: string }) => IMPORT_EXCEPTIONS.some((e) => e.file === i.file && e.imports === i.imports);
    expect(imports.filter((i) => !listed(i)).map((i) => `${i.file} imports ${i.imports}`)).toEqual([]);
    const stale = IMPORT_EXCEPTIONS.filter((e) => !imports.some((i) => i.file === e.file && i.imports === e.imports));
    expect(stale.map((e) => `${e.file} imports ${e.imports}`)).toEqual([]);
  });

  it('reaches the database from activities through SQL only, never through db/entities', () => {
    const importing = files.filter(({ source }) => /from '\.\.\/db\/entities/.test(source)).map((f) => f.file);
    expect(importing).toEqual([]);
  });
});
