// Rows 2-4 (docs/protocol.md#faults): Redis paused, restarted with persistence, its connections killed,
// under steady traffic. Promise: every acked message delivered once; every send answered
// `unavailable` and resent with its mid stored exactly once (counted per mid in the final history).
import { RedisNode, sleep, startGateways, totalRss } from '../lib/cluster.mjs';
import { Ledger, midOf } from '../lib/ledger.mjs';
import { check, rowResult } from '../lib/row.mjs';
import { readAllHistory, startTraffic } from '../lib/traffic.mjs';

async function redisRow(name, opts, persistence, inject) {
  const startedAt = Date.now();
  const redis = await new RedisNode({ persistence }).start();
  const gateways = await startGateways(redis, 3);
  const ledger = new Ledger();
  const traffic = await startTraffic({ urls: gateways.map((g) => g.wsUrl), ledger, members: opts.members, tag: name.replace(/\W/g, '') });
  try {
    await sleep(opts.warmMs);
    const rssBefore = totalRss(gateways);
    const faultEndAt = await inject(redis, opts);
    await sleep(opts.afterMs);
    await traffic.stop();
    const history = await readAllHistory(gateways[0].wsUrl, traffic.roomNames);
    const summary = ledger.summarize({ rooms: traffic.rooms, history, faultEndAt });
    const stored = new Map();
    for (const list of history.values()) for (const m of list) stored.set(midOf(m.text), (stored.get(midOf(m.text)) ?? 0) + 1);
    const ackedNotStored = [...ledger.acks.keys()].filter((mid) => stored.get(mid) !== 1).length;
    const checks = [
      check('every send acked in the end (resent with its mid)', summary.failed === 0, `${summary.failed} never acked`),
      check('0 lost (acked, not delivered)', summary.lost === 0, summary.lost),
      check('0 doubled (deliveries and stored copies per mid)', summary.doubled === 0, `${summary.doubled}, ${summary.storedTwice} stored twice`),
      check('every acked mid stored exactly once', ackedNotStored === 0, `${ackedNotStored} not exactly once`),
      check('0 reordered', summary.reordered === 0, summary.reordered),
    ];
    return rowResult(name, summary, { rssBefore, rssAfter: totalRss(gateways), checks, startedAt, extra: { unavailable: summary.unavailable, resent: summary.resent } });
  } finally {
    traffic.close();
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
  }
}

export const redisPaused = (opts) => redisRow('redis-paused', opts, 'none', async (redis) => {
  redis.pause();
  await sleep(opts.pauseMs);
  redis.resume();
  return Date.now();
});

export const redisRestarted = (opts) => redisRow('redis-restarted', opts, 'aof', async (redis) => {
  await redis.stop();
  await sleep(opts.downMs);
  await redis.start();
  return Date.now();
});

export const redisConnectionsKilled = (opts) => redisRow('redis-conn-killed', opts, 'none', async (redis) => {
  for (let i = 0; i < 3; i++) {
    await redis.command('CLIENT', 'KILL', 'TYPE', 'normal');
    await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await sleep(1000);
  }
  return Date.now();
});
