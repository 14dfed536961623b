import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient, startGateway, startRedisCluster, type GatewayService, type RedisCluster, type TestClient } from '@chat/testkit';
import { joined, sleep } from './test-helpers.js';

/**
 * docs/protocol.md#redis-cluster under traffic: a busy room's slot moved to another master, and a master killed so
 * its replica is promoted. Each member counts what it got against what the writer was acked, and
 * every master's own counters show where room traffic went.
 */
describe('three gateways on a Redis Cluster, under slot migration and failover', () => {
  let redis: RedisCluster;
  let nodes: GatewayService[];
  const open: TestClient[] = [];
  const env = { REDIS_PREFIX: `rc${process.pid}:`, RATE_LIMIT: '10000', HISTORY_LIMIT: '5000', PRESENCE_TTL_SECONDS: '3' };

  before(async () => {
    redis = await startRedisCluster();
    nodes = await Promise.all([0, 1, 2].map(() => startGateway({ env: { ...env, REDIS_CLUSTER_NODES: redis.seeds } })));
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  const member = async (node: number, user: string, room: string) => {
    const r = await joined(nodes[node]!.wsUrl, user, room);
    open.push(r.client);
    return r.client;
  };

  test('a busy room whose slot moves to another master loses, doubles and reorders nothing', async () => {
    const room = 'moving';
    const readers = await Promise.all([1, 2].map((n) => member(n, `reader${n}`, room)));
    const writer = await member(0, 'writer', room);
    const slot = redis.slotOf(`{${room}}`);
    const source = await redis.ownerOf(slot);
    const target = (await redis.masters()).find((m) => m.id !== source.id)!;
    const traffic = sendSteadily(writer, room, 400, 4);
    await sleep(400);
    const moved = await redis.migrateSlot(slot, target.id);
    const acked = await traffic;
    assert.equal((await redis.ownerOf(slot)).id, target.id, 'the slot moved');
    const history = await fullHistory(writer, room);
    const report = readers.map((r) => tally(r, room, acked.ids, history));
    console.log(`# slot migration: ${moved} keys moved; sent ${acked.sent}, acked ${acked.ids.length}, resent ${acked.resent}; ` +
      report.map((t, i) => `reader ${i + 1}: delivered ${t.delivered}, lost ${t.lost}, doubled ${t.doubled}, reordered ${t.reordered}, gaps ${t.gaps}`).join('; '));
    assert.equal(new Set(history).size, history.length, 'every mid stored once');
    assert.deepEqual(history, acked.ids, 'history holds exactly the acked messages, in order');
    for (const t of report) assert.deepEqual([t.lost, t.doubled, t.reordered, t.gaps], [0, 0, 0, 0]);
  });

  test('a master killed under traffic: its replica takes over, nothing the stream holds is lost or doubled, and what it lost is a gap', async () => {
    const room = 'failing';
    const readers = await Promise.all([1, 2].map((n) => member(n, `watch${n}`, room)));
    const writer = await member(0, 'scribe', room);
    const owner = await redis.ownerOf(redis.slotOf(`{${room}}`));
    const traffic = sendSteadily(writer, room, 300, 5);
    await sleep(500);
    const killedAt = Date.now();
    await redis.killMaster(owner.id);
    const promoted = await redis.waitForFailover(owner.id, 30_000);
    const acked = await traffic;
    const recoveredMs = Date.now() - killedAt;
    const history = await fullHistory(writer, room);
    const report = readers.map((r) => tally(r, room, acked.ids, history));
    const lostByRedis = acked.ids.filter((id) => !history.includes(id)).length;
    console.log(`# failover: ${owner.port} -> ${promoted.port} in ${recoveredMs} ms; sent ${acked.sent}, acked ${acked.ids.length}, resent ${acked.resent}, ` +
      `acked but lost with the old master ${lostByRedis}; ` +
      report.map((t, i) => `reader ${i + 1}: delivered ${t.delivered}, lost ${t.lost}, doubled ${t.doubled}, reordered ${t.reordered}, gaps ${t.gaps}`).join('; '));
    assert.equal(new Set(history).size, history.length, 'every mid stored at most once');
    for (const t of report) {
      assert.deepEqual([t.lost, t.doubled, t.reordered], [0, 0, 0], 'everything the stream holds reached every member once, in order');
      if (lostByRedis > 0) assert.ok(t.gaps > 0, 'a loss of acked messages is reported as a gap');
    }
  });

  test('each master carries only its own rooms, and no room traffic goes by classic PUBLISH', async () => {
    const rooms = Array.from({ length: 24 }, (_, i) => `spread-${i}`);
    const before = await counters();
    const writer = await connectClient(nodes[0]!.wsUrl, { user: 'spreader' });
    open.push(writer);
    const listeners = await Promise.all([1, 2].map((n) => connectClient(nodes[n]!.wsUrl, { user: `ear${n}` })));
    open.push(...listeners);
    for (const room of rooms) {
      for (const c of [writer, ...listeners]) assert.equal((await c.request({ type: 'join', room })).type, 'joined');
    }
    const perRoom = 20;
    for (const room of rooms) for (let i = 0; i < perRoom; i++) assert.equal((await writer.request({ type: 'send', room, text: `${i}` })).type, 'ack');
    const after = await counters();
    const masters = await redis.masters();
    const owned = new Map(masters.map((m) => [m.id, 0]));
    for (const room of rooms) {
      const owner = await redis.ownerOf(redis.slotOf(`{${room}}`));
      owned.set(owner.id, owned.get(owner.id)! + 1);
      const subscribers = await owner.command('PUBSUB', 'SHARDNUMSUB', `${env.REDIS_PREFIX}{${room}}`);
      assert.equal((subscribers as [string, number])[1], 3, `${room}: one sharded subscription per gateway, on the master that owns it`);
    }
    const lines = masters.map((m) => {
      const spublish = (after.get(m.id)?.spublish ?? 0) - (before.get(m.id)?.spublish ?? 0);
      return { id: m.id, port: m.port, rooms: owned.get(m.id)!, spublish, publish: (after.get(m.id)?.publish ?? 0) - (before.get(m.id)?.publish ?? 0) };
    });
    const index = await redis.ownerOf(redis.slotOf(`{rooms}`));
    console.log(`# per-master split: ${lines.map((l) => `:${l.port} rooms ${l.rooms}, SPUBLISH ${l.spublish}, PUBLISH ${l.publish}`).join('; ')}`);
    for (const l of lines) {
      assert.equal(l.publish, 0, 'no classic PUBLISH on any master');
      // Each message and each of the three users' first join is one SPUBLISH, on the room's own master
      // only; the master of the room index also announces each new room once.
      const expected = l.rooms * (perRoom + 3) + (l.id === index.id ? rooms.length : 0);
      assert.equal(l.spublish, expected, `master :${l.port} published for its ${l.rooms} rooms only`);
    }
  });

  /** cmdstat_spublish and cmdstat_publish calls per master. */
  async function counters(): Promise<Map<string, { spublish: number; publish: number }>> {
    const result = new Map<string, { spublish: number; publish: number }>();
    for (const m of await redis.masters()) {
      const info = String(await m.command('INFO', 'commandstats'));
      const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      result.set(m.id, { spublish: calls('spublish'), publish: calls('publish') });
    }
    return result;
  }
});

interface Acked {
  sent: number;
  resent: number;
  /** Ids acked, in the order the writer got them (one writer, one at a time: the room's order). */
  ids: string[];
}

/** One message at a time, each with its own mid, resent with that mid on `unavailable` or a timeout until acked. */
async function sendSteadily(writer: TestClient, room: string, count: number, gapMs: number): Promise<Acked> {
  const acked: Acked = { sent: 0, resent: 0, ids: [] };
  for (let i = 0; i < count; i++) {
    const mid = `m${i}`;
    for (let attempt = 0; ; attempt++) {
      acked.sent += 1;
      if (attempt > 0) acked.resent += 1;
      const reply = await writer.request({ type: 'send', room, text: `n${i}`, mid }, 5_000).catch(() => undefined);
      if (reply?.type === 'ack') {
        if (reply.duplicate !== true || !acked.ids.includes(String(reply.id))) acked.ids.push(String(reply.id));
        break;
      }
      assert.ok(attempt < 200, `message ${i} never acked: ${JSON.stringify(reply)}`);
      await sleep(100);
    }
    await sleep(gapMs);
  }
  return acked;
}

async function fullHistory(client: TestClient, room: string): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await client.request(before === undefined ? { type: 'history', room, limit: 100 } : { type: 'history', room, before, limit: 100 });
    const batch = (page.messages as Array<{ id: string }>).map((m) => m.id);
    if (batch.length === 0) return ids;
    ids.unshift(...batch);
    before = batch[0];
  }
}

interface Tally { delivered: number; lost: number; doubled: number; reordered: number; gaps: number }

/** What a member got of `room`, against what was acked and what the stream still holds. */
function tally(client: TestClient, room: string, acked: string[], history: string[]): Tally {
  const got = client.frames.filter((f) => f.type === 'message' && f.room === room).map((f) => String(f.id));
  const gaps = client.frames.filter((f) => f.type === 'joined' && f.room === room && f.gap === true).length;
  const seen = new Set(got);
  const held = acked.filter((id) => history.includes(id));
  let reordered = 0;
  for (let i = 1; i < got.length; i++) if (history.indexOf(got[i]!) < history.indexOf(got[i - 1]!)) reordered++;
  return { delivered: got.length, lost: held.filter((id) => !seen.has(id)).length, doubled: got.length - seen.size, reordered, gaps };
}
