/**
 * What a benchmark run writes: results.json (everything), results.md (the tables) and
 * chart.svg (latency against throughput, drawn by hand: no chart library needed).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { breakdownMarkdown, type Breakdown } from './breakdown.ts';
import type { LevelResult } from './load.ts';
import type { Usage } from './proc.ts';

/** One measured level of one system, with the resources it used. */
export interface MeasuredLevel extends LevelResult {
  system: 'saga' | 'baseline';
  /** 1-minute load average when the level ended. */
  loadAvg1: number;
  usage: Usage;
  /** CPU ms per completed saga (or baseline order), by process group. */
  cpuMsPerOrder: Record<string, number | null>;
}

/** The machine a run measured. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryGb: number;
  os: string;
  node: string;
  postgres: string;
  temporalCli: string;
}

/** Everything a run found. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  label: string;
  machine: MachineInfo;
  /** Load average (1, 5, 15 min) before the run started. */
  loadAvgBefore: number[];
  settings: Record<string, unknown>;
  saga: MeasuredLevel[];
  baseline: MeasuredLevel[];
  /** Start-up of the saga stack: worker ready (first order confirmed) after spawn, in ms. */
  startup: Record<string, number>;
  /** Per-step timings of sampled sagas, from their workflow histories. */
  breakdowns: Breakdown[];
  /** Saga / baseline, at the best closed-loop throughput of each and at equal concurrency. */
  ratios: {
    bestThroughput: number | null;
    p50AtConcurrency: Record<string, number | null>;
    throughputAtConcurrency: Record<string, number | null>;
  };
  targets: { name: string; value: string; met: boolean | null }[];
}

const GROUP_ORDER = ['api', 'baseline', 'worker', 'temporal', 'postgres', 'postgres-temporal', 'data-platform', 'loadgen'];

function f(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? 'n/a' : v.toFixed(digits);
}

function levelName(l: LevelResult): string {
  return l.mode === 'closed' ? `${l.concurrency} clients` : `${l.targetRate}/s open`;
}

/** Which Temporal server the saga ran on (`settings.temporal`; runs from before the option ran on the dev server). */
export function temporalLine(r: Pick<BenchResults, 'settings'>): string {
  return r.settings.temporal === 'cluster'
    ? 'Temporal: the real server on PostgreSQL (`--temporal cluster`: all four services in one process, persistence and SQL visibility in two databases of the same PostgreSQL).'
    : 'Temporal: a dev server of its own (`temporal server start-dev`, SQLite file).';
}

