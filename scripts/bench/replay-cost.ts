/**
 * `node scripts/bench/replay-cost.ts <history.json> [<history.json> ...]`: the worker's CPU
 * cost of the workflow code of one saga shape, without a server, from recorded histories
 * (test/histories). Each history is replayed `--count` times (distinct workflow ids) in one
 * replay worker per round; the rounds alternate between the files (`--rounds`), so that a
 * change in the machine's other load hits all alike. Prints, per file, the median over the
 * rounds of CPU ms and wall ms per replayed saga, and the history's events and commands.
 *
 * Replay runs the same workflow code with the same activation jobs and commands as the
 * workflow task that made the history (local activities resolve from their markers), so the
 * difference between two shapes is what their commands and events cost the worker's
 * workflow thread and Rust core; it leaves out the gRPC of a live worker and all of the
 * server's work. Options: --count 200, --rounds 5.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/worker.ts';
import { summarize } from './stats.ts';

const { values, positionals } = parseArgs({
  options: { count: { type: 'string', default: '200' }, rounds: { type: 'string', default: '5' } },
  allowPositionals: true,
});
const count = Number(values.count);
Runtime.install({ logger: new DefaultLogger('ERROR') });
const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });

/** CPU and wall ms per replayed saga of `count` replays of `history`. */
async function replayCost(history: unknown): Promise<{ cpuMs: number; wallMs: number }> {
  async function* copies() {
    for (let i = 0; i < count; i++) yield { workflowId: `replay-${i}`, history };
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for await (const result of Worker.runReplayHistories({ workflowBundle }, copies())) {
    if (result.error) throw result.error;
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / count, wallMs: (performance.now() - t0) / count };
}

const histories = positionals.map((file) => ({ file, history: JSON.parse(readFileSync(file, 'utf8')) as { events: unknown[] } }));
const costs = new Map<string, { cpu: number[]; wall: number[] }>(histories.map((h) => [h.file, { cpu: [], wall: [] }]));
await replayCost(histories[0]!.history); // warm-up: the first replay worker pays for the bundle's load
for (let round = 0; round < Number(values.rounds); round++) {
  for (const { file, history } of histories) {
    const { cpuMs, wallMs } = await replayCost(history);
    costs.get(file)!.cpu.push(cpuMs);
    costs.get(file)!.wall.push(wallMs);
  }
}
console.log(`${count} replays per round, ${values.rounds} rounds; medians per saga\n`);
console.log('| history | events | CPU ms | wall ms | CPU ms per round |\n| --- | --- | --- | --- | --- |');
for (const { file, history } of histories) {
  const c = costs.get(file)!;
  const rounds = c.cpu.map((x) => x.toFixed(2)).join(', ');
  console.log(`| ${path.basename(file)} | ${history.events.length} | ${summarize(c.cpu).p50.toFixed(2)} | ${summarize(c.wall).p50.toFixed(2)} | ${rounds} |`);
}
