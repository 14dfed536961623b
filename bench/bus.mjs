// The bus benchmark (issue: the bus on Redis Cluster): room messages per second accepted (acked,
// history kept) and delivered across gateways, with many rooms, on one Redis and on a Redis Cluster
// of 3 masters, with each master's share of the commands and Redis CPU per message. Medians of
// --runs runs, the two buses interleaved within a run. Everything on loopback, bounded in time.
//
//   node bench/bus.mjs [--buses single,cluster] [--rooms 300] [--senders 60] [--inflight 8]
//                      [--seconds 10] [--runs 3] [--gateways 2]
//
// Two cores run the gateways, Redis and this driver at once here, so the figure to read is not the
// rate (the machine's, not the bus's) but how the load splits over masters and Redis CPU per message.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startGateway } from '@chat/testkit';
import { commandsPer, median, perMasterDelta, snapshot, startBus } from './lib/redis-bus.mjs';

const { values: args } = parseArgs({
  options: {
    buses: { type: 'string', default: 'single,cluster' },
    rooms: { type: 'string', default: '300' },
    senders: { type: 'string', default: '60' },
    inflight: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    gateways: { type: 'string', default: '2' },
  },
});
const rooms = Number(args.rooms);
const senders = Number(args.senders);
const inflight = Number(args.inflight);
const seconds = Number(args.seconds);
const gatewayCount = Number(args.gateways);
const env = { RATE_LIMIT: '1000000', MAX_ROOMS: String(rooms + 10), LOG_LEVEL: 'error', HISTORY_LIMIT: '1000' };

function open(url, user) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}?user=${user}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function request(ws, pending, frame) {
  return new Promise((resolve) => {
    pending.set(frame.ref, resolve);
    ws.send(JSON.stringify(frame));
  });
}

