// One command for the whole benchmark: every selected system through every selected scenario,
// `--runs` times, systems interleaved within a run so that machine noise falls on all of them.
// Writes bench/results/<stamp>/results.json (every run, every step) and prints a summary; then
// `node bench/report.mjs` turns the newest results into BENCHMARKS.md and the chart.
//
//   node bench/run.mjs [--systems gateway,relay,socketio,centrifugo]
//                      [--scenarios idle,rooms,fanout,cross,c60k,bus] [--runs 3] [--quick]
//
// Centrifugo is a Go binary that bench/install-centrifugo.sh builds the first time (a few minutes).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { parseArgs } from 'node:util';
import { idleConnections, roomFanout, crossNodeLatency, concurrency, busIngest } from './lib/scenarios.mjs';
import { systems } from './lib/systems.mjs';
import { summarize } from './lib/summary.mjs';

const { values: args } = parseArgs({
  options: {
    systems: { type: 'string', default: 'gateway,relay,socketio,centrifugo' },
    scenarios: { type: 'string', default: 'idle,rooms,fanout,cross,c60k,bus' },
    runs: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
  },
});

// Deliveries/s. The gateway and the relay both passed 500k, the old top; the ladder now runs to
// 1.5M, past what two cores can receive in the driver alone, so each system stops at its own limit.
// A system that passes the top step would show it as its figure: read the steps in results.json.
const FANOUT_TARGETS = [
  5_000, 10_000, 20_000, 40_000, 60_000, 80_000, 100_000, 125_000, 150_000, 200_000, 250_000, 300_000, 400_000, 500_000,
  600_000, 700_000, 800_000, 1_000_000, 1_250_000, 1_500_000,
];
// Messages/s offered to the bus, in all.
const BUS_TARGETS = [1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000, 150_000];
const quick = args.quick;

/** Each scenario: a name in the results, and how to run it for one system. */
const scenarios = {
  idle: [
    ['idle10k', (s) => idleConnections(s, { count: quick ? 2_000 : 10_000 })],
    ['idle19500', (s) => idleConnections(s, { count: quick ? 4_000 : 19_500 })],
  ],
  rooms: [
    ['rooms10k', (s) => idleConnections(s, { count: quick ? 2_000 : 10_000, roomSize: 10 })],
  ],
  fanout: [
    ['fanout100', (s) => roomFanout(s, { roomSize: 100, targets: FANOUT_TARGETS, measureMs: quick ? 1500 : 3000 })],
    ['fanout1000', (s) => roomFanout(s, { roomSize: 1000, targets: FANOUT_TARGETS, measureMs: quick ? 1500 : 3000 })],
  ],
  cross: [
    ['crossNode', (s) => crossNodeLatency(s, { rates: [100, 1_000, 5_000], measureMs: quick ? 1500 : 3000 })],
  ],
  c60k: [
    ['concurrency60k', (s) => concurrency(s, {
      connections: quick ? 8_000 : 60_000, nodeCount: 4, roomSize: 100, measureMs: quick ? 5_000 : 20_000,
    })],
  ],
  bus: [
    ['busIngest', (s) => busIngest(s, {
      rooms: 1000, senders: 100, nodeCount: 2, targets: BUS_TARGETS, measureMs: quick ? 1500 : 3000, benchmarkRequests: quick ? 100_000 : 500_000,
    })],
  ],
};

const systemNames = args.systems.split(',');
for (const name of systemNames) if (!systems[name]) throw new Error(`unknown system ${name}`);
const selected = args.scenarios.split(',').flatMap((name) => {
  if (!scenarios[name]) throw new Error(`unknown scenario ${name}`);
  return scenarios[name];
});
const runCount = Number(args.runs);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = new URL(`./results/${stamp}/`, import.meta.url);
mkdirSync(outDir, { recursive: true });

const results = {
  startedAt: new Date().toISOString(),
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, kernel: release(), node: process.version },
  systems: Object.fromEntries(systemNames.map((n) => [n, systems[n].label])),
  runs: [],
};

function save() {
  results.summary = summarize(results);
  writeFileSync(new URL('results.json', outDir), JSON.stringify(results, null, 2));
}

for (let run = 0; run < runCount; run++) {
  const runResults = {};
  results.runs.push(runResults);
  for (const [scenarioName, runScenario] of selected) {
    for (const systemName of systemNames) {
      const started = Date.now();
      process.stdout.write(`[bench] run ${run + 1}/${runCount} ${scenarioName} ${systemName} ... `);
      try {
        (runResults[systemName] ??= {})[scenarioName] = await runScenario(systemName);
        console.log(`${((Date.now() - started) / 1000).toFixed(0)} s`);
      } catch (error) {
        (runResults[systemName] ??= {})[scenarioName] = { error: String(error?.message ?? error) };
        console.log(`failed: ${error?.message ?? error}`);
      }
      save();
    }
  }
}

for (const figure of results.summary) {
  const cells = systemNames.map((s) => {
    const f = figure.bySystem[s];
    return f ? `${s} ${f.median.toPrecision(4)} [${f.min.toPrecision(3)}..${f.max.toPrecision(3)}]` : `${s} -`;
  });
  if (Object.keys(figure.bySystem).length) console.log(`${figure.name} (${figure.unit}): ${cells.join(' | ')}`);
}
console.log(`[bench] wrote ${new URL('results.json', outDir).pathname}`);
