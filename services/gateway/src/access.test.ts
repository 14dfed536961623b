import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signHs256 } from '@chat/runtime';
import { connectClient, startGateway, type GatewayService } from '@chat/testkit';
import { post } from './test-helpers.js';

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

  test('the API key is checked before the body is read: an unauthorized oversized body gets 401, not 413', async () => {
    const huge = 'x'.repeat(200_000);
    assert.equal((await post(`${gw.url}/api/rooms/lobby/messages`, { text: huge })).status, 401);
    assert.equal((await post(`${gw.url}/api/rooms/lobby/messages`, { text: huge }, { authorization: 'Bearer k3y' })).status, 413);
  });
});

test('ALLOWED_ORIGINS refuses other browser origins with 403 before the upgrade', async () => {
  const gw = await startGateway({ env: { ALLOWED_ORIGINS: 'https://chat.example, https://app.example' } });
  await assert.rejects(connectClient(gw.wsUrl, { user: 'eve', headers: { origin: 'https://evil.example' } }), /HTTP 403/);
  const ok = await connectClient(gw.wsUrl, { user: 'amy', headers: { origin: 'https://app.example' } });
  const native = await connectClient(gw.wsUrl, { user: 'bot' });
  await Promise.all([ok.close(), native.close()]);
  await gw.stop();
});
