// Row 10 (docs/protocol.md#connect, docs/protocol.md#faults): a member floods a busy room far over RATE_LIMIT. Promise: it gets
// `rate_limited` at most once a second, then is closed with 4429 once the abuse is sustained
// (RATE_ABUSE_SECONDS; 10 s by default, shorter in the bounded mode); the others' p99 unchanged.
import { RedisNode, sleep, startGateways, totalRss } from '../lib/cluster.mjs';
import { Ledger, textOf } from '../lib/ledger.mjs';
import { check, rowResult } from '../lib/row.mjs';
import { startTraffic } from '../lib/traffic.mjs';
import { WireMember } from '../lib/wire-member.mjs';
import { latencyBound } from './slow-consumer.mjs';

const FRAMES_PER_TICK = 40;
const TICK_MS = 50;

/** rate_limited errors closer than a second (50 ms of timer slack) to the one before. */
function tooFrequent(log) {
  const times = log.filter((e) => e.code === 'rate_limited').map((e) => e.at);
  let count = 0;
  for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] < 950) count += 1;
  return { count, total: times.length };
}

export async function flooder(opts) {
  const startedAt = Date.now();
  const redis = await new RedisNode().start();
  const abuseMs = opts.rateAbuseSeconds * 1000;
  const gateways = await startGateways(redis, 2, { RATE_LIMIT: '20', RATE_ABUSE_SECONDS: String(opts.rateAbuseSeconds) });
  const urls = gateways.map((g) => g.wsUrl);
  const ledger = new Ledger();
  const traffic = await startTraffic({ urls, ledger, members: 20, roomSize: 20, sendersPerRoom: 4, intervalMs: 250, tag: 'fl' });
  const flood = new WireMember({ urls: [urls[0]], user: 'flooder', ledger, reconnect: false });
  try {
    await flood.connect();
    const room = traffic.roomNames[0];
    await flood.join(room);
    await sleep(opts.warmMs);
    const rssBefore = totalRss(gateways);
    const floodAt = Date.now();
    const closed = new Promise((resolve) => { flood.onClose = (code) => resolve({ code, at: Date.now() }); });
    let seq = 0;
    const stopAt = floodAt + abuseMs + 10_000;
    let outcome;
    while (Date.now() < stopAt && outcome === undefined) {
      for (let i = 0; i < FRAMES_PER_TICK; i++, seq++) flood.raw(JSON.stringify({ type: 'send', room, text: textOf(`flooder.${seq}`), mid: `flooder.${seq}` }));
      outcome = await Promise.race([closed, sleep(TICK_MS)]);
    }
    const duringEnd = Date.now();
    await traffic.stop(1000, 10_000);
    const rssAfter = totalRss(gateways);
    const frequent = tooFrequent(flood.errorLog);
    const closeMs = outcome === undefined ? -1 : outcome.at - floodAt;
    const p99Before = ledger.p99(startedAt, floodAt, 'flooder');
    const p99During = ledger.p99(floodAt, duringEnd, 'flooder');
    const summary = ledger.summarize({ rooms: traffic.rooms });
    const checks = [
      check('rate_limited received', frequent.total > 0, `${frequent.total} for ${seq} frames`),
      check('at most one rate_limited a second', frequent.count === 0, `${frequent.count} closer than 1 s`),
      check(`closed with 4429 after about ${opts.rateAbuseSeconds} s of abuse`, outcome?.code === 4429 && closeMs <= abuseMs + 5000, `code ${outcome?.code}, after ${closeMs} ms`),
      check('others\' p99 unchanged', p99During <= latencyBound(p99Before), `${p99Before} -> ${p99During} ms, bound max(3x, +100 ms)`),
      check('0 lost, 0 doubled, 0 reordered for the others', summary.lost + summary.doubled + summary.reordered === 0, `${summary.lost}/${summary.doubled}/${summary.reordered}`),
    ];
    return rowResult('flooder', { ...summary, recoverMs: closeMs }, {
      rssBefore, rssAfter, checks, startedAt, p99: { before: p99Before, during: p99During }, extra: { floodFrames: seq, rateLimited: frequent.total, closeCode: outcome?.code, closeMs, p99Before, p99During },
      note: `recover = flood start to close; ${seq} flood frames, ${frequent.total} rate_limited`,
    });
  } finally {
    flood.close();
    traffic.close();
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
  }
}
