/**
 * What a waiting-queue run writes: results.json (everything) and results.md (the tables
 * printed at the end), in the run's folder; copies as `latest-queue.*` next to it.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DrainFigures, PhaseCpu, QueueBenchResults, StormFigures } from './queue-results.ts';
import type { QueueLatency } from './stats.ts';

const GROUP_ORDER = ['api', 'worker', 'temporal', 'postgres', 'data-platform', 'loadgen'];

function lat(l: QueueLatency): string {
  return `${l.p50} / ${l.p90} / ${l.p99} / ${l.max}`;
}

function counts(c: Record<string, number>): string {
  const entries = Object.entries(c);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k}: ${v}`).join(', ');
}

/** The CPU ms per unit summed over all process groups, and how many units/s that much CPU allows on this machine's cores. */
function cpuPerUnit(cpu: PhaseCpu, cores: number): string {
  const values = Object.values(cpu.perUnit);
  if (values.some((v) => v === null)) return 'n/a';
  const sum = values.reduce<number>((n, v) => n + (v ?? 0), 0);
  return `${sum.toFixed(2)} ms (${sum > 0 ? Math.round((cores * 1000) / sum) : 'n/a'}/s on ${cores} cores)`;
}

/** Rows: phases; columns: process groups, each cell `total ms (ms per unit of work)`. */
function cpuTable(phases: { name: string; cpu: PhaseCpu }[]): string[] {
  const groups = GROUP_ORDER.filter((g) => phases.some((p) => g in p.cpu.cpuMs));
  const out = [`| phase | wall s | per | ${groups.join(' | ')} |`, `|${' --- |'.repeat(3 + groups.length)}`];
  for (const p of phases) {
    const cell = (g: string) => (p.cpu.cpuMs[g] === null || p.cpu.cpuMs[g] === undefined ? 'n/a' : `${p.cpu.cpuMs[g]} (${p.cpu.perUnit[g] ?? 'n/a'})`);
    out.push(`| ${p.name} | ${p.cpu.wallS} | ${p.cpu.unit} | ${groups.map(cell).join(' | ')} |`);
  }
  return out;
}

