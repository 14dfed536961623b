// What chat semantics cost at scale (issue: typing, reactions, presence). One room of --members
// members spread over two gateways and --threads driver threads (bench/lib/chat-members.mjs):
//
// - typing: --typists members send `typing` every 300 ms and a stop every 5 s, once with the
//   server's throttle at its default (TYPING_INTERVAL_MS=2000) and once at 500 ms: typing frames
//   relayed by the gateways (chat_typing_total) and received by the members per second, Redis
//   commands and CPU, gateway CPU per relayed signal, delivery latency.
// - reactions: --reactors members toggle reactions on the room's last 20 messages, --reaction-rate
//   a second each, waiting for each ack: reactions stored and reaction events delivered per second,
//   Redis commands and CPU per reaction, ack latency.
// - presence: bench/presence.mjs's fill of one room (lib/presence-fill.mjs), per-user presence then
//   counts only, at --presence-members (10,000 is the figure: minutes per run, see
//   BENCHMARKS.md).
//
//   npm run bench:chat -- [--bus single|cluster] [--members 1000] [--typists 50] [--reactors 50]
//                         [--reaction-rate 5] [--seconds 20] [--runs 3] [--threads 2]
//                         [--scenarios typing,reactions,presence] [--presence-members 3000]
//
// Figures are medians of --runs runs, each on a fresh Redis (or Redis Cluster of 3 masters) and two
// fresh gateways, all on loopback. Two shared cores run everything here: read the costs per signal
// and per reaction, and the ratios between settings, rather than the rates.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { startGateway } from '@chat/testkit';
import { Histogram } from './lib/histogram.mjs';
import { commandsPer, median, perMasterDelta, snapshot, startBus } from './lib/redis-bus.mjs';
import { cpuMs } from './lib/systems.mjs';
import { fill, PRESENCE_MODES } from './lib/presence-fill.mjs';

const { values: args } = parseArgs({
  options: {
    bus: { type: 'string', default: 'single' },
    members: { type: 'string', default: '1000' },
    typists: { type: 'string', default: '50' },
    reactors: { type: 'string', default: '50' },
    'reaction-rate': { type: 'string', default: '5' },
    seconds: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    scenarios: { type: 'string', default: 'typing,reactions,presence' },
    'typing-intervals': { type: 'string', default: '2000,500' },
    'presence-members': { type: 'string', default: '3000' },
    'presence-rate': { type: 'string', default: '250' },
  },
});
const ROOM = 'town-hall';
const TYPING_EVERY_MS = 300;
const TYPING_STOP_EVERY_MS = 5000;
const TARGETS = 20;
const SETTLE_MS = 1000;
const IDLE_MS = 3000;
const members = positive('members', { integer: true });
const typists = positive('typists', { integer: true });
const reactors = positive('reactors', { integer: true });
const reactionRate = positive('reaction-rate');
const seconds = positive('seconds');
const runCount = positive('runs', { integer: true });
const threadCount = positive('threads', { integer: true });
const presenceMembers = positive('presence-members', { integer: true });
const presenceRate = positive('presence-rate');
const typingIntervals = args['typing-intervals'].split(',').map(Number);
const scenarios = args.scenarios.split(',');
if (typists > members || reactors > members) fail('--typists and --reactors must not exceed --members');
if (!['single', 'cluster'].includes(args.bus)) fail(`unknown --bus "${args.bus}": single or cluster`);
if (!typingIntervals.every((ms) => Number.isInteger(ms) && ms >= 100 && ms <= 60_000)) fail(`--typing-intervals must be TYPING_INTERVAL_MS values (100 to 60000), not "${args['typing-intervals']}"`);
for (const s of scenarios) if (!['typing', 'reactions', 'presence'].includes(s)) fail(`unknown scenario "${s}": typing, reactions or presence`);

