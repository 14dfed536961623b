// --soak-minutes N: steady traffic on one cluster (3 gateways, one Redis) for N minutes, the
// gateways' RSS sampled every 10 s. Reports the drift (last sample minus the first, after a warm-up)
// beside the usual counts; a drift over the stated bound or a lost/doubled/reordered message fails.
import { RedisNode, sleep, startGateways, totalRss } from '../lib/cluster.mjs';
import { Ledger } from '../lib/ledger.mjs';
import { check, rowResult } from '../lib/row.mjs';
import { readAllHistory, startTraffic } from '../lib/traffic.mjs';

const SAMPLE_MS = 10_000;
const DRIFT_MB = 64;

export async function soak(opts, minutes) {
  const startedAt = Date.now();
  const redis = await new RedisNode().start();
  const gateways = await startGateways(redis, 3);
  const ledger = new Ledger();
  const traffic = await startTraffic({ urls: gateways.map((g) => g.wsUrl), ledger, members: opts.members, tag: 'soak' });
  try {
    await sleep(opts.warmMs);
    const samples = [];
    const until = Date.now() + minutes * 60_000;
    while (Date.now() < until) {
      samples.push({ at: Date.now() - startedAt, rssMb: totalRss(gateways) });
      await sleep(Math.min(SAMPLE_MS, Math.max(0, until - Date.now())));
    }
    samples.push({ at: Date.now() - startedAt, rssMb: totalRss(gateways) });
    await traffic.stop();
    const history = await readAllHistory(gateways[0].wsUrl, traffic.roomNames);
    const summary = ledger.summarize({ rooms: traffic.rooms, history });
    const drift = Math.round((samples.at(-1).rssMb - samples[0].rssMb) * 10) / 10;
    const checks = [
      check(`gateway RSS drift under ${DRIFT_MB} MB`, drift < DRIFT_MB, `${drift} MB over ${minutes} min`),
      check('0 lost, 0 doubled, 0 reordered', summary.lost + summary.doubled + summary.reordered === 0, `${summary.lost}/${summary.doubled}/${summary.reordered}`),
    ];
    return rowResult('soak', summary, {
      rssBefore: samples[0].rssMb, rssAfter: samples.at(-1).rssMb, checks, startedAt,
      extra: { minutes, driftMb: drift, samples }, note: `${minutes} min of steady traffic, RSS drift ${drift} MB`,
    });
  } finally {
    traffic.close();
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
  }
}
