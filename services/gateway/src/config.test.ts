import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@chat/runtime';
import { readGatewayConfig } from './config.js';

/** Asserts that `value` for `name` is refused with an error naming the variable. */
function refused(name: string, value: string): void {
  assert.throws(() => readGatewayConfig({ [name]: value }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.variable, name);
    return true;
  }, `${name}=${value}`);
}

test('the bounded-client limits have the contract defaults', () => {
  const config = readGatewayConfig({});
  assert.equal(config.maxRooms, 100);
  assert.equal(config.maxBackpressureBytes, 1_048_576);
  assert.equal(config.idempotencyMs, 300_000);
});

test('MAX_ROOMS accepts 1 and refuses 0 or a non-number', () => {
  assert.equal(readGatewayConfig({ MAX_ROOMS: '1' }).maxRooms, 1);
  refused('MAX_ROOMS', '0');
  refused('MAX_ROOMS', 'lots');
});

test('IDEMPOTENCY_SECONDS is read in milliseconds, at least one second', () => {
  assert.equal(readGatewayConfig({ IDEMPOTENCY_SECONDS: '1' }).idempotencyMs, 1_000);
  assert.equal(readGatewayConfig({ IDEMPOTENCY_SECONDS: '600' }).idempotencyMs, 600_000);
  refused('IDEMPOTENCY_SECONDS', '0');
  refused('IDEMPOTENCY_SECONDS', '1.5');
});

test('MAX_BACKPRESSURE refuses a value below 1 KiB', () => {
  assert.equal(readGatewayConfig({ MAX_BACKPRESSURE: '1024' }).maxBackpressureBytes, 1024);
  refused('MAX_BACKPRESSURE', '1023');
});

test('the bus is the in-process one, one Redis, or a Redis Cluster, never two at once', () => {
  assert.deepEqual([readGatewayConfig({}).redisUrl, readGatewayConfig({}).redisClusterNodes], [undefined, undefined]);
  assert.equal(readGatewayConfig({ REDIS_URL: 'redis://r:6379' }).redisUrl, 'redis://r:6379');
  assert.deepEqual(readGatewayConfig({ REDIS_CLUSTER_NODES: 'r0:7000,r1:7001' }).redisClusterNodes, ['r0:7000', 'r1:7001']);
  assert.throws(() => readGatewayConfig({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r0:7000' }), /REDIS_CLUSTER_NODES: set it or REDIS_URL, not both/);
  refused('REDIS_CLUSTER_NODES', 'r0');
});
