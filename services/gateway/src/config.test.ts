import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, type Env } from '@chat/runtime';
import { repoRoot } from '@chat/testkit';
import { readGatewayConfig } from './config.js';
import { signingKey } from './testing-keys.js';

/** Asserts that `value` for `name` is refused with an error naming the variable (and saying `why`, if given). */
function refused(name: string, value: string, why?: RegExp): void {
  assert.throws(() => readGatewayConfig({ [name]: value }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.variable, name);
    assert.ok(error.message.startsWith(`${name}: `), error.message);
    if (why !== undefined) assert.match(error.message, why);
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

test('MAX_REACTIONS is 20 by default, 1 to 1000', () => {
  assert.equal(readGatewayConfig({}).maxReactions, 20);
  assert.equal(readGatewayConfig({ MAX_REACTIONS: '1' }).maxReactions, 1);
  assert.equal(readGatewayConfig({ MAX_REACTIONS: '1000' }).maxReactions, 1000);
  refused('MAX_REACTIONS', '0');
  refused('MAX_REACTIONS', '1001');
  refused('MAX_REACTIONS', 'many');
});

test('large rooms: LARGE_ROOM and PRESENCE_COUNT_INTERVAL_MS, defaults and edges', () => {
  const config = readGatewayConfig({});
  assert.deepEqual([config.largeRoom, config.presenceCountIntervalMs], [1000, 5000]);
  assert.equal(readGatewayConfig({ LARGE_ROOM: '1' }).largeRoom, 1);
  assert.equal(readGatewayConfig({ LARGE_ROOM: '10000000' }).largeRoom, 10_000_000);
  refused('LARGE_ROOM', '0');
  refused('LARGE_ROOM', '10000001');
  assert.equal(readGatewayConfig({ PRESENCE_COUNT_INTERVAL_MS: '100' }).presenceCountIntervalMs, 100);
  assert.equal(readGatewayConfig({ PRESENCE_COUNT_INTERVAL_MS: '3600000' }).presenceCountIntervalMs, 3_600_000);
  refused('PRESENCE_COUNT_INTERVAL_MS', '99');
  refused('PRESENCE_COUNT_INTERVAL_MS', '3600001');
});

test('the bus is the in-process one, one Redis, or a Redis Cluster, never two at once', () => {
  assert.deepEqual([readGatewayConfig({}).redisUrl, readGatewayConfig({}).redisClusterNodes], [undefined, undefined]);
  assert.equal(readGatewayConfig({ REDIS_URL: 'redis://r:6379' }).redisUrl, 'redis://r:6379');
  assert.deepEqual(readGatewayConfig({ REDIS_CLUSTER_NODES: 'r0:7000,r1:7001' }).redisClusterNodes, ['r0:7000', 'r1:7001']);
  assert.throws(() => readGatewayConfig({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r0:7000' }), /REDIS_CLUSTER_NODES: set it or REDIS_URL, not both/);
  refused('REDIS_CLUSTER_NODES', 'r0');
});

describe('auth configuration (docs/protocol.md#configuration)', () => {
  const ec = signingKey('ES256', 'cfg');
  const secret32 = 'x'.repeat(32);

  test('no key source means auth off; any one of them turns it on', () => {
    assert.equal(readGatewayConfig({}).auth, undefined);
    assert.equal(readGatewayConfig({ AUTH_JWT_SECRET: secret32 }).auth?.keys.kind, 'secret');
    assert.equal(readGatewayConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json' }).auth?.keys.kind, 'jwks');
    assert.equal(readGatewayConfig({ AUTH_JWT_PUBLIC_KEY: ec.pem }).auth?.keys.kind, 'public-key');
  });

  test('AUTH_JWT_SECRET needs 32 bytes: 31 stop the process, and the message never shows the secret', () => {
    refused('AUTH_JWT_SECRET', 'y'.repeat(31), /is 31 bytes; an HS256 secret needs at least 32/);
    assert.throws(() => readGatewayConfig({ AUTH_JWT_SECRET: 'y'.repeat(31) }), (error: unknown) => !String(error).includes('y'.repeat(31)));
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    assert.equal(readGatewayConfig({ AUTH_JWT_SECRET: 'é'.repeat(16) }).auth?.keys.kind, 'secret');
  });

  test('the placeholder of the Kubernetes example is refused even though it is long enough', () => {
    const shipped = /^\s+AUTH_JWT_SECRET:\s*(\S+)\s*$/m.exec(readFileSync(join(repoRoot, 'deploy/k8s/base/secrets.yaml'), 'utf8'))?.[1];
    assert.ok(shipped !== undefined && shipped.length >= 32, `the manifest ships a long placeholder: ${shipped}`);
    refused('AUTH_JWT_SECRET', shipped, /placeholder.*set it to a random secret/);
    refused('AUTH_JWT_SECRET', `change-me-${'z'.repeat(40)}`, /placeholder/);
    refused('AUTH_JWT_SECRET', `Replace_Me${'z'.repeat(40)}`, /placeholder/);
  });

  test('two key sources at once stop the process, naming both', () => {
    assert.throws(() => readGatewayConfig({ AUTH_JWT_SECRET: secret32, AUTH_JWKS_URL: 'https://id.example/jwks.json' }), /AUTH_JWT_SECRET and AUTH_JWKS_URL are both set/);
    assert.throws(() => readGatewayConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json', AUTH_JWT_PUBLIC_KEY: ec.pem }), /AUTH_JWKS_URL and AUTH_JWT_PUBLIC_KEY are both set/);
  });

  test('AUTH_JWKS_URL must be http(s); its cooldown, cache age and timeout have jose-like defaults and bounds', () => {
    refused('AUTH_JWKS_URL', 'file:///etc/jwks.json', /protocol file: is not one of https:, http:/);
    refused('AUTH_JWKS_URL', 'id.example/jwks.json', /is not a URL/);
    const keys = readGatewayConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json' }).auth?.keys;
    assert.deepEqual(keys?.kind === 'jwks' && [keys.cooldownMs, keys.cacheMs, keys.timeoutMs], [30_000, 600_000, 5000]);
    const jwks = (extra: Env) => readGatewayConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json', ...extra }).auth?.keys;
    assert.deepEqual(jwks({ AUTH_JWKS_COOLDOWN_SECONDS: '0', AUTH_JWKS_CACHE_SECONDS: '1', AUTH_JWKS_TIMEOUT_MS: '100' }), { ...keys, cooldownMs: 0, cacheMs: 1000, timeoutMs: 100 });
    assert.throws(() => jwks({ AUTH_JWKS_COOLDOWN_SECONDS: '3601' }), /AUTH_JWKS_COOLDOWN_SECONDS/);
    assert.throws(() => jwks({ AUTH_JWKS_CACHE_SECONDS: '0' }), /AUTH_JWKS_CACHE_SECONDS/);
    assert.throws(() => jwks({ AUTH_JWKS_TIMEOUT_MS: '99' }), /AUTH_JWKS_TIMEOUT_MS/);
  });

  test('AUTH_JWT_PUBLIC_KEY must be a parseable SPKI PEM of a supported key; its type picks the algorithm', () => {
    const keys = (pem: string) => readGatewayConfig({ AUTH_JWT_PUBLIC_KEY: pem }).auth?.keys;
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      const key = keys(signingKey(alg, 'k').pem);
      assert.equal(key?.kind === 'public-key' && key.algorithm, alg);
    }
    refused('AUTH_JWT_PUBLIC_KEY', 'not a key', /not a PEM public key/);
    const [begin, body, ...rest] = ec.pem.split('\n');
    refused('AUTH_JWT_PUBLIC_KEY', [begin, body!.slice(0, 20), ...rest].join('\n'), /cannot be parsed/);
    const privatePem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    refused('AUTH_JWT_PUBLIC_KEY', privatePem, /not a PEM public key/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    refused('AUTH_JWT_PUBLIC_KEY', small, /at least 2048 bits/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    refused('AUTH_JWT_PUBLIC_KEY', p384, /must be on P-256/);
  });

  test('issuer and audience are read when set (audience as a comma list), and refused without a key source', () => {
    const auth = readGatewayConfig({ AUTH_JWT_SECRET: secret32, AUTH_JWT_ISSUER: 'https://id.example', AUTH_JWT_AUDIENCE: 'chat, chat-admin' }).auth;
    assert.deepEqual([auth?.issuer, auth?.audience], ['https://id.example', ['chat', 'chat-admin']]);
    refused('AUTH_JWT_ISSUER', 'https://id.example', /auth is off/);
    refused('AUTH_JWT_AUDIENCE', 'chat', /auth is off/);
  });
});
