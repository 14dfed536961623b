// One fill of a room to `members` members on a fresh Redis and two fresh gateways, counting the
// presence frames the members receive each second (bench/presence.mjs, bench/chat-costs.mjs). The
// members are spread over `workers` processes (presence-worker.mjs), each connecting from a loopback
// address of its own (a process holds at most ~19,900 open files) and joining at a paced rate.
import { fork } from 'node:child_process';
import { startGateway, startRedis } from '@chat/testkit';

const WORKER = new URL('./presence-worker.mjs', import.meta.url);

/** LARGE_ROOM for each mode: far above any room's size (every join told to every member), or the default. */
export const PRESENCE_MODES = { 'per-user': ['per-user presence (LARGE_ROOM=10000000)', '10000000'], counts: ['counts only (LARGE_ROOM=1000)', '1000'] };

/** One fill of the room on a fresh Redis and two fresh gateways; resolves with what the workers counted. */
export async function fill({ members, rate, workers, largeRoom, fillTimeoutMs, log = console.log }) {
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, LARGE_ROOM: largeRoom, PRESENCE_COUNT_INTERVAL_MS: '5000', RATE_LIMIT: '1000', MAX_BACKPRESSURE: String(64 * 1024 * 1024), LOG_LEVEL: 'error' };
  const gateways = [];
  const procs = [];
  const totals = { joined: 0, frames: 0, counts: 0, closed: 0, refused: 0, failed: 0 };
  const perSecond = [];
  try {
    for (let g = 0; g < 2; g++) gateways.push(await startGateway({ env }));
    const share = Math.ceil(members / workers);
    for (let w = 0; w < workers; w++) {
      const child = fork(WORKER, [], { stdio: 'inherit' });
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
      log(`${elapsed.toFixed(0)} s: ${totals.joined} joined, ${delta} presence frames in the last second (${totals.counts} counts so far), ${totals.closed} closed`);
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