/** The Markdown report. */
export function markdown(r: BenchResults): string {
  const out: string[] = [];
  out.push(`# Benchmark: order checkout saga vs single-transaction baseline${r.quick ? ' (quick)' : ''}`);
  out.push('');
  out.push(`Run ${r.startedAt} to ${r.finishedAt}, label \`${r.label}\`.`);
  out.push(
    `Machine: ${r.machine.cpuModel}, ${r.machine.cpus} CPUs, ${r.machine.memoryGb} GB, ${r.machine.os}; Node ${r.machine.node}; ` +
      `${r.machine.postgres}; Temporal CLI ${r.machine.temporalCli}. Everything (load generator included) on this machine.`,
  );
  out.push(temporalLine(r));
  out.push(`Load average before the run: ${r.loadAvgBefore.map((v) => v.toFixed(2)).join(' / ')} (1/5/15 min).`);
  out.push('');
  out.push('Orders have two lines; ~' + String(Math.round(Number(r.settings.failShare) * 100)) + '% fail on purpose (half insufficient points, half out of stock) and compensate.');
  if (Number(r.settings.couponShare ?? 0) > 0) {
    out.push(`~${Math.round(Number(r.settings.couponShare) * 100)}% use a coupon (the saga's coupon step; the baseline ignores \`couponId\` and charges the full price).`);
  }
  out.push('Latencies in ms. *HTTP*: until the POST /orders answer; *saga*: until the business outcome (CONFIRMED/CANCELLED; the answer itself unless it was a 202).');
  out.push(
    'CPU in ms per completed order, by process (postgres: the backends serving the bench database' +
      (r.settings.temporal === 'cluster' ? '; postgres-temporal: those serving the Temporal server\'s persistence and visibility databases).' : ').'),
  );
  out.push('');
  for (const system of ['saga', 'baseline'] as const) {
    const levels = r[system];
    if (levels.length === 0) continue;
    const groups = GROUP_ORDER.filter((g) => levels.some((l) => g in l.cpuMsPerOrder));
    out.push(`## ${system === 'saga' ? 'Saga (Temporal)' : 'Baseline (one PostgreSQL transaction)'}`);
    out.push('');
    out.push(
      `| load | orders/s | HTTP p50 / p95 / p99 / max | saga p50 / p95 / p99 / max | compensated | errors | 202s | ${groups.map((g) => `CPU ${g}`).join(' | ')} | peak RSS MB | load avg |`,
    );
    out.push(`|${' --- |'.repeat(9 + groups.length)}`);
    for (const l of levels) {
      const rss = Object.entries(l.usage)
        .filter(([, u]) => u.peakRssMb !== null)
        .map(([g, u]) => `${g} ${u.peakRssMb}`)
        .join(', ');
      out.push(
        `| ${levelName(l)} | ${f(l.throughput)} | ${l.http.p50} / ${l.http.p95} / ${l.http.p99} / ${l.http.max} | ` +
          `${l.saga.p50} / ${l.saga.p95} / ${l.saga.p99} / ${l.saga.max} | ${(l.compensatedShare * 100).toFixed(1)}% | ${l.errors} | ${l.pendingAnswers} | ` +
          `${groups.map((g) => f(l.cpuMsPerOrder[g], 2)).join(' | ')} | ${rss} | ${l.loadAvg1.toFixed(2)} |`,
      );
    }
    out.push('');
  }
  out.push('## Saga / baseline');
  out.push('');
  out.push(`- best closed-loop throughput: ${f(r.ratios.bestThroughput, 3)}`);
  for (const [c, v] of Object.entries(r.ratios.throughputAtConcurrency)) {
    out.push(`- at ${c} clients: throughput ${f(v, 3)}, p50 latency ${f(r.ratios.p50AtConcurrency[c], 2)}`);
  }
  out.push('');
  if (r.targets.length > 0) {
    out.push('## Targets');
    out.push('');
    out.push('| target | measured | met |');
    out.push('| --- | --- | --- |');
    for (const t of r.targets) out.push(`| ${t.name} | ${t.value} | ${t.met === null ? 'n/a' : t.met ? 'yes' : 'no'} |`);
    out.push('');
  }
  for (const b of r.breakdowns) out.push(breakdownMarkdown(b));
  out.push(`Start-up: ${Object.entries(r.startup).map(([k, v]) => `${k} ${v} ms`).join(', ')}.`);
  out.push('');
  out.push('![latency against throughput](chart.svg)');
  out.push('');
  return out.join('\n');
}

