import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, envHostPorts, envInt, envList, envUrl } from './env.js';
import { roomAllowed } from './jwt.js';

test('a bad environment value names the variable', () => {
  assert.throws(() => envInt({ PORT: 'eighty' }, 'PORT', 8080, 0, 65535), (e: unknown) => e instanceof ConfigError && /^PORT: /.test(e.message));
  assert.throws(() => envInt({ PORT: '70000' }, 'PORT', 8080, 0, 65535), /PORT: 70000 is outside/);
  assert.throws(() => envUrl({ REDIS_URL: 'http://x' }, 'REDIS_URL', ['redis:']), /REDIS_URL: protocol/);
  assert.equal(envInt({}, 'PORT', 8080, 0, 65535), 8080);
  assert.deepEqual(envList({ ALLOWED_ORIGINS: 'https://a, https://b' }, 'ALLOWED_ORIGINS'), ['https://a', 'https://b']);
});

test('REDIS_CLUSTER_NODES is a list of host:port, and anything else names the variable', () => {
  assert.deepEqual(envHostPorts({ N: 'redis-0:6379, 10.0.0.2:7000,[::1]:7001' }, 'N'), ['redis-0:6379', '10.0.0.2:7000', '[::1]:7001']);
  assert.equal(envHostPorts({}, 'N'), undefined);
  for (const bad of ['redis-0', 'redis-0:0', 'redis-0:70000', 'redis://x:1', 'a:1,b']) {
    assert.throws(() => envHostPorts({ N: bad }, 'N'), /^ConfigError: N: |N: /, bad);
  }
});

test('a rooms claim allows exact names and prefix* patterns only', () => {
  assert.equal(roomAllowed(undefined, 'anything'), true);
  assert.equal(roomAllowed(['lobby', 'team-*'], 'lobby'), true);
  assert.equal(roomAllowed(['lobby', 'team-*'], 'team-red'), true);
  assert.equal(roomAllowed(['lobby', 'team-*'], 'lobby2'), false);
  assert.equal(roomAllowed([], 'lobby'), false);
});
