import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { signHs256 } from '@chat/runtime';
import { connectClient, startGateway, type GatewayService } from '@chat/testkit';
import { post } from './test-helpers.js';
import { signToken, signingKey, startJwksServer, type JwksServer } from './testing-keys.js';

const SECRET = 'access-test-secret-of-at-least-32-bytes';
const token = (claims: Record<string, unknown>) => signHs256({ exp: Math.floor(Date.now() / 1000) + 60, ...claims }, SECRET);

describe('with AUTH_JWT_SECRET, identity comes from a signed token', () => {
  let gw: GatewayService;
  before(async () => {
    gw = await startGateway({ env: { AUTH_JWT_SECRET: SECRET, API_KEY: 'k3y' } });
  });
  after(() => gw.stop());

  test('a missing, invalid or expired token is refused with 401 before the upgrade', async () => {
    await assert.rejects(connectClient(gw.wsUrl, { user: 'alice' }), /HTTP 401/);
    await assert.rejects(connectClient(gw.wsUrl, { token: 'x.y.z' }), /HTTP 401/);
    await assert.rejects(connectClient(gw.wsUrl, { token: signHs256({ sub: 'alice' }, 'wrong') }), /HTTP 401/);
    await assert.rejects(connectClient(gw.wsUrl, { token: token({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 1 }) }), /HTTP 401/);
  });

  test('the token in ?token= or Authorization: Bearer names the user; ?user= is ignored', async () => {
    const q = await connectClient(gw.wsUrl, { token: token({ sub: 'alice' }), user: 'mallory' });
    assert.equal(q.welcome.user, 'alice');
    const h = await connectClient(gw.wsUrl, { headers: { authorization: `Bearer ${token({ sub: 'bob' })}` } });
    assert.equal(h.welcome.user, 'bob');
    await Promise.all([q.close(), h.close()]);
  });

  test('the rooms claim allows listed names and prefix* patterns, and forbids the rest', async () => {
    const c = await connectClient(gw.wsUrl, { token: token({ sub: 'carol', rooms: ['lobby', 'team-*'] }) });
    assert.equal((await c.request({ type: 'join', room: 'lobby' })).type, 'joined');
    assert.equal((await c.request({ type: 'join', room: 'team-red' })).type, 'joined');
    const refused = await c.request({ type: 'join', room: 'admin' });
    assert.deepEqual([refused.type, refused.code], ['error', 'forbidden']);
    await c.close();
  });

  test('a connection whose token expires is closed with 4401', async () => {
    const c = await connectClient(gw.wsUrl, { token: token({ sub: 'dave', exp: Math.floor(Date.now() / 1000) + 2 }) });
    const started = Date.now();
    assert.equal((await c.closed).code, 4401);
    assert.ok(Date.now() - started < 4000);
  });

  test('with API_KEY set, the publish routes need Authorization: Bearer API_KEY', async () => {
    const url = `${gw.url}/api/rooms/lobby/messages`;
    assert.equal((await post(url, { text: 'x' })).status, 401);
    assert.equal((await post(url, { text: 'x' }, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await post(url, { text: 'x' }, { authorization: 'Bearer k3y' })).status, 202);
    assert.equal((await fetch(`${gw.url}/api/rooms/lobby/members`)).status, 401, 'the read routes too');
    assert.equal((await fetch(`${gw.url}/api/rooms/lobby/messages`, { headers: { authorization: 'Bearer k3y' } })).status, 200);
  });

  test('on the in-process bus, GET /api/rooms needs the key and lists the rooms with their members', async () => {
    assert.equal((await fetch(`${gw.url}/api/rooms`)).status, 401);
    assert.equal((await fetch(`${gw.url}/api/rooms?limit=ten`)).status, 401, 'the key before the query');
    const c = await connectClient(gw.wsUrl, { token: token({ sub: 'rita' }) });
    assert.equal((await c.request({ type: 'join', room: 'in-proc' })).type, 'joined');
    const key = { authorization: 'Bearer k3y' };
    assert.equal((await post(`${gw.url}/api/rooms/in-proc/messages`, { text: 'x' }, key)).status, 202);
    assert.equal((await post(`${gw.url}/api/rooms/in-proc-empty/messages`, { text: 'x' }, key)).status, 202);
    const listed = (await (await fetch(`${gw.url}/api/rooms`, { headers: key })).json()) as { rooms: Array<{ room: string; members: number }>; more: boolean };
    assert.deepEqual(listed.rooms.filter((r) => r.room.startsWith('in-proc')), [{ room: 'in-proc', members: 1 }, { room: 'in-proc-empty', members: 0 }]);
    assert.equal(listed.more, false);
    await c.close();
  });

  test('the API key is checked before the body is read: an unauthorized oversized body gets 401, not 413', async () => {
    const huge = 'x'.repeat(200_000);
    assert.equal((await post(`${gw.url}/api/rooms/lobby/messages`, { text: huge })).status, 401);
    assert.equal((await post(`${gw.url}/api/rooms/lobby/messages`, { text: huge }, { authorization: 'Bearer k3y' })).status, 413);
  });
});

describe('with AUTH_JWKS_URL, tokens are checked against the keys the endpoint serves', () => {
  const rsa = signingKey('RS256', 'rsa-1');
  const ec = signingKey('ES256', 'ec-1');
  const ed = signingKey('EdDSA', 'ed-1');
  const inAMinute = () => Math.floor(Date.now() / 1000) + 60;
  const minted: string[] = [];
  const mint = (key: typeof rsa, claims: Record<string, unknown>) => {
    const token = signToken(key, { exp: inAMinute(), ...claims });
    minted.push(token);
    return token;
  };
  let jwks: JwksServer;
  let gw: GatewayService;
  before(async () => {
    jwks = await startJwksServer([rsa, ec, ed]);
    gw = await startGateway({ env: { AUTH_JWKS_URL: jwks.url, AUTH_JWKS_COOLDOWN_SECONDS: '1', AUTH_JWKS_TIMEOUT_MS: '1000', LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    await gw.stop();
    await jwks.close();
  });

  test('RS256, ES256 and EdDSA tokens of the set open a connection as their sub; a key outside the set gets 401', async () => {
    const r = await connectClient(gw.wsUrl, { token: mint(rsa, { sub: 'rita' }) });
    const e = await connectClient(gw.wsUrl, { headers: { authorization: `Bearer ${mint(ec, { sub: 'emil' })}` } });
    const d = await connectClient(gw.wsUrl, { token: mint(ed, { sub: 'edda' }) });
    assert.deepEqual([r.welcome.user, e.welcome.user, d.welcome.user], ['rita', 'emil', 'edda']);
    await Promise.all([r.close(), e.close(), d.close()]);
    await assert.rejects(connectClient(gw.wsUrl, { token: mint(signingKey('ES256', 'stranger'), { sub: 'eve' }) }), /HTTP 401/);
    await assert.rejects(connectClient(gw.wsUrl, { token: mint(ec, { sub: 'not a name!' }) }), /HTTP 401/);
  });

  test('an ES256 connection is closed with 4401 when its token expires', async () => {
    const c = await connectClient(gw.wsUrl, { token: mint(ec, { sub: 'ella', exp: Math.floor(Date.now() / 1000) + 2 }) });
    const started = Date.now();
    assert.equal((await c.closed).code, 4401);
    assert.ok(Date.now() - started < 4000);
  });

  test('a rotated-in key is accepted after one refetch', async () => {
    const next = signingKey('ES256', 'ec-2');
    jwks.keys = [rsa, next, ed];
    await new Promise((done) => setTimeout(done, 1100)); // past AUTH_JWKS_COOLDOWN_SECONDS
    const fetches = jwks.fetches;
    const c = await connectClient(gw.wsUrl, { token: mint(next, { sub: 'nina' }) });
    assert.equal(c.welcome.user, 'nina');
    assert.equal(jwks.fetches, fetches + 1);
    await c.close();
    await assert.rejects(connectClient(gw.wsUrl, { token: mint(ec, { sub: 'ella' }) }), /HTTP 401/, 'the removed key no longer verifies');
  });

  test('a JWKS that cannot be fetched answers 503 and logs it once; the gateway keeps serving', async () => {
    jwks.mode = 'fail';
    const unknownKid = signingKey('RS256', 'rsa-9');
    await new Promise((done) => setTimeout(done, 1100));
    await assert.rejects(connectClient(gw.wsUrl, { token: mint(unknownKid, { sub: 'omar' }) }), /HTTP 503/);
    await new Promise((done) => setTimeout(done, 1100));
    await assert.rejects(connectClient(gw.wsUrl, { token: mint(unknownKid, { sub: 'omar' }) }), /HTTP 503/);
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const cached = await connectClient(gw.wsUrl, { token: mint(rsa, { sub: 'rita' }) });
    assert.equal(cached.welcome.user, 'rita', 'keys already cached keep working');
    await cached.close();
    assert.equal(gw.output().match(/cannot fetch the JWKS/g)?.length, 1, gw.output());
    jwks.mode = 'serve';
  });

  test('a client that hangs up while its token is being checked leaves the gateway unharmed', async () => {
    jwks.mode = 'hang';
    await new Promise((done) => setTimeout(done, 1100));
    const url = new URL(gw.wsUrl);
    url.searchParams.set('token', mint(signingKey('ES256', 'ec-9'), { sub: 'hal' }));
    const impatient = new WebSocket(url);
    impatient.on('error', () => {});
    await new Promise((done) => setTimeout(done, 200));
    impatient.terminate();
    await new Promise((done) => setTimeout(done, 1300)); // past AUTH_JWKS_TIMEOUT_MS: the verdict arrives for a gone client
    jwks.mode = 'serve';
    const c = await connectClient(gw.wsUrl, { token: mint(rsa, { sub: 'rita' }) });
    assert.equal(c.welcome.user, 'rita');
    await c.close();
    assert.doesNotMatch(gw.output(), /upgrade failed|must not be accessed/);
  });

  test('no token appears in the gateway log, even at LOG_LEVEL=debug', () => {
    assert.ok(minted.length >= 10);
    const output = gw.output();
    for (const token of minted) assert.ok(!output.includes(token.split('.')[2]!), 'a token signature is in the log');
  });
});

test('with AUTH_JWT_PUBLIC_KEY, an ES256 token of that key is accepted and another key refused', async () => {
  const key = signingKey('ES256', 'pem');
  const gw = await startGateway({ env: { AUTH_JWT_PUBLIC_KEY: key.pem } });
  try {
    const c = await connectClient(gw.wsUrl, { token: signToken(key, { sub: 'pia' }, false) });
    assert.equal(c.welcome.user, 'pia');
    await c.close();
    await assert.rejects(connectClient(gw.wsUrl, { token: signToken(signingKey('ES256', 'pem'), { sub: 'pia' }, false) }), /HTTP 401/);
  } finally {
    await gw.stop();
  }
});

test('a bad auth configuration stops the gateway at start with a message naming the variable', async () => {
  const pem = signingKey('ES256', 'pem').pem;
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ AUTH_JWT_SECRET: 'a'.repeat(31) }, /AUTH_JWT_SECRET: is 31 bytes/],
    [{ AUTH_JWT_SECRET: 'REPLACE-ME-jwt-hs256-secret-placeholder' }, /AUTH_JWT_SECRET: is still the placeholder/],
    [{ AUTH_JWT_SECRET: SECRET, AUTH_JWT_PUBLIC_KEY: pem }, /AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY are both set/],
    [{ AUTH_JWT_PUBLIC_KEY: pem.replace('PUBLIC', 'PRIVATE') }, /AUTH_JWT_PUBLIC_KEY: is not a PEM public key/],
    [{ AUTH_JWKS_URL: 'ftp://id.example/jwks' }, /AUTH_JWKS_URL: protocol ftp:/],
  ];
  for (const [env, message] of cases) {
    await assert.rejects(startGateway({ env }), (error: Error) => {
      assert.match(error.message, /exited with 2 before it was ready/);
      assert.match(error.message, message);
      return true;
    }, JSON.stringify(env));
  }
});

test('ALLOWED_ORIGINS refuses other browser origins with 403 before the upgrade', async () => {
  const gw = await startGateway({ env: { ALLOWED_ORIGINS: 'https://chat.example, https://app.example' } });
  await assert.rejects(connectClient(gw.wsUrl, { user: 'eve', headers: { origin: 'https://evil.example' } }), /HTTP 403/);
  const ok = await connectClient(gw.wsUrl, { user: 'amy', headers: { origin: 'https://app.example' } });
  const native = await connectClient(gw.wsUrl, { user: 'bot' });
  await Promise.all([ok.close(), native.close()]);
  await gw.stop();
});
