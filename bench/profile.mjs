// Profiles one system under the benchmark's load, to name the cause of a gap rather than guess it.
//   node bench/profile.mjs cpu  [--system gateway] [--room 100] [--rate 100000] [--seconds 10]
//   node bench/profile.mjs heap [--system gateway] [--connections 10000]
// cpu: two nodes run under --cpu-prof while one room of --room members split over them receives
// --rate deliveries/s; prints each node's functions with the most self time.
// heap: one node holds --connections idle connections, then writes a heap snapshot; prints the
// object kinds that hold the most bytes, per connection, beside the RSS per connection.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { systems, startRedis, startNodes, rssBytes } from './lib/systems.mjs';
import { startWorkers, stopWorkers } from './lib/driver.mjs';

const { values: args, positionals: [mode] } = parseArgs({
  allowPositionals: true,
  options: {
    system: { type: 'string', default: 'gateway' },
    room: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10000' },
  },
});
const system = systems[args.system];
const outDir = mkdtempSync(join(tmpdir(), `profile-${args.system}-`));
const TOP = 25;

async function openSpecs(workers, specSlices) {
  const results = await Promise.all(workers.map((w, i) => w.call('open', {
    protocol: system.protocol, specs: specSlices[i], concurrency: 200, localAddresses: w.localAddresses,
  })));
  const failed = results.reduce((a, r) => a + r.failed, 0);
  if (failed) throw new Error(`${failed} connections failed: ${results.find((r) => r.firstError).firstError}`);
}

function printTable(title, rows) {
  console.log(`\n${title}`);
  for (const row of rows) console.log(`  ${row}`);
}

/** Self time per function in a .cpuprofile, as shares of all samples. */
function summarizeCpuProfile(path) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const totals = new Map();
  let samples = 0;
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url ? `${basename(url)}:${lineNumber + 1}` : ''}`.trim();
    totals.set(key, (totals.get(key) ?? 0) + node.hitCount);
    samples += node.hitCount;
  }
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, TOP)
    .map(([key, hits]) => `${((100 * hits) / samples).toFixed(1).padStart(5)}%  ${key}`);
}

/** Bytes held per object kind (constructor or type) in a .heapsnapshot. */
function summarizeHeapSnapshot(path, connections) {
  const snapshot = JSON.parse(readFileSync(path, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const totals = new Map();
  let heapBytes = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt]];
    const name = type === 'object' || type === 'closure' ? snapshot.strings[snapshot.nodes[i + nameAt]] : `(${type})`;
    const size = snapshot.nodes[i + sizeAt];
    const entry = totals.get(name) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += size;
    totals.set(name, entry);
    heapBytes += size;
  }
  const rows = [...totals].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, TOP)
    .map(([name, { count, bytes }]) => `${(bytes / connections).toFixed(0).padStart(6)} B/conn  ${String(count).padStart(8)} objects  ${name.slice(0, 80)}`);
  return { heapBytes, rows };
}

async function cpu() {
  const roomSize = Number(args.room);
  const redis = await startRedis();
  const cluster = await startNodes(args.system, 2, redis.url, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${outDir}`] });
  const workers = startWorkers(2);
  try {
    const specs = Array.from({ length: roomSize }, (_, i) => ({
      url: cluster.nodes[i % 2].url, node: i % 2, user: `p${i}`, room: 'profiled', sender: i === 0,
    }));
    await openSpecs(workers, [specs.filter((s) => s.node === 0), specs.filter((s) => s.node === 1)]);
    await workers[0].call('send', { ratePerSender: Number(args.rate) / roomSize, durationMs: Number(args.seconds) * 1000 });
  } finally {
    stopWorkers(workers);
    await cluster.stop('SIGTERM');
    await redis.stop();
  }
  for (const file of readdirSync(outDir).filter((f) => f.endsWith('.cpuprofile'))) {
    printTable(`${args.system}: self time, ${file}`, summarizeCpuProfile(join(outDir, file)));
  }
}

async function heap() {
  const connections = Number(args.connections);
  const redis = await startRedis();
  const cluster = await startNodes(args.system, 1, redis.url, { nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${outDir}`] });
  const [node] = cluster.nodes;
  const workers = startWorkers(Math.max(2, Math.ceil(connections / 10_000)));
  try {
    await sleep(1000);
    const rssBefore = rssBytes(node.pid);
    const specs = Array.from({ length: connections }, (_, i) => ({ url: node.url, node: 0, user: `h${i}`, room: null, sender: false }));
    const size = Math.ceil(connections / workers.length);
    await openSpecs(workers, workers.map((_, i) => specs.slice(i * size, (i + 1) * size)));
    await sleep(3000);
    const rssPerConnection = (rssBytes(node.pid) - rssBefore) / connections;
    process.kill(node.pid, 'SIGUSR2');
    const path = await snapshotWritten();
    const { heapBytes, rows } = summarizeHeapSnapshot(path, connections);
    printTable(`${args.system}: ${connections} idle connections, RSS ${rssPerConnection.toFixed(0)} B/conn, `
      + `JS heap ${(heapBytes / 2 ** 20).toFixed(1)} MiB in all; the kinds holding most:`, rows);
  } finally {
    stopWorkers(workers);
    await cluster.stop();
    await redis.stop();
  }
}

/** Waits until the snapshot file exists and has stopped growing. */
async function snapshotWritten() {
  let lastSize = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const file = readdirSync(outDir).find((f) => f.endsWith('.heapsnapshot'));
    if (!file) continue;
    const { size } = statSync(join(outDir, file));
    if (size > 0 && size === lastSize) return join(outDir, file);
    lastSize = size;
  }
  throw new Error('no heap snapshot within 5 minutes');
}

if (mode === 'cpu') await cpu();
else if (mode === 'heap') await heap();
else {
  console.error('usage: node bench/profile.mjs cpu|heap [--system gateway|relay|socketio] ...');
  process.exit(2);
}
console.log(`\nraw files: ${outDir}`);
