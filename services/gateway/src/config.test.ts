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

test('typing and read receipts: defaults, edges, and a ttl never shorter than the interval', () => {
  const config = readGatewayConfig({});
  assert.deepEqual([config.typingIntervalMs, config.typingTtlMs, config.readReceipts], [2000, 5000, false]);
  assert.equal(readGatewayConfig({ TYPING_INTERVAL_MS: '100', TYPING_TTL_MS: '1000' }).typingIntervalMs, 100);
  assert.equal(readGatewayConfig({ TYPING_INTERVAL_MS: '60000', TYPING_TTL_MS: '60000' }).typingTtlMs, 60_000);
  refused('TYPING_INTERVAL_MS', '99');
  refused('TYPING_INTERVAL_MS', '60001');
  refused('TYPING_TTL_MS', '999');
  assert.throws(() => readGatewayConfig({ TYPING_INTERVAL_MS: '3000', TYPING_TTL_MS: '2999' }), (error: unknown) => error instanceof ConfigError && error.variable === 'TYPING_TTL_MS');
  assert.equal(readGatewayConfig({ READ_RECEIPTS: 'true' }).readReceipts, true);
  refused('READ_RECEIPTS', 'yes');
});

test('the bus is the in-process one, one Redis, or a Redis Cluster, never two at once', () => {
  assert.deepEqual([readGatewayConfig({}).redisUrl, readGatewayConfig({}).redisClusterNodes], [undefined, undefined]);
  assert.equal(readGatewayConfig({ REDIS_URL: 'redis://r:6379' }).redisUrl, 'redis://r:6379');
  assert.deepEqual(readGatewayConfig({ REDIS_CLUSTER_NODES: 'r0:7000,r1:7001' }).redisClusterNodes, ['r0:7000', 'r1:7001']);
  assert.throws(() => readGatewayConfig({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r0:7000' }), /REDIS_CLUSTER_NODES: set it or REDIS_URL, not both/);
  refused('REDIS_CLUSTER_NODES', 'r0');
});
