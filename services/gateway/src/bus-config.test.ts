import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readGatewayConfig } from './config.js';

test('the bus is the in-process one, one Redis, or a Redis Cluster, never two at once', () => {
  assert.deepEqual([readGatewayConfig({}).redisUrl, readGatewayConfig({}).redisClusterNodes], [undefined, undefined]);
  assert.equal(readGatewayConfig({ REDIS_URL: 'redis://r:6379' }).redisUrl, 'redis://r:6379');
  assert.deepEqual(readGatewayConfig({ REDIS_CLUSTER_NODES: 'r0:7000,r1:7001' }).redisClusterNodes, ['r0:7000', 'r1:7001']);
  assert.throws(() => readGatewayConfig({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r0:7000' }), /REDIS_CLUSTER_NODES: set it or REDIS_URL, not both/);
  assert.throws(() => readGatewayConfig({ REDIS_CLUSTER_NODES: 'r0' }), /REDIS_CLUSTER_NODES: "r0" is not host:port/);
});

test('IDEMPOTENCY_SECONDS is 300 by default and a positive number of seconds', () => {
  assert.equal(readGatewayConfig({}).idempotencyMs, 300_000);
  assert.equal(readGatewayConfig({ IDEMPOTENCY_SECONDS: '1' }).idempotencyMs, 1_000);
  assert.throws(() => readGatewayConfig({ IDEMPOTENCY_SECONDS: '0' }), /IDEMPOTENCY_SECONDS: 0 is outside/);
});
