import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, signHs256, type Env } from '@chat/runtime';
import { readAuthConfig } from './auth-config.js';
import { JoseTokenVerifier } from './jose-token-verifier.js';
import { signToken, signingKey, startJwksServer, type JwksServer } from './testing-keys.js';

const SECRET = 'verifier-test-secret-of-32-bytes-or-more';
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

/** A verifier configured from `env` exactly as the gateway's, with its log lines kept. */
function verifierFor(env: Env): { verifier: JoseTokenVerifier; logs: Array<Record<string, unknown>> } {
  const logs: Array<Record<string, unknown>> = [];
  const auth = readAuthConfig(env);
  assert.ok(auth !== undefined, 'auth is on');
  const log = createLogger('debug', {}, (line) => void logs.push(JSON.parse(line) as Record<string, unknown>));
  return { verifier: new JoseTokenVerifier(auth, log), logs };
}

describe('AUTH_JWT_SECRET: HS256', () => {
  const { verifier } = verifierFor({ AUTH_JWT_SECRET: SECRET });

  test('a token from signHs256 verifies with its sub, exp and rooms', async () => {
    const exp = inAMinute();
    const check = await verifier.verify(signHs256({ sub: 'alice', exp, rooms: ['lobby', 'team-*'] }, SECRET));
    assert.deepEqual(check, { ok: true, claims: { sub: 'alice', exp, rooms: ['lobby', 'team-*'] } });
  });

  test('tampered, expired, not-yet-valid, wrongly signed and unsigned tokens are refused with 401', async () => {
    const token = signHs256({ sub: 'alice', exp: inAMinute() }, SECRET);
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url')}.${s}`;
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
    const cases: Array<[string, string, RegExp]> = [
      ['forged payload', forged, /bad signature/],
      ['other secret', signHs256({ sub: 'alice' }, `${SECRET}-other`), /bad signature/],
      ['expired', signHs256({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 1 }, SECRET), /expired/],
      ['not yet valid', signHs256({ sub: 'alice', nbf: inAMinute() }, SECRET), /nbf/],
      ['alg none', none, /alg not allowed/],
      ['not a JWT', 'x.y.z', /not a valid JWT/],
      ['no sub', signHs256({ exp: inAMinute() }, SECRET), /sub claim missing/],
      ['rooms not a list', signHs256({ sub: 'alice', rooms: 'lobby' }, SECRET), /rooms claim/],
    ];
    for (const [name, bad, reason] of cases) {
      const check = await verifier.verify(bad);
      assert.equal(check.ok, false, name);
      if (!check.ok) {
        assert.equal(check.status, 401, name);
        assert.match(check.reason, reason, name);
      }
    }
  });

  test('an RS256 token is refused: the secret allows HS256 only', async () => {
    const check = await verifier.verify(signToken(signingKey('RS256', 'k'), { sub: 'alice' }));
    assert.deepEqual(check, { ok: false, status: 401, reason: 'alg not allowed' });
  });
});

describe('AUTH_JWKS_URL: keys from a JWKS endpoint', () => {
  const rsa = signingKey('RS256', 'rsa-1');
  const ec = signingKey('ES256', 'ec-1');
  const ed = signingKey('EdDSA', 'ed-1');
  let jwks: JwksServer;
  before(async () => {
    jwks = await startJwksServer([rsa, ec, ed]);
  });
  after(() => jwks.close());

  test('RS256, ES256 and EdDSA tokens signed by keys of the set are accepted, from one fetch', async () => {
    const { verifier } = verifierFor({ AUTH_JWKS_URL: jwks.url });
    const before = jwks.fetches;
    for (const key of [rsa, ec, ed]) {
      const check = await verifier.verify(signToken(key, { sub: `user-${key.alg}`, exp: inAMinute() }));
      assert.equal(check.ok && check.claims.sub, `user-${key.alg}`, `${key.alg}: ${JSON.stringify(check)}`);
    }
    assert.equal(jwks.fetches - before, 1, 'the set is cached');
  });

  test('a token signed by a key outside the set is refused with 401, whether its kid is unknown or borrowed', async () => {
    const { verifier } = verifierFor({ AUTH_JWKS_URL: jwks.url });
    const stranger = signingKey('ES256', 'stranger');
    assert.deepEqual(await verifier.verify(signToken(stranger, { sub: 'eve' })), { ok: false, status: 401, reason: 'no known key matches the token' });
    const impostor = { ...signingKey('ES256', ec.kid) };
    assert.deepEqual(await verifier.verify(signToken(impostor, { sub: 'eve' })), { ok: false, status: 401, reason: 'bad signature' });
  });

  test('rotation: a new kid is fetched once the cooldown has passed; the removed key is refused after that fetch', async () => {
    const first = signingKey('RS256', 'rotate-1');
    const second = signingKey('ES256', 'rotate-2');
    const rotating = await startJwksServer([first]);
    try {
      const { verifier } = verifierFor({ AUTH_JWKS_URL: rotating.url, AUTH_JWKS_COOLDOWN_SECONDS: '1' });
      assert.equal((await verifier.verify(signToken(first, { sub: 'alice' }))).ok, true);
      assert.equal(rotating.fetches, 1);

      rotating.keys = [second];
      // Within the cooldown of the last fetch, an unknown kid is refused without asking the server.
      assert.deepEqual(await verifier.verify(signToken(second, { sub: 'bob' })), { ok: false, status: 401, reason: 'no known key matches the token' });
      assert.equal(rotating.fetches, 1, 'no fetch during the cooldown');
      assert.equal((await verifier.verify(signToken(first, { sub: 'alice' }))).ok, true, 'the cached old key still verifies until the set is refetched');

      await sleep(1100);
      const rotated = await verifier.verify(signToken(second, { sub: 'bob' }));
      assert.equal(rotated.ok && rotated.claims.sub, 'bob', JSON.stringify(rotated));
      assert.equal(rotating.fetches, 2, 'exactly one refetch for the new kid');
      assert.deepEqual(await verifier.verify(signToken(first, { sub: 'alice' })), { ok: false, status: 401, reason: 'no known key matches the token' });
    } finally {
      await rotating.close();
    }
  });

  test('an unreachable JWKS answers 503 with one log line (no token in it), and recovery is logged', async () => {
    const flaky = await startJwksServer([ec]);
    try {
      const { verifier, logs } = verifierFor({ AUTH_JWKS_URL: `${flaky.url}?client=abc`, AUTH_JWKS_COOLDOWN_SECONDS: '0' });
      flaky.mode = 'fail';
      const token = signToken(ec, { sub: 'carol' });
      for (let i = 0; i < 3; i++) {
        const check = await verifier.verify(token);
        assert.equal(check.ok, false);
        if (!check.ok) assert.equal(check.status, 503);
      }
      assert.equal(flaky.fetches, 3, 'each upgrade retries the fetch');
      const warned = logs.filter((line) => line.level === 'warn');
      assert.equal(warned.length, 1, JSON.stringify(logs));
      assert.equal(warned[0]!.jwks, flaky.url, 'the endpoint without its query string');
      assert.ok(!JSON.stringify(logs).includes(token) && !JSON.stringify(logs).includes('abc'));

      flaky.mode = 'serve';
      assert.equal((await verifier.verify(token)).ok, true);
      assert.ok(logs.some((line) => line.level === 'info' && line.msg === 'JWKS reachable again'));
    } finally {
      await flaky.close();
    }
  });

  test('a JWKS that does not answer is given up after AUTH_JWKS_TIMEOUT_MS', async () => {
    const silent = await startJwksServer([ec]);
    silent.mode = 'hang';
    try {
      const { verifier } = verifierFor({ AUTH_JWKS_URL: silent.url, AUTH_JWKS_TIMEOUT_MS: '300' });
      const started = Date.now();
      const check = await verifier.verify(signToken(ec, { sub: 'dora' }));
      const took = Date.now() - started;
      assert.equal(check.ok ? 'accepted' : check.status, 503);
      assert.ok(took >= 280 && took < 2000, `${took} ms`);
    } finally {
      await silent.close();
    }
  });
});

