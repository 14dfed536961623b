import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@chat/runtime';
import { readBridgeConfig, sessionClientId } from './config.js';

const base = { MQTT_URL: 'mqtt://127.0.0.1:1883', REDIS_URL: 'redis://127.0.0.1:6379' };

test('defaults follow the contract', () => {
  const config = readBridgeConfig(base);
  assert.equal(config.port, 9464);
  assert.equal(config.redisPrefix, 'chat:');
  assert.equal(config.historyLimit, 1000);
  assert.equal(config.maxTextChars, 4000);
  assert.equal(config.mqttUsername, 'chat-bridge');
  assert.equal(config.mqttClientId, 'chat-bridge');
});

test('the shared session id needs the password to be named, unless set outright', () => {
  const withPassword = readBridgeConfig({ ...base, MQTT_PASSWORD: 'secret' });
  assert.match(withPassword.mqttClientId, /^chat-bridge-[0-9a-f]{16}$/);
  assert.equal(withPassword.mqttClientId, sessionClientId('chat-bridge', 'secret'), 'every replica derives the same id');
  assert.notEqual(sessionClientId('chat-bridge', 'other'), withPassword.mqttClientId);
  assert.equal(readBridgeConfig({ ...base, MQTT_PASSWORD: 'secret', MQTT_CLIENT_ID: 'bridge-inbox' }).mqttClientId, 'bridge-inbox');
});

test('a missing or bad value names its variable', () => {
  for (const [env, variable] of [
    [{ REDIS_URL: base.REDIS_URL }, 'MQTT_URL'],
    [{ MQTT_URL: base.MQTT_URL }, 'REDIS_URL'],
    [{ ...base, MQTT_URL: 'http://x' }, 'MQTT_URL'],
    [{ ...base, PORT: 'abc' }, 'PORT'],
    [{ ...base, NODE_ID: 'a/b' }, 'NODE_ID'],
    [{ ...base, LEADER_LEASE_MS: '10' }, 'LEADER_LEASE_MS'],
  ] as const) {
    assert.throws(() => readBridgeConfig(env), (e: unknown) => e instanceof ConfigError && e.variable === variable, variable);
  }
});

test('the bridge runs on one Redis or on a Redis Cluster, never both and never neither', () => {
  const onCluster = readBridgeConfig({ MQTT_URL: base.MQTT_URL, REDIS_CLUSTER_NODES: 'r0:7000,r1:7001' });
  assert.deepEqual([onCluster.redisUrl, onCluster.redisClusterNodes], [undefined, ['r0:7000', 'r1:7001']]);
  assert.throws(() => readBridgeConfig({ ...base, REDIS_CLUSTER_NODES: 'r0:7000' }), /REDIS_CLUSTER_NODES: set it or REDIS_URL, not both/);
  assert.throws(() => readBridgeConfig({ MQTT_URL: base.MQTT_URL }), (e: unknown) => e instanceof ConfigError && e.variable === 'REDIS_URL');
});
