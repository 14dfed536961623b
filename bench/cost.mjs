// What one message costs at a fixed rate, for A/B comparisons on a shared machine: CPU time per
// delivery (servers) and Redis CPU and Redis time per command per message hold still where latency
// and "the highest rate under a budget" swing with other tenants' load. One room, half its members
// on each of two nodes, one sender; --windows windows of --seconds each on one cluster, medians;
// systems interleaved over --runs runs (each run a fresh cluster).
//
//   node bench/cost.mjs [--systems gateway,relay] [--room 100] [--rate 300000] [--windows 5]
//                       [--seconds 2] [--runs 3]
//
// To compare two builds, run it in each checkout (it measures the checkout it sits in).
import { parseArgs } from 'node:util';
import { roomFanout } from './lib/scenarios.mjs';

const { values: args } = parseArgs({
  options: {
    systems: { type: 'string', default: 'gateway,relay' },
    room: { type: 'string', default: '100' },
    rate: { type: 'string', default: '300000' },
    windows: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
  },
});

const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
};

/** Per message: calls and microseconds of each Redis command the window saw. */
function commandsPerMessage(step) {
  return Object.fromEntries(step.redisTopCommands.map((c) => [c.name, { callsPerMessage: c.calls / step.sent, usPerMessage: c.usec / step.sent }]));
}

const roomSize = Number(args.room);
const byRun = [];
for (let run = 0; run < Number(args.runs); run++) {
  for (const system of args.systems.split(',')) {
    const { steps } = await roomFanout(system, {
      roomSize, targets: Array(Number(args.windows)).fill(Number(args.rate)), budgetsMs: [Infinity], measureMs: Number(args.seconds) * 1000,
    });
    const commands = steps.map(commandsPerMessage);
    const names = [...new Set(commands.flatMap((c) => Object.keys(c)))].filter((n) => n !== 'info');
    const result = {
      run: run + 1,
      system,
      sustained: steps.every((s) => s.sustained),
      serverCpuUsPerDelivery: median(steps.map((s) => s.serverCpuUsPerDelivery)),
      redisCpuUsPerMessage: median(steps.map((s) => (s.redisCpuMs * 1000) / s.sent)),
      redisCommandUsPerMessage: Object.fromEntries(names.map((n) => [n, Number(median(commands.map((c) => c[n]?.usPerMessage ?? 0)).toFixed(2))])),
      p99Ms: median(steps.map((s) => s.latencyMs.p99)),
    };
    byRun.push(result);
    console.log(JSON.stringify(result));
  }
}
for (const system of args.systems.split(',')) {
  const runs = byRun.filter((r) => r.system === system);
  const server = median(runs.map((r) => r.serverCpuUsPerDelivery));
  const redis = median(runs.map((r) => r.redisCpuUsPerMessage));
  console.log(`${system}: room ${roomSize} at ${args.rate} deliveries/s, medians of ${runs.length} runs: server CPU ${server?.toFixed(3)} µs per delivery, Redis CPU ${redis?.toFixed(1)} µs per message`);
}
