// Presence frames delivered while one room fills to --members members, before and after counts-only
// presence (docs/protocol.md §4.4): once with LARGE_ROOM far above the room's size (every join is told
// to every member: the square of the size), once with LARGE_ROOM at its default (1000). Redis and two
// gateways run on 127.0.0.1; the members are spread over --workers processes, each connecting from a
// loopback address of its own (a process holds at most ~19,900 open files), and joining at a paced
// rate. Each worker counts the presence frames its connections receive, per second.
//
//   npm run build --silent && node bench/presence.mjs [--members 10000] [--rate 250] [--workers 4]
//                                                     [--fill-timeout 150] [--modes per-user,counts]
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startGateway, startRedis } from '@chat/testkit';

const ROOM = 'stadium';
const PRESENCE = Buffer.from('"type":"presence"');
const COUNT = Buffer.from('"count":');

if (process.argv[2] === '--worker') runWorker();
else await main();

async function main() {
  const { values } = parseArgs({ options: {
    members: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '250' },
    workers: { type: 'string', default: '4' },
    'fill-timeout': { type: 'string', default: '150' },
    modes: { type: 'string', default: 'per-user,counts' },
  } });
  const members = Number(values.members);
  const rate = Number(values.rate);
  const workers = Number(values.workers);
  const fillTimeoutMs = Number(values['fill-timeout']) * 1000;
  const results = [];
  const modes = { 'per-user': ['per-user presence (LARGE_ROOM=10000000)', '10000000'], counts: ['counts only (LARGE_ROOM=1000)', '1000'] };
  for (const [mode, largeRoom] of values.modes.split(',').map((name) => modes[name] ?? [name, name])) {
    console.log(`\n== ${mode}: ${members} members joining at ${rate}/s over ${workers} processes`);
    results.push({ mode, ...(await fill({ members, rate, workers, largeRoom, fillTimeoutMs })) });
  }
  console.log('\nmode | members reached | fill s | presence frames | frames/s mean | frames/s peak | closed | refused | failed');
  for (const r of results) {
    console.log(`${r.mode} | ${r.joined} | ${r.fillSec.toFixed(1)} | ${r.frames} | ${Math.round(r.frames / r.fillSec)} | ${r.peak} | ${r.closed} | ${r.refused} | ${r.failed}`);
  }
}

/** One fill of the room on a fresh Redis and two fresh gateways; resolves with what the workers counted. */
async function fill({ members, rate, workers, largeRoom, fillTimeoutMs }) {
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, LARGE_ROOM: largeRoom, PRESENCE_COUNT_INTERVAL_MS: '5000', RATE_LIMIT: '1000', MAX_BACKPRESSURE: String(64 * 1024 * 1024), LOG_LEVEL: 'error' };
  const gateways = await Promise.all([0, 1].map(() => startGateway({ env })));
  const procs = [];
  const totals = { joined: 0, frames: 0, counts: 0, closed: 0, refused: 0, failed: 0 };
  const perSecond = [];
  try {
    const share = Math.ceil(members / workers);
    for (let w = 0; w < workers; w++) {
      const child = fork(new URL(import.meta.url), ['--worker'], { stdio: 'inherit' });
      const last = { joined: 0, frames: 0, counts: 0, closed: 0, refused: 0, failed: 0 };
      child.on('message', (m) => {
        for (const key of Object.keys(last)) {
          totals[key] += m[key] - last[key];
          last[key] = m[key];
        }
      });
      child.send({
        urls: gateways.map((g) => g.wsUrl), count: Math.min(share, members - w * share), first: w * share,
        ratePerSec: rate / workers, localAddress: `127.0.0.${2 + w}`,
      });
      procs.push(child);
    }
    const started = Date.now();
    let previous = 0;
    let fillSec = 0;
    let tail = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const delta = totals.frames - previous;
      previous = totals.frames;
      perSecond.push(delta);
      const elapsed = (Date.now() - started) / 1000;
      console.log(`${elapsed.toFixed(0)} s: ${totals.joined} joined, ${delta} presence frames in the last second (${totals.counts} counts so far), ${totals.closed} closed`);
      if (fillSec === 0 && (totals.joined >= members || Date.now() - started > fillTimeoutMs)) fillSec = elapsed;
      // After the fill, one more count interval so the last counts are delivered too.
      if (fillSec > 0 && ++tail > 6) break;
    }
    return { ...totals, fillSec, peak: Math.max(...perSecond) };
  } finally {
    for (const child of procs) child.kill('SIGKILL');
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
  }
}

/** A worker: opens `count` members at `ratePerSec`, alternating the gateways, and reports what they got each second. */
function runWorker() {
  process.once('message', ({ urls, count, first, ratePerSec, localAddress }) => {
    const tally = { joined: 0, frames: 0, counts: 0, closed: 0, refused: 0, failed: 0 };
    const report = setInterval(() => process.send(tally), 500);
    report.unref();
    const everyMs = 1000 / ratePerSec;
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      setTimeout(() => {
        const n = first + i;
        const ws = new WebSocket(`${urls[n % urls.length]}?user=m${n}`, { localAddress, perMessageDeflate: false });
        ws.on('message', (data) => {
          if (data.indexOf(PRESENCE) !== -1) {
            tally.frames += 1;
            if (data.indexOf(COUNT) !== -1) tally.counts += 1;
          } else if (data.indexOf('"type":"welcome"') !== -1) ws.send(JSON.stringify({ type: 'join', room: ROOM }));
          else if (data.indexOf('"type":"joined"') !== -1) tally.joined += 1;
          else if (data.indexOf('"type":"error"') !== -1) {
            tally.refused += 1;
            if (tally.refused <= 3) console.error(`worker ${localAddress}: ${data}`);
          }
        });
        ws.on('close', () => (tally.closed += 1));
        ws.on('error', (error) => {
          tally.failed += 1;
          if (tally.failed <= 3) console.error(`worker ${localAddress}: ${error.message}`);
        });
      }, Math.max(0, started + i * everyMs - Date.now()));
    }
  });
}
