/** Rendering an {@link InvariantReport} as text for a terminal or a test failure. */
import type { CheckResult, InvariantIds, InvariantReport } from './types.ts';

/**
 * Renders a report as text, one line per check (✓/✗), then one indented line per
 * violation and note with its ids, expected and found values.
 */
export function formatInvariantReport(report: InvariantReport): string {
  const lines = report.checks.flatMap(formatCheck);
  const violations = report.checks.reduce((sum, c) => sum + c.violations.length, 0);
  lines.push(report.ok ? 'all invariants hold' : plural(violations, 'violation'));
  return lines.join('\n');
}

function formatCheck(check: CheckResult): string[] {
  const mark = check.passed ? '✓' : '✗';
  const tail = check.skipped
    ? ` (skipped: ${check.skipped})`
    : check.passed
      ? ''
      : ` (${plural(check.violations.length, 'violation')})`;
  return [
    `${mark} ${check.name}${tail}`,
    ...check.violations.map((v) => `    ✗ ${formatIds(v.ids)}: ${v.rule}; expected ${v.expected}, found ${v.found}`),
    ...check.notes.map((n) => `    ! ${n.kind} ${formatIds(n.ids)}: ${n.detail}`),
  ];
}

/** `n` and `noun`, with an `s` unless `n` is 1: "1 attempt", "2 attempts". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function formatIds(ids: InvariantIds): string {
  return Object.entries(ids)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : v}`)
    .join(' ');
}
