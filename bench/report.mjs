// Writes BENCHMARKS.md (repository root) and bench/benchmarks-p99.png from one benchmark's results
// (the newest under bench/results/ unless a results.json path is given).
//   node bench/report.mjs [bench/results/<stamp>/results.json]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { FIGURES } from './lib/summary.mjs';

const benchDir = new URL('./', import.meta.url).pathname;
const rootDir = new URL('../', import.meta.url).pathname;
const resultsPath = process.argv[2] ?? newestResults();
const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
const systemNames = Object.keys(results.systems);
const peers = systemNames.filter((s) => s !== 'gateway');
const summary = new Map(results.summary.map((f) => [f.name, f]));
const CHART = 'benchmarks-p99.png';

function newestResults() {
  const stamps = readdirSync(new URL('./results/', import.meta.url)).sort();
  return `${benchDir}results/${stamps.at(-1)}/results.json`;
}

function formatNumber(value, unit) {
  if (unit === 'ms') return value < 10 ? value.toFixed(2) : value.toFixed(value < 100 ? 1 : 0);
  if (value >= 10_000) return `${(value / 1000).toFixed(value >= 100_000 ? 0 : 1)}k`;
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function cell(figure, system) {
  const f = figure.bySystem[system];
  if (!f) return '–';
  const spread = f.runs > 1 ? ` (${formatNumber(f.min, figure.unit)}–${formatNumber(f.max, figure.unit)})` : '';
  return `${formatNumber(f.median, figure.unit)}${spread}`;
}

function table() {
  const header = ['figure', 'unit', ...systemNames.map((s) => results.systems[s]), ...peers.map((p) => `gateway / ${p}`)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const [name] of FIGURES) {
    const figure = summary.get(name);
    if (!figure || !Object.keys(figure.bySystem).length) continue;
    const ratios = peers.map((p) => (figure.ratios[p] ? figure.ratios[p].toFixed(2) : '–'));
    lines.push(`| ${[name, figure.unit, ...systemNames.map((s) => cell(figure, s)), ...ratios].join(' | ')} |`);
  }
  return lines.join('\n');
}

const medianOf = (name, system) => summary.get(name)?.bySystem[system]?.median;

/** The goals, each with the figures it compares, or "not measured". */
function goals() {
  const rows = [];
  const check = (goal, value, met) => rows.push(`| ${goal} | ${value ?? 'not measured'} | ${value === undefined ? '–' : met ? 'met' : 'NOT met'} |`);
  const mem = medianOf('RSS per idle connection @10k', 'gateway');
  const memSio = medianOf('RSS per idle connection @10k', 'socketio');
  check('memory per idle connection ≤ 1/8 of Socket.IO', mem && memSio ? `${(mem / memSio).toFixed(3)} of Socket.IO's` : undefined, mem / memSio <= 1 / 8);
  for (const budget of [5, 50]) {
    const name = `room 100: deliveries/s at p99 < ${budget} ms`;
    const gw = medianOf(name, 'gateway');
    const sio = medianOf(name, 'socketio');
    const relay = medianOf(name, 'relay');
    check(`fan-out ≥ 5× Socket.IO at p99 < ${budget} ms (room 100)`, gw !== undefined && sio ? `${(gw / sio).toFixed(2)}×` : undefined, gw / sio >= 5);
    check(`fan-out ≥ 75% of the bare relay at p99 < ${budget} ms (room 100)`, gw !== undefined && relay ? `${((100 * gw) / relay).toFixed(0)}%` : undefined, gw / relay >= 0.75);
  }
  const cpuGw = medianOf('room 100: server CPU per delivery (all nodes)', 'gateway');
  const cpuSio = medianOf('room 100: server CPU per delivery (all nodes)', 'socketio');
  const cpuRelay = medianOf('room 100: server CPU per delivery (all nodes)', 'relay');
  check('fan-out capacity ≥ 5× Socket.IO by server CPU per delivery (room 100, driver-independent)', cpuGw && cpuSio ? `${(cpuSio / cpuGw).toFixed(2)}×` : undefined, cpuSio / cpuGw >= 5);
  check('fan-out capacity ≥ 75% of the relay by server CPU per delivery (room 100)', cpuGw && cpuRelay ? `${((100 * cpuRelay) / cpuGw).toFixed(0)}%` : undefined, cpuRelay / cpuGw >= 0.75);
  const cpuPerAccept = medianOf('server CPU per accepted connection', 'gateway');
  check('≥ 10k accepted connections/s per node (from server CPU per accept)', cpuPerAccept ? `${(1e6 / cpuPerAccept / 1000).toFixed(1)}k/s per core` : undefined, 1e6 / cpuPerAccept >= 10_000);
  const p99 = medianOf('60k conns / 4 nodes: p99', 'gateway');
  const connected = medianOf('60k conns / 4 nodes: connected', 'gateway');
  check('60k concurrent connections with p99 < 50 ms', p99 !== undefined ? `${connected} connected, p99 ${p99.toFixed(1)} ms` : undefined, connected >= 60_000 && p99 < 50);
  return ['| goal | measured (gateway) | |', '| --- | --- | --- |', ...rows].join('\n');
}

/**
 * Issue 11's goals: ahead of Centrifugo (history on) on each figure, and the gaps to the bare relay
 * it names. `lower` marks figures where less is better; the ratio shown is gateway ÷ peer.
 */
function goalsAgainstPeers() {
  const rows = [];
  const compare = (goal, name, peer, { lower = false, bound } = {}) => {
    const gw = medianOf(name, 'gateway');
    const other = medianOf(name, peer);
    if (gw === undefined || other === undefined) {
      rows.push(`| ${goal} | not measured | – |`);
      return;
    }
    if (gw === 0 && other === 0) {
      rows.push(`| ${goal} | neither reaches it on this machine | – |`);
      return;
    }
    const ratio = other === 0 ? Infinity : gw / other;
    const limit = bound ?? 1;
    const met = lower ? (bound === undefined ? gw < other : ratio <= limit) : (bound === undefined ? gw > other : ratio >= limit);
    const shown = Number.isFinite(ratio) ? ratio.toFixed(2) : '∞';
    rows.push(`| ${goal} | ${formatNumber(gw, summary.get(name).unit)} against ${formatNumber(other, summary.get(name).unit)}: ${shown} | ${met ? 'met' : 'NOT met'} |`);
  };
  if (systemNames.includes('centrifugo')) {
    const ahead = [
      ['memory per idle connection (@10k)', 'RSS per idle connection @10k', true],
      ['memory per connection in a room of 10', 'RSS per connection in a room of 10 @10k', true],
      ['server CPU per delivery, room 100', 'room 100: server CPU per delivery (all nodes)', true],
      ['server CPU per delivery, room 1000', 'room 1000: server CPU per delivery (all nodes)', true],
      ['fan-out at p99 < 5 ms, room 100', 'room 100: deliveries/s at p99 < 5 ms', false],
      ['fan-out at p99 < 50 ms, room 100', 'room 100: deliveries/s at p99 < 50 ms', false],
      ['fan-out at p99 < 5 ms, room 1000', 'room 1000: deliveries/s at p99 < 5 ms', false],
      ['fan-out at p99 < 50 ms, room 1000', 'room 1000: deliveries/s at p99 < 50 ms', false],
      ['60k connections on 4 nodes: p99', '60k conns / 4 nodes: p99', true],
      ['bus ingest: acked msgs/s at ack p99 < 50 ms', 'bus: acked msgs/s at ack p99 < 50 ms (1000 rooms)', false],
    ];
    for (const [goal, name, lower] of ahead) compare(`ahead of Centrifugo: ${goal}`, name, 'centrifugo', { lower });
  }
  if (systemNames.includes('relay')) {
    compare('60k connections on 4 nodes: p99 at or below the relay\'s', '60k conns / 4 nodes: p99', 'relay', { lower: true, bound: 1 });
    compare('room 100 at p99 < 5 ms: ≥ 75% of the relay', 'room 100: deliveries/s at p99 < 5 ms', 'relay', { bound: 0.75 });
    compare('room 1000 at p99 < 50 ms: ≥ 75% of the relay', 'room 1000: deliveries/s at p99 < 50 ms', 'relay', { bound: 0.75 });
    compare('Redis CPU per 100k deliveries, room 100: ≤ 1.3× the relay', 'Redis CPU per 100k deliveries (room 100)', 'relay', { lower: true, bound: 1.3 });
  }
  return ['| goal | gateway against peer: ratio | |', '| --- | --- | --- |', ...rows].join('\n');
}

/**
 * Sections other benchmarks write into BENCHMARKS.md (`npm run bench:chat`'s), from their heading on:
 * this report rewrites what is above them and keeps them as they are.
 */
const KEPT_SECTIONS = ['## Chat semantics at scale'];
function keptSections() {
  let old = '';
  try {
    old = readFileSync(`${rootDir}BENCHMARKS.md`, 'utf8');
  } catch {
    return '';
  }
  const starts = KEPT_SECTIONS.map((heading) => old.indexOf(`\n${heading}\n`)).filter((i) => i >= 0);
  return starts.length > 0 ? old.slice(Math.min(...starts)) : '';
}

/** Redis's busiest commands in the 60k-connection window of the first run, per system. */
function redisCommands() {
  const lines = ['| system | command | calls/s | Redis CPU ms/s |', '| --- | --- | --- | --- |'];
  for (const system of systemNames) {
    const c60k = results.runs[0]?.[system]?.concurrency60k;
    if (!c60k?.redisTopCommands) continue;
    const seconds = (c60k.redisWindowMs ?? 20_000) / 1000;
    for (const { name, calls, usec } of c60k.redisTopCommands) {
      lines.push(`| ${results.systems[system]} | ${name} | ${(calls / seconds).toFixed(0)} | ${(usec / 1000 / seconds).toFixed(1)} |`);
    }
  }
  return lines.length > 2 ? lines.join('\n') : 'not measured';
}

/** Per system and room size: the median p99 of each step target over the runs. */
function chartData() {
  const panels = [100, 1000].map((roomSize) => {
    const series = {};
    for (const system of systemNames) {
      const byTarget = new Map();
      for (const run of results.runs) {
        for (const step of run[system]?.[`fanout${roomSize}`]?.steps ?? []) {
          if (!byTarget.has(step.targetPerSec)) byTarget.set(step.targetPerSec, []);
          byTarget.get(step.targetPerSec).push(step);
        }
      }
      const points = [...byTarget.values()].map((steps) => {
        const mid = (key) => steps.map(key).sort((a, b) => a - b)[Math.floor(steps.length / 2)];
        return [mid((s) => s.deliveredPerSec), mid((s) => s.latencyMs.p99)];
      });
      if (points.length) series[results.systems[system]] = points.sort((a, b) => a[0] - b[0]);
    }
    return { title: `room of ${roomSize} members over 2 nodes`, series };
  });
  return { panels: panels.filter((p) => Object.keys(p.series).length) };
}

function drawChart() {
  const dataPath = resultsPath.replace(/results\.json$/, 'chart-data.json');
  writeFileSync(dataPath, JSON.stringify(chartData()));
  const python = execFileSync('bash', [`${benchDir}setup-plot.sh`], { encoding: 'utf8' }).trim();
  execFileSync(python, [`${benchDir}plot.py`, dataPath, `${benchDir}${CHART}`], { stdio: 'inherit' });
}

drawChart();
const m = results.machine;
const kept = keptSections();
writeFileSync(`${rootDir}BENCHMARKS.md`, `# Benchmarks

This product's gateway beside its peers, measured side by side on one machine in one run
(${results.runs.length} run${results.runs.length > 1 ? 's' : ''}, systems interleaved within each run), configured as
[below](#fair-configuration).
Each cell is the median over the runs, with the lowest and highest run in brackets; the last
columns are gateway ÷ peer (for latency and memory lower is better, for rates higher is better).
Generated by \`node bench/report.mjs\` from \`${resultsPath.slice(resultsPath.indexOf('bench/results'))}\`.

## Machine

${m.cpus} × ${m.cpuModel}, ${m.memoryGiB.toFixed(0)} GiB, Linux ${m.kernel}, Node ${m.node}. Started ${results.startedAt}.
The load driver runs on the same two cores as the servers and Redis, so every rate and latency
here is for servers, Redis and driver together; the driver's own CPU per step is in the results
JSON (\`driverCpuMs\`). The machine was shared with other work while this ran: treat single
steps as noisy and compare systems within the same run.

## Commands

\`\`\`
npm run build                 # the gateway's dist/
bench/install-centrifugo.sh   # Centrifugo 6.9.1, built once (~2 min; run.mjs does it too)
${results.command}
node bench/report.mjs         # this page and the chart
\`\`\`

## Figures

${table()}

![p99 delivery latency against deliveries per second](bench/${CHART})

## Goals

Against Centrifugo with history on, and against the bare relay (issue 11), medians of the runs:

${goalsAgainstPeers()}

Reading the gaps (profiles and A/B runs behind them are in the closing note of issue 11):

- **Bus ingest, behind Centrifugo.** Each acked message costs the gateway more server CPU and more
  Redis CPU (rows "bus: ..." above): the append is a Lua script (most of its time is Lua's per-call
  cost, not its commands), and a gateway node is one JavaScript thread where Centrifugo's one Go
  process uses both cores. The ladder steps from 20k to 30k; all but the relay fail somewhere in
  that step. What would close it: fewer, larger script calls under load (already batched per room
  and event-loop turn, not across rooms), and acks corked with the deliveries.
- **Against the bare relay.** The relay stores nothing, so its Redis cost is one PUBLISH per
  message; the gateway's script also appends to the room's stream, counts the message and keeps
  the room's newest id. That is the Redis CPU ratio. Its p99 at low rates and the 60k run's p99
  come from the same extra work on a machine whose two cores are shared with the load driver.
- **Room 1000 at p99 < 5 ms.** No system reaches it here: at every step, the first included, each
  system's p99 is above 5 ms (the 1000 receivers share two driver processes and the two cores).

The first round's goals (issue 5):

${goals()}

## Redis commands in the 60k-connection run

What Redis spent its time on while four nodes per system held 60k connections in rooms of 100
and each room got 1 message/s (600 messages/s in all), from INFO commandstats over the window:

${redisCommands()}

## Fair configuration

Every system runs its nodes on the same fresh Redis 7 per scenario, on 127.0.0.1, with the same
message text (a send time, the sender's node and 40 bytes of padding), and no client presents a
token: the gateway and the peers take the user from the query string, Centrifugo accepts anonymous
connections (\`client.allow_anonymous_connect_without_token\`).

- **Chat gateway**: as it ships (\`npm start\`), \`RATE_LIMIT=1000000\`, \`LOG_LEVEL=warn\`; every
  message goes into the room's Redis stream (history of 1000) and is published, and a rejoin
  resumes from the stream.
- **Centrifugo 6.9.1** (built by \`bench/install-centrifugo.sh\`): the Redis engine on the same Redis;
  rooms are channels of a namespace \`chat\` with \`history_size\` 1000, \`history_ttl\` 300 s and
  \`force_recovery\` (so, like the gateway, every message is kept in a stream and a resubscribe
  recovers from it), anonymous subscribe and publish-when-subscribed allowed, \`log.level\` warn,
  HTTP API and usage stats off. Two settings for its best: \`client.concurrency\` 64 (a connection's
  commands run up to 64 at a time; sequential, one sender's publishes each wait for the one before
  to reach Redis, about 13k against 30k publishes/s from one connection here; the price is that
  one connection's publishes may be stored in another order than they were sent) and
  \`websocket.use_write_buffer_pool\` (its documented memory saving for many connections).
  Everything else is its default; GOMAXPROCS is the machine's two cores. Clients speak its JSON
  protocol over \`/connection/websocket\`. Messages are published by the clients over that protocol,
  not through the HTTP API, because that is the faster way: \`node bench/centrifugo-publish.mjs\`
  (one node, 32 publishes in flight) measured 13–16k publishes/s at 31–32 µs of Centrifugo CPU
  each over the client protocol, against 1.3k/s at 126–163 µs each through \`/api/publish\`
  (a request with headers, an API key check and a response per message), on the shared machine.
- **Bare uWS + ioredis relay** and **Socket.IO 4 + redis-adapter**: one PUBLISH per message, no
  history (the relay is this stack's ceiling, Socket.IO the usual choice).

## How each figure is measured

- **RSS per idle connection**: one node on a fresh Redis; its VmRSS before, then after N
  connections are upgraded, welcomed and left idle for 3 s (server pings keep them alive); the
  difference over N. Connections come from ${'≤'}10k per driver process, each spread over 16 loopback
  source addresses.
- **RSS per connection in a room**: the same, with every connection joined to a room of 10 (1000
  rooms for 10k connections) before the 3 s.
- **Accepted connections/s**: N over the time until the last welcome, 200 handshakes in flight per
  driver process. This is bound by the driver's handshake cost on this machine; the server's CPU time
  per accepted connection beside it gives the server's own ceiling (1 s ÷ that = accepts per core).
- **Deliveries/s at p99 < budget**: one room, members split evenly over two nodes, one sender on
  node 0. The send rate steps up (5k … 1.5M deliveries/s), 1 s warm-up then 3 s measured per step,
  until p99 passes 50 ms or fewer than 95% of the owed deliveries arrive. The figure is the highest
  step that delivered and kept p99 under the budget. Latency is from a send time the sender writes
  into the text (performance.timeOrigin + now(), sub-millisecond) to the receiving driver's read.
- **Cross-node latency**: the receivers on node 1 of the step above, and separately one sender on
  node 0 and one receiver on node 1 at fixed rates.
- **Redis CPU per 100k deliveries**: Redis's INFO used_cpu_user + used_cpu_sys over the measured
  window of the highest step under 50 ms, per 100k deliveries.
- **60k connections**: four nodes, rooms of 100 spread evenly over them, one sender per room at 1
  message/s for 20 s; latency over every delivery.
- **Bus ingest**: 1000 rooms, 100 senders alternating over two nodes, each a member of 10 rooms it
  sends to in turn; every send asks for the server's answer (gateway and relay: \`ack\`; Socket.IO:
  the ack callback; Centrifugo: the publish reply; the gateway and Centrifugo answer once Redis has
  stored the message, the relay and Socket.IO once the PUBLISH is queued on their Redis connection,
  and keep no history) and every message comes back to its sender. The
  offered rate steps up (1k … 150k messages/s in all), 1 s warm-up then 3 s measured, until the ack
  p99 passes 50 ms, fewer than 95% of the sends are acked or one is refused; the figure is the
  highest acked rate within 50 ms. Beside it, redis-benchmark on the same Redis after the ladder
  (50 clients, 16 commands pipelined each): plain SET, and EVALSHA of a script doing XADD (stream
  capped at ~1000) + PUBLISH on one of 1000 keys, the least a kept-and-delivered message costs Redis.
${kept}`);
console.log(`wrote ${rootDir}BENCHMARKS.md and ${benchDir}${CHART}`);