describe('AUTH_JWT_PUBLIC_KEY: one PEM key', () => {
  const ec = signingKey('ES256', 'pem');

  test('an ES256 token of that key is accepted; another key, another algorithm or the PEM as an HMAC secret are refused', async () => {
    const { verifier } = verifierFor({ AUTH_JWT_PUBLIC_KEY: ec.pem });
    const ok = await verifier.verify(signToken(ec, { sub: 'erin', exp: inAMinute() }, false));
    assert.equal(ok.ok && ok.claims.sub, 'erin', JSON.stringify(ok));
    assert.deepEqual(await verifier.verify(signToken(signingKey('ES256', 'x'), { sub: 'erin' }, false)), { ok: false, status: 401, reason: 'bad signature' });
    assert.deepEqual(await verifier.verify(signToken(signingKey('RS256', 'x'), { sub: 'erin' }, false)), { ok: false, status: 401, reason: 'alg not allowed' });
    assert.deepEqual(await verifier.verify(signHs256({ sub: 'erin' }, ec.pem)), { ok: false, status: 401, reason: 'alg not allowed' });
  });

  test('the PEM may come with \\n escapes, as env files carry it', async () => {
    const { verifier } = verifierFor({ AUTH_JWT_PUBLIC_KEY: ec.pem.trim().replace(/\n/g, '\\n') });
    assert.equal((await verifier.verify(signToken(ec, { sub: 'erin' }, false))).ok, true);
  });

  test('an RSA key verifies RS256 and an Ed25519 key EdDSA', async () => {
    for (const alg of ['RS256', 'EdDSA'] as const) {
      const key = signingKey(alg, 'pem');
      const { verifier } = verifierFor({ AUTH_JWT_PUBLIC_KEY: key.pem });
      assert.equal((await verifier.verify(signToken(key, { sub: 'erin' }, false))).ok, true, alg);
    }
  });
});

describe('AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE', () => {
  const { verifier } = verifierFor({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: 'https://id.example', AUTH_JWT_AUDIENCE: 'chat, chat-admin' });
  const token = (claims: Record<string, unknown>) => signHs256({ sub: 'frank', exp: inAMinute(), ...claims }, SECRET);

  test('a token with the issuer and one of the audiences is accepted', async () => {
    for (const aud of ['chat', 'chat-admin', ['other', 'chat']]) {
      assert.equal((await verifier.verify(token({ iss: 'https://id.example', aud }))).ok, true, JSON.stringify(aud));
    }
  });

  test('another issuer or audience, or none, is refused with 401 naming the claim', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ iss: 'https://evil.example', aud: 'chat' }, 'iss claim rejected'],
      [{ aud: 'chat' }, 'iss claim missing'],
      [{ iss: 'https://id.example', aud: 'billing' }, 'aud claim rejected'],
      [{ iss: 'https://id.example' }, 'aud claim missing'],
    ];
    for (const [claims, reason] of cases) {
      assert.deepEqual(await verifier.verify(token(claims)), { ok: false, status: 401, reason }, JSON.stringify(claims));
    }
  });
});