function positive(name, { integer = false } = {}) {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) fail(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not "${args[name]}"`);
  return value;
}

function fail(message) {
  process.stderr.write(`bench/chat-costs.mjs: ${message}\n`);
  process.exit(1);
}

/** `count` members numbered so they spread evenly over the room (so over the threads and gateways). */
const spread = (count) => Array.from({ length: count }, (_, i) => Math.floor((i * members) / count));

/** The driver threads, each holding a contiguous share of the members. */
function startThreads(urls) {
  const sentAt = new SharedArrayBuffer(members * Float64Array.BYTES_PER_ELEMENT);
  const share = Math.ceil(members / threadCount);
  return Array.from({ length: threadCount }, (_, t) => {
    const worker = new Worker(new URL('./lib/chat-members.mjs', import.meta.url), {
      workerData: { urls, first: t * share, count: Math.max(0, Math.min(share, members - t * share)), room: ROOM, sentAt },
    });
    const pending = new Map();
    let nextId = 0;
    worker.on('message', ({ id, ok, result, error }) => {
      const p = pending.get(id);
      pending.delete(id);
      ok ? p.resolve(result) : p.reject(new Error(`driver thread ${t}: ${error}`));
    });
    worker.on('error', (error) => { for (const p of pending.values()) p.reject(error); pending.clear(); });
    return {
      first: t * share,
      call: (cmd, a = {}) => new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, cmd, args: a });
      }),
      stop: () => worker.terminate(),
    };
  });
}

/** A counter summed over the gateways' /metrics. */
async function counter(gateways, name) {
  let sum = 0;
  for (const g of gateways) {
    const text = await (await fetch(`${g.url}/metrics`)).text();
    for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'gm'))) sum += Number(match[1]);
  }
  return sum;
}

/** Counters of the gateways, their CPU and Redis's, read at the start and end of a window. */
async function measure(gateways, masters, metric) {
  return { at: Date.now(), metric: await counter(gateways, metric), cpuMs: gateways.map((g) => cpuMs(g.pid)), redis: await snapshot(masters) };
}

async function merged(threads) {
  const reports = await Promise.all(threads.map((t) => t.call('report')));
  const typingLatency = new Histogram();
  const ackLatency = new Histogram();
  const sum = { typingFrames: 0, reactionFrames: 0, acked: 0, unchanged: 0, refused: 0, firstRefusal: null };
  for (const r of reports) {
    typingLatency.merge(r.typingLatency);
    ackLatency.merge(r.ackLatency);
    for (const key of ['typingFrames', 'reactionFrames', 'acked', 'unchanged', 'refused']) sum[key] += r[key];
    sum.firstRefusal ??= r.firstRefusal;
  }
  return { ...sum, typingLatency: typingLatency.summary(), ackLatency: ackLatency.summary() };
}

/** Redis's and the gateways' CPU (fractions of a core) and Redis's commands per second between two readings. */
function rates(before, after) {
  const windowSec = (after.at - before.at) / 1000;
  const masters = perMasterDelta(before.redis, after.redis);
  return {
    windowSec,
    masters,
    redisCommands: masters.reduce((sum, m) => sum + m.calls, 0) / windowSec,
    redisCpu: masters.reduce((sum, m) => sum + m.cpuSec, 0) / windowSec,
    gatewayCpu: after.cpuMs.reduce((sum, ms, i) => sum + ms - before.cpuMs[i], 0) / 1000 / windowSec,
  };
}

/**
 * What one window cost: per second, and per `unit` (a relayed signal, a stored reaction) above what
 * the same processes spent in the idle window before it (gateways holding the room's connections,
 * Redis's housekeeping, the members' presence refreshes), which is not the unit's cost.
 */
function costs(idle, before, after, units) {
  const { windowSec, masters, redisCommands, redisCpu, gatewayCpu } = rates(before, after);
  const perUnit = (perSec) => (perSec * windowSec) / Math.max(1, units);
  return {
    windowSec,
    redisCommandsPerSec: redisCommands,
    redisCommandsPerUnit: perUnit(redisCommands - idle.redisCommands),
    redisCpuPercent: redisCpu * 100,
    redisCpuUsPerUnit: perUnit(redisCpu - idle.redisCpu) * 1e6,
    gatewayCpuPercent: gatewayCpu * 100,
    gatewayIdleCpuPercent: idle.gatewayCpu * 100,
    gatewayCpuUsPerUnit: perUnit(gatewayCpu - idle.gatewayCpu) * 1e6,
    masters,
    commandsPerUnit: commandsPer(before.redis, after.redis, units),
  };
}

/** Readings across an idle window of IDLE_MS, then the start of the measured window. */
async function idleThenStart(gateways, masters, metric) {
  const idleStart = await measure(gateways, masters, metric);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const before = await measure(gateways, masters, metric);
  return { idle: rates(idleStart, before), before };
}

/** A fresh bus, two gateways with `env` and the room filled; `body` runs on it, then all is stopped. */
async function withRoom(env, body) {
  const bus = await startBus(args.bus);
  const gateways = [];
  let threads = [];
  try {
    for (let g = 0; g < 2; g++) gateways.push(await startGateway({ env: { ...baseEnv, ...env, ...bus.env } }));
    threads = startThreads(gateways.map((g) => g.wsUrl));
    await Promise.all(threads.map((t) => t.call('open')));
    return await body({ gateways, threads, masters: await bus.masters() });
  } finally {
    await Promise.all(threads.map((t) => t.stop()));
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await bus.stop();
  }
}

// The room is above LARGE_ROOM only in the presence scenario: here presence is counts only, so the
// fill does not flood the members before the window. Limits that would refuse the load are raised.
const baseEnv = { RATE_LIMIT: '1000000', LOG_LEVEL: 'error', LARGE_ROOM: '100', MAX_BACKPRESSURE: String(64 * 1024 * 1024) };

async function typingRun(intervalMs) {
  return withRoom({ TYPING_INTERVAL_MS: String(intervalMs) }, async ({ gateways, threads, masters }) => {
    const who = spread(typists);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await Promise.all(threads.map((t) => t.call('reset')));
    const { idle, before } = await idleThenStart(gateways, masters, 'chat_typing_total');
    await Promise.all(threads.map((t) => t.call('type', { typists: who, durationMs: seconds * 1000, everyMs: TYPING_EVERY_MS, stopEveryMs: TYPING_STOP_EVERY_MS })));
    await new Promise((r) => setTimeout(r, 200));
    const after = await measure(gateways, masters, 'chat_typing_total');
    const got = await merged(threads);
    const relayed = after.metric - before.metric;
    const cost = costs(idle, before, after, relayed);
    return {
      intervalMs,
      sentPerSec: (typists * 1000) / TYPING_EVERY_MS,
      relayedPerSec: relayed / cost.windowSec,
      receivedPerSec: got.typingFrames / cost.windowSec,
      latencyMs: got.typingLatency,
      ...cost,
      gatewayCpuUsPerDelivery: (cost.gatewayCpuUsPerUnit * relayed) / Math.max(1, got.typingFrames),
    };
  });
}

async function reactionRun() {
  // Reactions take places in the room's stream like messages (docs/protocol.md §5): with the default
  // HISTORY_LIMIT (1000) a few seconds of them trim the very messages they target, which then answer
  // not_found. The history is sized to keep the targets for the whole window.
  const historyLimit = Math.min(1_000_000, 2 * Math.ceil(reactors * reactionRate * seconds) + TARGETS + 1000);
  return withRoom({ HISTORY_LIMIT: String(historyLimit) }, async ({ gateways, threads, masters }) => {
    const { ids } = await threads[0].call('seed', { n: threads[0].first, texts: TARGETS });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await Promise.all(threads.map((t) => t.call('reset')));
    const { idle, before } = await idleThenStart(gateways, masters, 'chat_reactions_total');
    await Promise.all(threads.map((t) => t.call('react', { reactors: spread(reactors), ids, durationMs: seconds * 1000, ratePerSec: reactionRate })));
    await new Promise((r) => setTimeout(r, 200));
    const after = await measure(gateways, masters, 'chat_reactions_total');
    const got = await merged(threads);
    if (got.refused) throw new Error(`${got.refused} reactions refused, the first: ${got.firstRefusal}`);
    const stored = after.metric - before.metric;
    const cost = costs(idle, before, after, stored);
    return {
      offeredPerSec: reactors * reactionRate,
      storedPerSec: stored / cost.windowSec,
      ackedPerSec: got.acked / cost.windowSec,
      unchanged: got.unchanged,
      deliveredPerSec: got.reactionFrames / cost.windowSec,
      ackMs: got.ackLatency,
      ...cost,
      gatewayCpuUsPerDelivery: (cost.gatewayCpuUsPerUnit * stored) / Math.max(1, got.reactionFrames),
    };
  });
}

async function presenceRun() {
  const out = {};
  for (const name of ['per-user', 'counts']) {
    const [mode, largeRoom] = PRESENCE_MODES[name];
    const r = await fill({ members: presenceMembers, rate: presenceRate, workers: 4, largeRoom, fillTimeoutMs: 150_000, log: () => {} });
    if (r.joined < presenceMembers) throw new Error(`presence (${mode}): only ${r.joined} of ${presenceMembers} members joined`);
    out[name] = { mode, joined: r.joined, fillSec: r.fillSec, frames: r.frames, framesPerSec: r.frames / r.fillSec, peakPerSec: r.peak, counts: r.counts };
  }
  return out;
}

const f0 = (n) => (n ?? 0).toFixed(0);
const f1 = (n) => (n ?? 0).toFixed(1);
const f2 = (n) => (n ?? 0).toFixed(2);
const shares = (masters) => masters.map((m) => `${(m.shareOfCalls * 100).toFixed(0)}%`).join('/');
/** The command Redis spent the most time in per unit (a script's time includes the commands it calls). */
const busiest = (commands) => {
  const [name, c] = Object.entries(commands).sort((a, b) => b[1].usec - a[1].usec)[0] ?? ['none', { usec: 0 }];
  return `${name} ${c.usec.toFixed(1)} µs`;
};
const topCommands = (commands) => Object.entries(commands).sort((a, b) => b[1].calls - a[1].calls).slice(0, 6)
  .map(([name, c]) => `${name} ${c.calls.toFixed(2)}`).join(', ');

const runs = [];
for (let run = 1; run <= runCount; run++) {
  const result = { run };
  if (scenarios.includes('typing')) {
    result.typing = [];
    for (const intervalMs of typingIntervals) {
      const t = await typingRun(intervalMs);
      result.typing.push(t);
      console.log(`run ${run} typing, TYPING_INTERVAL_MS=${intervalMs}: ${f0(t.sentPerSec)} sent/s, ${f1(t.relayedPerSec)} relayed/s, ${f0(t.receivedPerSec)} received/s, ` +
        `latency p50 ${f2(t.latencyMs.p50)} p99 ${f2(t.latencyMs.p99)} ms, Redis ${f0(t.redisCommandsPerSec)} cmds/s (${f2(t.redisCommandsPerUnit)} per signal, shares ${shares(t.masters)}) ` +
        `CPU ${f1(t.redisCpuPercent)}%, gateways CPU ${f1(t.gatewayCpuPercent)}% = ${f0(t.gatewayCpuUsPerUnit)} µs per relayed signal\n  Redis per signal: ${topCommands(t.commandsPerUnit)}`);
    }
  }
  if (scenarios.includes('reactions')) {
    const r = (result.reactions = await reactionRun());
    console.log(`run ${run} reactions: ${f0(r.offeredPerSec)} offered/s, ${f1(r.storedPerSec)} stored/s, ${f0(r.deliveredPerSec)} events delivered/s, ack p50 ${f2(r.ackMs.p50)} p99 ${f2(r.ackMs.p99)} ms, ` +
      `Redis ${f0(r.redisCommandsPerSec)} cmds/s (${f2(r.redisCommandsPerUnit)} per reaction, ${f0(r.redisCpuUsPerUnit)} µs CPU, shares ${shares(r.masters)}), gateways ${f0(r.gatewayCpuUsPerUnit)} µs CPU per reaction\n` +
      `  Redis per reaction: ${topCommands(r.commandsPerUnit)}`);
  }
  if (scenarios.includes('presence')) {
    const p = (result.presence = await presenceRun());
    for (const m of Object.values(p)) console.log(`run ${run} presence, ${m.mode}: ${m.joined} joined in ${f1(m.fillSec)} s, ${m.frames} presence frames, ${f0(m.framesPerSec)}/s mean, ${m.peakPerSec}/s peak`);
  }
  runs.push(result);
}

const med = (read) => median(runs.map(read).filter((v) => typeof v === 'number'));
const table = ['', `medians of ${runCount} runs; bus ${args.bus}; a room of ${members} members on 2 gateways; ${seconds} s windows`, '| figure | value |', '| --- | --- |'];
const row = (name, value) => table.push(`| ${name} | ${value} |`);
if (scenarios.includes('typing')) {
  typingIntervals.forEach((intervalMs, i) => {
    const t = (read) => med((r) => read(r.typing[i]));
    const label = `typing, ${typists} typists, TYPING_INTERVAL_MS=${intervalMs}`;
    row(`${label}: frames sent / relayed / received per s`, `${f0(t((x) => x.sentPerSec))} / ${f1(t((x) => x.relayedPerSec))} / ${f0(t((x) => x.receivedPerSec))}`);
    row(`${label}: delivery p50 / p99 ms`, `${f2(t((x) => x.latencyMs.p50))} / ${f2(t((x) => x.latencyMs.p99))}`);
    row(`${label}: Redis commands per s / per signal`, `${f0(t((x) => x.redisCommandsPerSec))} / ${f2(t((x) => x.redisCommandsPerUnit))}`);
    row(`${label}: Redis CPU % / µs per signal; busiest command per signal`, `${f1(t((x) => x.redisCpuPercent))} / ${f0(t((x) => x.redisCpuUsPerUnit))}; ${busiest(runs[0].typing[i].commandsPerUnit)} (run 1)`);
    row(`${label}: gateways CPU % (idle %) / µs per signal / µs per frame delivered`, `${f1(t((x) => x.gatewayCpuPercent))} (${f1(t((x) => x.gatewayIdleCpuPercent))}) / ${f0(t((x) => x.gatewayCpuUsPerUnit))} / ${f2(t((x) => x.gatewayCpuUsPerDelivery))}`);
  });
}
if (scenarios.includes('reactions')) {
  const r = (read) => med((x) => read(x.reactions));
  const label = `reactions, ${reactors} reactors x ${reactionRate}/s`;
  row(`${label}: stored / events delivered per s`, `${f1(r((x) => x.storedPerSec))} / ${f0(r((x) => x.deliveredPerSec))}`);
  row(`${label}: ack p50 / p99 ms`, `${f2(r((x) => x.ackMs.p50))} / ${f2(r((x) => x.ackMs.p99))}`);
  row(`${label}: Redis commands per s / per reaction`, `${f0(r((x) => x.redisCommandsPerSec))} / ${f2(r((x) => x.redisCommandsPerUnit))}`);
  row(`${label}: Redis CPU % / µs per reaction; busiest command per reaction`, `${f1(r((x) => x.redisCpuPercent))} / ${f0(r((x) => x.redisCpuUsPerUnit))}; ${busiest(runs[0].reactions.commandsPerUnit)} (run 1)`);
  row(`${label}: gateways CPU % (idle %) / µs per reaction / µs per event delivered`, `${f1(r((x) => x.gatewayCpuPercent))} (${f1(r((x) => x.gatewayIdleCpuPercent))}) / ${f0(r((x) => x.gatewayCpuUsPerUnit))} / ${f2(r((x) => x.gatewayCpuUsPerDelivery))}`);
}
if (scenarios.includes('presence')) {
  for (const name of ['per-user', 'counts']) {
    const p = (read) => med((x) => read(x.presence[name]));
    row(`presence, ${presenceMembers} members joining at ${presenceRate}/s, ${PRESENCE_MODES[name][0]}: frames per s mean / peak`, `${f0(p((x) => x.framesPerSec))} / ${f0(p((x) => x.peakPerSec))}`);
  }
}
console.log(table.join('\n'));
const dir = new URL(`./results/chat-${new Date().toISOString().replace(/[:.]/g, '-')}/`, import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('results.json', dir), JSON.stringify({ args, runs, table: table.slice(2) }, null, 2));
console.log(`\nresults: ${new URL('results.json', dir).pathname}`);