/** An SVG chart: saga-outcome latency (p50 solid, p99 dashed; log scale) against throughput. */
export function chart(r: BenchResults): string {
  const W = 760;
  const H = 440;
  const m = { left: 64, right: 190, top: 36, bottom: 52 };
  const series = [
    { name: 'saga, closed loop', color: '#1f77b4', pts: r.saga.filter((l) => l.mode === 'closed') },
    { name: 'saga, open loop', color: '#2ca02c', pts: r.saga.filter((l) => l.mode === 'open') },
    { name: 'baseline, closed loop', color: '#d62728', pts: r.baseline.filter((l) => l.mode === 'closed') },
    { name: 'baseline, open loop', color: '#ff7f0e', pts: r.baseline.filter((l) => l.mode === 'open') },
  ].filter((s) => s.pts.length > 0);
  const all = series.flatMap((s) => s.pts);
  const rates = all.map((l) => l.throughput).filter((v) => v > 0);
  const xMin = Math.pow(10, Math.floor(Math.log10(Math.max(0.1, Math.min(...rates, 10)))));
  const xMax = Math.pow(10, Math.ceil(Math.log10(Math.max(10, ...rates))));
  const lat = all.flatMap((l) => [l.saga.p50, l.saga.p99]).filter((v) => v > 0);
  const yMin = Math.pow(10, Math.floor(Math.log10(Math.max(0.1, Math.min(...lat, 1)))));
  const yMax = Math.pow(10, Math.ceil(Math.log10(Math.max(10, ...lat))));
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const x = (v: number) => m.left + ((Math.log10(Math.max(v, xMin)) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * pw;
  const y = (v: number) => m.top + ph - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const el: string[] = [];
  el.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  el.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">Order checkout: latency to outcome vs completed orders/s${r.quick ? ' (quick run)' : ''}</text>`);
  for (let d = xMin; d <= xMax; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > xMax) break;
      el.push(`<line x1="${x(v).toFixed(1)}" y1="${m.top}" x2="${x(v).toFixed(1)}" y2="${m.top + ph}" stroke="${k === 1 ? '#ddd' : '#f2f2f2'}"/>`);
      el.push(`<text x="${x(v).toFixed(1)}" y="${m.top + ph + 18}" font-size="11" text-anchor="middle">${v >= 1 ? v : v.toFixed(1)}</text>`);
    }
  }
  for (let d = yMin; d <= yMax; d *= 10) {
    el.push(`<line x1="${m.left}" y1="${y(d)}" x2="${m.left + pw}" y2="${y(d)}" stroke="#ddd"/>`);
    el.push(`<text x="${m.left - 6}" y="${y(d) + 4}" font-size="11" text-anchor="end">${d >= 1 ? d : d.toFixed(1)}</text>`);
  }
  el.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  el.push(`<text x="${m.left + pw / 2}" y="${H - 12}" font-size="12" text-anchor="middle">completed orders per second (log)</text>`);
  el.push(`<text x="16" y="${m.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">latency, ms (log)</text>`);
  series.forEach((s, i) => {
    const pts = [...s.pts].sort((a, b) => a.throughput - b.throughput);
    for (const [key, dash] of [['p50', ''], ['p99', '5,4']] as const) {
      const d = pts.map((l, j) => `${j === 0 ? 'M' : 'L'}${x(l.throughput).toFixed(1)},${y(l.saga[key]).toFixed(1)}`).join(' ');
      el.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/>`);
      for (const l of pts) {
        el.push(`<circle cx="${x(l.throughput).toFixed(1)}" cy="${y(l.saga[key]).toFixed(1)}" r="3" fill="${s.color}"><title>${s.name} ${levelName(l)}: ${l.throughput}/s, ${key} ${l.saga[key]} ms</title></circle>`);
      }
    }
    const ly = m.top + 10 + i * 20;
    el.push(`<line x1="${W - m.right + 12}" y1="${ly}" x2="${W - m.right + 36}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    el.push(`<text x="${W - m.right + 42}" y="${ly + 4}" font-size="11">${s.name}</text>`);
  });
  const ly = m.top + 10 + series.length * 20 + 6;
  el.push(`<text x="${W - m.right + 12}" y="${ly}" font-size="11">solid: p50, dashed: p99</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${el.join('\n')}\n</svg>\n`;
}

/** Writes results.json, results.md and chart.svg into `dir`. */
export async function writeReport(dir: string, r: BenchResults): Promise<{ json: string; md: string; svg: string }> {
  const files = { json: path.join(dir, 'results.json'), md: path.join(dir, 'results.md'), svg: path.join(dir, 'chart.svg') };
  await writeFile(files.json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(files.md, markdown(r));
  await writeFile(files.svg, chart(r));
  return files;
}
