import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keySlot, startRedisCluster, type RedisCluster } from '@chat/testkit';
import { openCluster } from './cluster.js';
import { runClusterContract } from './contract-suite.js';
import { RedisKeys } from './redis-keys.js';

let redis: RedisCluster;
let prefixes = 0;
before(async () => {
  redis = await startRedisCluster();
});
after(() => redis.stop());

runClusterContract('the Redis Cluster stores', async ({ historyLimit, presenceTtlMs, idempotencyMs }) => {
  const prefix = `c${++prefixes}:`;
  const cluster = openCluster({ redisUrl: undefined, redisClusterNodes: redis.seeds.split(','), prefix, historyLimit, presenceTtlMs, idempotencyMs, name: 'contract' });
  await new Promise<void>((ready) => {
    const poll = () => (cluster.bus.connected ? ready() : setTimeout(poll, 10));
    poll();
  });
  const command = cluster.redis!.command;
  return {
    ...cluster,
    appendSilently: async (room, body) => {
      const log = cluster.keys.roomLog(room);
      const prev = (await command.xrevrange(log, '+', '-', 'COUNT', 1))[0]?.[0] ?? '';
      return (await command.xadd(log, 'MAXLEN', historyLimit, '*', 'p', prev, 'b', body)) as string;
    },
    loseNewest: async (room, count) => {
      const log = cluster.keys.roomLog(room);
      if (count === Infinity) await command.del(log);
      else for (const [id] of await command.xrevrange(log, '+', '-', 'COUNT', count)) await command.xdel(log, id);
    },
  };
});

test('every key and the channel of one room share its hash slot, and a user\'s directory entry its own', () => {
  const keys = new RedisKeys('chat:');
  for (const room of ['lobby', 'a', 'room.with-dots_1']) {
    const slot = keySlot(`{${room}}`);
    const named = [keys.roomLog(room), keys.roomOnce(room, 'u:alice:m1'), keys.roomLost(room), keys.roomChannel(room), keys.roomMembers(room), keys.roomHolders(room, 'bob')];
    assert.deepEqual(named.map((key) => keySlot(key)), named.map(() => slot), room);
  }
  assert.equal(keySlot(keys.userNodes('alice')), keySlot('{alice}'));
  assert.equal(keySlot(keys.nodeChannel('gw-1.ab12')), keySlot('{gw-1.ab12}'));
});