async function runOnce(kind) {
  const bus = await startBus(kind);
  const gateways = await Promise.all(Array.from({ length: gatewayCount }, () => startGateway({ env: { ...env, ...bus.env } })));
  const sockets = [];
  try {
    // One reader per gateway in every room: each accepted message is delivered gatewayCount times.
    let delivered = 0;
    for (const [g, gateway] of gateways.entries()) {
      const reader = await open(gateway.wsUrl, `reader${g}`);
      sockets.push(reader);
      const pending = new Map();
      reader.on('message', (data) => {
        const text = String(data);
        if (text.startsWith('{"type":"message"')) delivered++;
        else {
          const f = JSON.parse(text);
          pending.get(f.ref)?.(f);
        }
      });
      for (let r = 0; r < rooms; r++) await request(reader, pending, { type: 'join', room: `bus-${r}`, ref: `j${r}` });
    }
    const writers = [];
    for (let s = 0; s < senders; s++) {
      const ws = await open(gateways[s % gateways.length].wsUrl, `sender${s}`);
      sockets.push(ws);
      const pending = new Map();
      ws.on('message', (data) => {
        const f = JSON.parse(String(data));
        if (f.ref !== undefined) pending.get(f.ref)?.(f);
      });
      for (let r = s % rooms; r < rooms; r += senders) await request(ws, pending, { type: 'join', room: `bus-${r}`, ref: `j${r}` });
      writers.push({ ws, pending, rooms: Array.from({ length: Math.ceil((rooms - (s % rooms)) / senders) }, (_, i) => `bus-${(s % rooms) + i * senders}`).filter((_, i, all) => i < all.length) });
    }
    const masters = await bus.masters();
    await new Promise((r) => setTimeout(r, 500));
    const before = await snapshot(masters);
    const deliveredBefore = delivered;
    const latencies = [];
    let acked = 0;
    let failed = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(writers.flatMap((w, s) => Array.from({ length: inflight }, async (_, lane) => {
      let n = 0;
      while (Date.now() < end) {
        const room = w.rooms[(n + lane) % w.rooms.length];
        const ref = `${lane}:${n++}`;
        const t0 = performance.now();
        const reply = await request(w.ws, w.pending, { type: 'send', room, text: `${s}:${ref}`, ref, mid: ref });
        w.pending.delete(ref);
        if (reply.type === 'ack') {
          acked++;
          latencies.push(performance.now() - t0);
        } else failed++;
      }
    })));
    await new Promise((r) => setTimeout(r, 500));
    const after = await snapshot(masters);
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    const perMaster = perMasterDelta(before, after);
    // Where the time goes: each command's calls and time inside Redis per message, all masters together.
    const commands = commandsPer(before, after, acked);
    const totalCpu = perMaster.reduce((sum, m) => sum + m.cpuSec, 0);
    return {
      bus: kind,
      ackedPerSec: acked / seconds,
      deliveredPerSec: (delivered - deliveredBefore) / seconds,
      failed,
      ackP50Ms: pct(50),
      ackP99Ms: pct(99),
      redisCpuMsPer1kMessages: (totalCpu * 1000 * 1000) / Math.max(1, acked),
      redisSyscallsPerMessage: perMaster.reduce((sum, m) => sum + m.syscalls, 0) / Math.max(1, acked),
      masters: perMaster,
      commands: Object.fromEntries(Object.entries(commands).map(([name, c]) => [name, { callsPerMessage: c.calls, usecPerMessage: c.usec }])),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await Promise.all(gateways.map((g) => g.stop()));
    await bus.stop();
  }
}

const buses = args.buses.split(',');
const runs = [];
for (let run = 1; run <= Number(args.runs); run++) {
  for (const kind of buses) {
    const result = await runOnce(kind);
    runs.push({ run, ...result });
    process.stdout.write(`run ${run} ${kind}: ${result.ackedPerSec.toFixed(0)} acked/s, ${result.deliveredPerSec.toFixed(0)} delivered/s, ack p99 ${result.ackP99Ms.toFixed(1)} ms, ` +
      `Redis CPU ${result.redisCpuMsPer1kMessages.toFixed(1)} ms per 1k messages, ${result.redisSyscallsPerMessage.toFixed(2)} socket reads+writes per message, shares ${result.masters.map((m) => `${(m.shareOfCalls * 100).toFixed(0)}%`).join('/')}\n` +
      `  per message: ${Object.entries(result.commands).map(([name, c]) => `${name} ${c.callsPerMessage.toFixed(2)} calls ${c.usecPerMessage.toFixed(1)} µs`).join(', ')}\n`);
  }
}
const lines = ['| bus | acked msgs/s | delivered/s | ack p50 ms | ack p99 ms | Redis CPU ms per 1k msgs | masters\' share of commands |', '| --- | --- | --- | --- | --- | --- | --- |'];
for (const kind of buses) {
  const mine = runs.filter((r) => r.bus === kind);
  const shares = mine[0].masters.map((_, i) => median(mine.map((r) => r.masters[i]?.shareOfCalls ?? 0)));
  lines.push(`| ${kind === 'single' ? 'one Redis' : `Redis Cluster, ${shares.length} masters`} | ${median(mine.map((r) => r.ackedPerSec)).toFixed(0)} | ${median(mine.map((r) => r.deliveredPerSec)).toFixed(0)} | ` +
    `${median(mine.map((r) => r.ackP50Ms)).toFixed(2)} | ${median(mine.map((r) => r.ackP99Ms)).toFixed(2)} | ${median(mine.map((r) => r.redisCpuMsPer1kMessages)).toFixed(1)} | ` +
    `${shares.map((s) => `${(s * 100).toFixed(0)}%`).join(' / ')} |`);
}
process.stdout.write(`\nmedians of ${args.runs} runs; ${rooms} rooms, ${senders} senders x ${inflight} in flight, ${gatewayCount} gateways, one reader per gateway per room, ${seconds} s each\n${lines.join('\n')}\n`);
const dir = new URL(`./results/bus-${new Date().toISOString().replace(/[:.]/g, '-')}/`, import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('results.json', dir), JSON.stringify({ args, runs }, null, 2));
