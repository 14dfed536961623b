// Rows 7 and 8 (docs/protocol.md#mqtt, docs/protocol.md#faults): Mosquitto restarted with persistence, and one of two bridge
// replicas SIGKILLed (the outbound leader), under device posts and chat traffic. Promise: every post
// the broker PUBACKed at QoS 1 is stored once, in device order; chat messages reach devices
// subscribed at QoS 1 once each, in room order.
import { Redis } from 'ioredis';
import { RedisNode, sleep, startBridges, startBroker, startGateways, totalRss } from '../lib/cluster.mjs';
import { endAll, startPoster, startSubscriber } from '../lib/devices.mjs';
import { Ledger, compareIds, midOf } from '../lib/ledger.mjs';
import { check, rowResult } from '../lib/row.mjs';
import { readHistory, startTraffic } from '../lib/traffic.mjs';

const ROOM = 'mqttroom0';

/** Per device: PUBACKed posts not stored exactly once, and stored posts out of the device's order. */
function devicePromises(posters, stored) {
  let missing = 0, twice = 0, outOfOrder = 0;
  const count = new Map();
  for (const m of stored) count.set(midOf(m.text), (count.get(midOf(m.text)) ?? 0) + 1);
  for (const p of posters) {
    for (const seq of p.pubacks) {
      const n = count.get(`${p.device}.${seq}`) ?? 0;
      if (n === 0) missing += 1;
      else twice += n - 1;
    }
    const seqs = stored.filter((m) => m.from === p.device).map((m) => Number(midOf(m.text).split('.').at(-1)));
    for (let i = 1; i < seqs.length; i++) if (seqs[i] <= seqs[i - 1]) outOfOrder += 1;
  }
  return { missing, twice, outOfOrder };
}

/**
 * Per subscriber: stored messages it never got, got twice, or got out of id order. A repeat the
 * broker flagged DUP (a QoS 1 redelivery) is counted apart, not as the bridge's double.
 */
function subscriberPromises(subscribers, stored) {
  let missing = 0, twice = 0, outOfOrder = 0, redelivered = 0;
  for (const s of subscribers) {
    const got = new Set();
    let last;
    for (const m of s.messages) {
      if (got.has(m.id)) {
        if (m.redelivered) redelivered += 1;
        else twice += 1;
        continue;
      }
      got.add(m.id);
      if (last !== undefined && compareIds(m.id, last) <= 0) outOfOrder += 1;
      last = m.id;
    }
    for (const m of stored) if (!got.has(m.id)) missing += 1;
  }
  return { missing, twice, outOfOrder, redelivered };
}

/** The lease value of the outbound leader (it names the replica's NODE_ID), or '' when none shows. */
async function leaderLease(redis, prefix) {
  const admin = new Redis(redis.port, '127.0.0.1');
  try {
    for (let i = 0; i < 50; i++) {
      const value = await admin.get(`${prefix}{bridge}:leader`);
      if (value) return value;
      await sleep(100);
    }
    return '';
  } finally { admin.disconnect(); }
}

async function mqttRow(name, opts, inject) {
  const startedAt = Date.now();
  const prefix = `m${process.pid}x${Date.now() % 100000}:`;
  const redis = await new RedisNode().start();
  const broker = await startBroker();
  const gateways = await startGateways(redis, 2, { REDIS_PREFIX: prefix });
  const bridges = await startBridges(redis, broker, 2, prefix);
  const ledger = new Ledger();
  const subscribers = await Promise.all([0, 1].map((i) => startSubscriber(broker.url, `${name}-sub${i}`, ROOM)));
  const traffic = await startTraffic({ urls: gateways.map((g) => g.wsUrl), ledger, members: 4, roomSize: 4, intervalMs: 250, tag: 'mqtt' });
  const posters = await Promise.all(Array.from({ length: opts.devices }, (_, i) => startPoster(broker.url, `${name}-dev${i}`, ROOM, { count: opts.postsPerDevice, intervalMs: 100 })));
  try {
    await sleep(opts.warmMs);
    const rssBefore = totalRss(gateways);
    const faultEndAt = await inject({ broker, bridges, redis, prefix });
    await sleep(opts.afterMs);
    await Promise.all(posters.map((p) => p.done));
    await traffic.stop(3000);
    const stored = await readHistory(gateways[0].wsUrl, ROOM);
    const summary = ledger.summarize({ rooms: traffic.rooms, history: new Map([[ROOM, stored]]), faultEndAt });
    const pubacks = posters.reduce((n, p) => n + p.pubacks.length, 0);
    const device = devicePromises(posters, stored);
    const sub = subscriberPromises(subscribers, stored);
    const checks = [
      check('every PUBACKed device post stored exactly once', device.missing === 0 && device.twice === 0, `${device.missing} missing, ${device.twice} extra copies, of ${pubacks}`),
      check('device posts stored in device order', device.outOfOrder === 0, device.outOfOrder),
      check('QoS 1 subscribers got every stored message', sub.missing === 0, sub.missing),
      check('QoS 1 subscribers got each message once, in order', sub.twice === 0 && sub.outOfOrder === 0, `${sub.twice} twice, ${sub.outOfOrder} out of order, ${sub.redelivered} DUP redeliveries set apart`),
      check('0 lost, 0 doubled among WebSocket members', summary.lost === 0 && summary.doubled === 0, `${summary.lost} lost, ${summary.doubled} doubled`),
    ];
    const all = { ...summary, sent: summary.sent + opts.devices * opts.postsPerDevice, acked: summary.acked + pubacks,
      lost: summary.lost + device.missing, doubled: summary.doubled + sub.twice, reordered: summary.reordered + device.outOfOrder + sub.outOfOrder };
    return rowResult(name, all, { rssBefore, rssAfter: totalRss(gateways), checks, startedAt, extra: { pubacks, stored: stored.length, device, sub },
      note: 'sent/acked: WebSocket sends + device posts (PUBACKs); lost/doubled/reordered include devices and QoS 1 subscribers' });
  } finally {
    traffic.close();
    await endAll([...posters, ...subscribers]);
    await Promise.all([...gateways, ...bridges].map((s) => s.kill()));
    await broker.stop();
    await redis.kill();
  }
}

export const mosquittoRestarted = (opts) => mqttRow('mosquitto-restarted', opts, async ({ broker }) => {
  await broker.restart();
  return Date.now();
});

export const bridgeKilled = (opts) => mqttRow('bridge-killed', opts, async ({ bridges, redis, prefix }) => {
  const lease = await leaderLease(redis, prefix);
  const victim = bridges.find((b) => lease.includes(b.nodeId)) ?? bridges[0];
  await victim.kill();
  return Date.now();
});
