import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@chat/testkit';
import { openCluster } from './cluster.js';
import { runChangeContract } from './change-contract.js';
import { redisBackend, runClusterContract } from './contract-suite.js';

let server: RedisServer;
let prefixes = 0;
before(async () => {
  server = await startRedis();
});
after(() => server.stop());

runClusterContract('the Redis stores', (options) => redisBackend({ ...options, redisUrl: server.url, prefix: `t${++prefixes}:`, name: 'contract' }));
runChangeContract('the Redis stores', (options) => redisBackend({ ...options, redisUrl: server.url, prefix: `t${++prefixes}:`, name: 'contract' }));

test('a directory write that fails on a live connection is made good: the user becomes reachable', async (t) => {
  const prefix = `t${++prefixes}:`;
  const cluster = openCluster({ redisUrl: server.url, prefix, historyLimit: 10, presenceTtlMs: 5_000, idempotencyMs: 60_000, name: 'healing' });
  const admin = new Redis(server.url);
  t.after(async () => {
    admin.disconnect();
    await cluster.close();
  });
  await until('connected', async () => cluster.bus.connected);
  await cluster.bus.subscribeUser('first');
  // A value of the wrong type makes the next SADD fail with an error reply; the connection stays up.
  await admin.set(cluster.keys.userNodes('second'), 'in the way');
  await assert.rejects(cluster.bus.subscribeUser('second'), /WRONGTYPE/);
  await admin.del(cluster.keys.userNodes('second'));
  const direct = (to: string) => cluster.bus.direct({ to, from: 'someone', event: '{}', originConn: 'c1', receivedAt: Date.now(), id: 'd1' }).then((o) => o.reached);
  await until('second reachable by direct', () => direct('second'));
  assert.equal(await direct('first'), true, 'the rewrite kept the users listed before');
});

test('the states of messages trimmed from the stream are dropped once the state hash holds twice HISTORY_LIMIT', async (t) => {
  const prefix = `t${++prefixes}:`;
  const cluster = openCluster({ redisUrl: server.url, prefix, historyLimit: 4, presenceTtlMs: 5_000, idempotencyMs: 60_000, name: 'states' });
  const admin = new Redis(server.url);
  t.after(async () => {
    admin.disconnect();
    await cluster.close();
  });
  await until('connected', async () => cluster.bus.connected);
  const room = 'sweep';
  let most = 0;
  for (let i = 0; i < 20; i++) {
    const { id } = await cluster.bus.publish({ room, from: 'ann', text: `m${i}`, ts: Date.now(), receivedAt: Date.now() });
    const change = { kind: 'reaction' as const, target: id, emoji: 'ok', on: true };
    const reacted = await cluster.bus.publish({ room, from: 'bob', change, moderator: false, maxReactions: 20, ts: Date.now(), receivedAt: Date.now() });
    assert.equal(reacted.refused, undefined);
    most = Math.max(most, await admin.hlen(cluster.keys.roomState(room)));
  }
  assert.equal(most, 8, 'it grows to twice the limit, never past it');
  const kept = await admin.hkeys(cluster.keys.roomState(room));
  const held = (await cluster.history.latest(room, 10)).map((m) => m.id);
  assert.ok(kept.length < 8, 'swept');
  assert.deepEqual(held.filter((id) => !kept.includes(id)), [], 'the states of the messages the stream holds are kept');
});

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
