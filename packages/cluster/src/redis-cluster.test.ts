import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keySlot, startRedisCluster, type RedisCluster } from '@chat/testkit';
import { runChangeContract } from './change-contract.js';
import { redisBackend, runClusterContract } from './contract-suite.js';
import { RedisKeys } from './redis-keys.js';

let redis: RedisCluster;
let prefixes = 0;
before(async () => {
  redis = await startRedisCluster();
});
after(() => redis.stop());

runClusterContract('the Redis Cluster stores', (options) =>
  redisBackend({ ...options, redisUrl: undefined, redisClusterNodes: redis.seeds.split(','), prefix: `c${++prefixes}:`, name: 'contract' }));
runChangeContract('the Redis Cluster stores', (options) =>
  redisBackend({ ...options, redisUrl: undefined, redisClusterNodes: redis.seeds.split(','), prefix: `c${++prefixes}:`, name: 'contract' }));

test('every key and the channel of one room share its hash slot, and a user\'s directory entry its own', () => {
  const keys = new RedisKeys('chat:');
  for (const room of ['lobby', 'a', 'room.with-dots_1']) {
    const slot = keySlot(`{${room}}`);
    const named = [keys.roomLog(room), keys.roomOnce(room, 'u:alice:m1'), keys.roomLost(room), keys.roomTip(room), keys.roomChannel(room), keys.roomMembers(room), keys.roomHolders(room, 'bob'), keys.roomSerial(room), keys.roomRead(room), keys.roomState(room)];
    assert.deepEqual(named.map((key) => keySlot(key)), named.map(() => slot), room);
  }
  assert.equal(keySlot(keys.userNodes('alice')), keySlot('{alice}'));
  assert.equal(keySlot(keys.nodeChannel('gw-1.ab12')), keySlot('{gw-1.ab12}'));
});