function stormSection(s: StormFigures, cores: number): string[] {
  return [
    `## Join storm: ${s.users} users join performance ${s.performanceId} at ${s.rate}/s (open loop)`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| joins sent / answered 200-201 / unanswered | ${s.sent} / ${s.answered} / ${s.unanswered} |`,
    `| HTTP statuses | ${counts(s.httpStatuses)} |`,
    `| token status in the answers | ${counts(s.tokenStatuses)} |`,
    `| failures | ${counts(s.failures)} |`,
    `| HTTP latency from due, ms, p50 / p90 / p99 / max | ${lat(s.http)} |`,
    `| joins served per s (first due to last answer) | ${s.servedPerS} |`,
    `| CPU per join, all processes (the 2 cores' capacity at that cost) | ${cpuPerUnit(s.cpu, cores)} |`,
    `| FIFO: duplicate tickets / position inversions (WAITING answers) | ${s.fifo.duplicateTickets} / ${s.fifo.positionInversions} (${s.fifo.waitingAnswers}) |`,
    `| token table: tokens, statuses | ${s.table.tokens}, ${counts(s.table.statuses)} |`,
    `| token table: most ACTIVE at once / admissions out of ticket order | ${s.table.maxActive} / ${s.table.admissionOrderViolations} |`,
    '',
  ];
}

function drainSection(d: DrainFigures, cores: number): string[] {
  return [
    `## Drain: ${d.users} users join performance ${d.performanceId}, wait, hold one seat and pay`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| confirmed / failures | ${d.confirmed} / ${counts(d.failures)} |`,
    `| first join to last confirmation | ${d.wallS} s |`,
    `| tokens admitted into freed slots | ${d.admission.admittedPerS}/s over ${d.admission.windowS} s |`,
    `| reservations confirmed (saga throughput), same window | ${d.confirmedPerS}/s |`,
    `| admission latency (slot freed -> next admitted), ms, p50 / p90 / p99 / max | ${lat(d.admissionLatency)} (${d.admissionLatency.count} admissions; ${d.admissionsUncounted} first-fill or queue empty; ${d.negativeLatencies} negative) |`,
    `| admitted -> client reads ACTIVE, ms | ${lat(d.noticeMs)} |`,
    `| hold (POST /reservations), ms | ${lat(d.holdMs)} |`,
    `| pay (POST /reservations/:id/payment), ms | ${lat(d.payMs)} |`,
    `| hold + pay, ms | ${lat(d.holdPayMs)} |`,
    `| slot held (admitted -> paid), ms | ${lat(d.slotMs)} |`,
    `| CPU per confirmed reservation, all processes (the cores' capacity at that cost) | ${cpuPerUnit(d.cpu, cores)} |`,
    `| token reads (GET /queue/tokens/:id) | ${d.polls} (${d.pollsPerS}/s) |`,
    `| token table: most ACTIVE at once / admissions out of ticket order | ${d.table.maxActive} / ${d.table.admissionOrderViolations} |`,
    '',
  ];
}

/** The Markdown report of a waiting-queue run. */
export function queueMarkdown(r: QueueBenchResults): string {
  const out: string[] = [];
  out.push(`# Benchmark: waiting queue (cap ${String(r.settings.activeLimit)} ACTIVE per performance)`);
  out.push('');
  out.push(`Run ${r.startedAt} to ${r.finishedAt}, label \`${r.label}\`, database \`${String(r.settings.database)}\`.`);
  out.push(
    `Machine: ${r.machine.cpuModel}, ${r.machine.cpus} CPUs, ${r.machine.memoryGb} GB, ${r.machine.os}; Node ${r.machine.node}; ` +
      `${r.machine.postgres}; Temporal CLI ${r.machine.temporalCli}. Everything (load generator included) on this machine.`,
  );
  out.push(`Load average before the run: ${r.loadAvgBefore.map((v) => v.toFixed(2)).join(' / ')} (1/5/15 min).`);
  out.push('');
  if (r.storm) out.push(...stormSection(r.storm, r.machine.cpus));
  if (r.drain) out.push(...drainSection(r.drain, r.machine.cpus));
  const phases = [
    ...(r.storm ? [{ name: 'join storm', cpu: r.storm.cpu, diagnostics: r.storm.diagnostics }] : []),
    ...(r.drain ? [{ name: 'drain', cpu: r.drain.cpu, diagnostics: r.drain.diagnostics }] : []),
  ];
  if (phases.length > 0) {
    out.push('## CPU by process: ms over the phase (ms per unit of work)');
    out.push('');
    out.push(...cpuTable(phases));
    out.push('');
    out.push('PostgreSQL backends of the bench database, sampled every 50 ms (mean / most), and the load generator\'s event-loop delay:');
    out.push('');
    out.push('| phase | running | waiting on a lock | idle in a transaction | loadgen event-loop delay p50 / p99 / max, ms |');
    out.push('| --- | --- | --- | --- | --- |');
    for (const p of phases) {
      const { postgres: pg, loadgenEventLoopDelayMs: d } = p.diagnostics;
      out.push(`| ${p.name} | ${pg.activeMean} | ${pg.lockWaitMean} / ${pg.lockWaitMax} | ${pg.idleInTransactionMean} / ${pg.idleInTransactionMax} | ${d.p50} / ${d.p99} / ${d.max} |`);
    }
    out.push('');
  }
  if (r.targets.length > 0) {
    out.push('## Targets (issue 15)');
    out.push('');
    out.push('| target | measured | met |');
    out.push('| --- | --- | --- |');
    for (const t of r.targets) out.push(`| ${t.name} | ${t.value} | ${t.met === null ? 'n/a' : t.met ? 'yes' : 'no'} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Writes results.json and results.md into `dir` and copies them to `<out>/latest-queue.*`; returns the files written. */
export async function writeQueueReport(dir: string, out: string, r: QueueBenchResults): Promise<{ json: string; md: string }> {
  const files = { json: path.join(dir, 'results.json'), md: path.join(dir, 'results.md') };
  await writeFile(files.json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(files.md, queueMarkdown(r));
  await copyFile(files.json, path.join(out, 'latest-queue.json'));
  await copyFile(files.md, path.join(out, 'latest-queue.md'));
  return files;
}
