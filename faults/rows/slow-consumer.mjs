// Row 9 (docs/protocol.md#connect, docs/protocol.md#faults): a member of a busy room stops reading (its socket paused). Promise:
// closed with 4008 within seconds; the gateways' memory stays bounded; the other members' p99
// latency unchanged (within a stated tolerance, the machine being shared).
import { RedisNode, metric, rssMb, sleep, startGateways, totalRss } from '../lib/cluster.mjs';
import { Ledger } from '../lib/ledger.mjs';
import { check, rowResult } from '../lib/row.mjs';
import { startTraffic } from '../lib/traffic.mjs';
import { WireMember } from '../lib/wire-member.mjs';

const CLOSE_WITHIN_MS = 15_000;
/**
 * The stalled member is on gateway 0; gateway 1 carries the same room traffic without it and is the
 * control. Memory stays bounded when gateway 0 grows no more than the control plus this much
 * (MAX_BACKPRESSURE is 1 MB; the rest is the noise of two heaps under the same load).
 */
const EXTRA_GROWTH_MB = 24;
export const latencyBound = (before) => Math.max(3 * before, before + 100);

export async function slowConsumer(opts) {
  const startedAt = Date.now();
  const redis = await new RedisNode().start();
  const gateways = await startGateways(redis, 2, { MAX_TEXT: '20000' });
  const urls = gateways.map((g) => g.wsUrl);
  const ledger = new Ledger();
  const traffic = await startTraffic({ urls, ledger, members: 12, roomSize: 12, sendersPerRoom: 4, intervalMs: 20, padChars: 8000, maxInFlight: 50, tag: 'slow' });
  const slow = new WireMember({ urls: [urls[0]], user: 'stalled', ledger: new Ledger(), reconnect: false });
  try {
    await slow.connect();
    await slow.join(traffic.roomNames[0]);
    await sleep(opts.warmMs);
    const rssBefore = totalRss(gateways);
    const pausedAt = Date.now();
    slow.socket.pause();
    let closedAt;
    const base = gateways.map((g) => rssMb(g.pid));
    const peaks = [...base];
    const deadline = pausedAt + CLOSE_WITHIN_MS + 5000;
    while (Date.now() < deadline && closedAt === undefined) {
      await sleep(250);
      gateways.forEach((g, i) => { peaks[i] = Math.max(peaks[i], rssMb(g.pid)); });
      if ((await metric(gateways[0], 'chat_connections_closed_total', { reason: 'slow_consumer' })) > 0) closedAt = Date.now();
    }
    const duringEnd = Date.now();
    const dropped = await metric(gateways[0], 'chat_backpressure_dropped_total');
    const code = new Promise((resolve) => { slow.onClose = resolve; setTimeout(() => resolve(slow.closeCode), 5000); });
    slow.socket.resume();
    const closeCode = await code;
    await traffic.stop(1000, 10_000);
    traffic.close();
    await sleep(2000);
    const rssAfter = totalRss(gateways);
    const extra = Math.round(((peaks[0] - base[0]) - (peaks[1] - base[1])) * 10) / 10;
    const p99Before = ledger.p99(startedAt, pausedAt);
    const p99During = ledger.p99(pausedAt, duringEnd);
    const summary = ledger.summarize({ rooms: traffic.rooms });
    const closeMs = closedAt === undefined ? -1 : closedAt - pausedAt;
    const checks = [
      check(`closed with 4008 within ${CLOSE_WITHIN_MS / 1000} s`, closeCode === 4008 && closeMs >= 0 && closeMs <= CLOSE_WITHIN_MS, `code ${closeCode}, slow_consumer close after ${closeMs} ms`),
      check('no frame dropped on a connection that stays open', dropped === 0, `chat_backpressure_dropped_total ${dropped}`),
      check(`its gateway's RSS grew less than ${EXTRA_GROWTH_MB} MB over the control's`, extra < EXTRA_GROWTH_MB, `${base[0]} -> peak ${peaks[0]} MB, control ${base[1]} -> ${peaks[1]} MB`),
      check('others\' p99 unchanged', p99During <= latencyBound(p99Before), `${p99Before} -> ${p99During} ms, bound max(3x, +100 ms)`),
      check('0 lost, 0 doubled, 0 reordered for the others', summary.lost + summary.doubled + summary.reordered === 0, `${summary.lost}/${summary.doubled}/${summary.reordered}`),
    ];
    return rowResult('slow-consumer', { ...summary, recoverMs: closeMs }, {
      rssBefore, rssAfter, checks, startedAt, p99: { before: p99Before, during: p99During }, extra: { closeCode, closeMs, dropped, p99Before, p99During, baseRssMb: base, peakRssMb: peaks, extraGrowthMb: extra },
      note: `recover = pause to close; RSS of its gateway ${base[0]} -> peak ${peaks[0]} MB, of the control ${base[1]} -> ${peaks[1]} MB`,
    });
  } finally {
    slow.close();
    traffic.close();
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
  }
}
