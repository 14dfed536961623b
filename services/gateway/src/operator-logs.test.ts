import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { connectClient, startGateway, startRedis, waitFor, type GatewayService } from '@chat/testkit';
import { post } from './test-helpers.js';

const API_KEY = 'operator-key-not-for-logs';
const SECRET = 'jwt-secret-for-the-log-test-of-32-bytes-or-more';

/** An HS256 token made here, so that this test reads the gateway's logs and not its token code. */
function token(user: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
}

interface LogLine { level: string; msg: string; [field: string]: unknown }

function lines(gw: GatewayService): LogLine[] {
  return gw.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

/**
 * What an operator does and sees: alice connects, joins, leaves, joins again, resumes on a second
 * connection, is disconnected by an operator (4403); bob connects and closes. Through the API: a
 * history page with a query string, a members read, the disconnect, and a request without the key.
 */
async function session(gw: GatewayService): Promise<{ tokens: string[] }> {
  const tokens = [token('alice'), token('bob')];
  const alice = await connectClient(gw.wsUrl, { token: tokens[0]! });
  assert.equal((await alice.request({ type: 'join', room: 'ops' })).type, 'joined');
  const sent = await alice.request({ type: 'send', room: 'ops', text: 'hello' });
  assert.equal((await alice.request({ type: 'leave', room: 'ops' })).type, 'left');
  assert.equal((await alice.request({ type: 'join', room: 'ops', since: sent.id })).type, 'joined');
  const bob = await connectClient(gw.wsUrl, { token: tokens[1]! });
  await bob.close();
  const auth = { authorization: `Bearer ${API_KEY}` };
  assert.equal((await fetch(`${gw.url}/api/rooms/ops/messages?limit=5&before=${encodeURIComponent(String(sent.id))}`, { headers: auth })).status, 200);
  assert.equal((await fetch(`${gw.url}/api/rooms/ops/members`)).status, 401);
  assert.equal((await post(`${gw.url}/api/users/alice/disconnect`, {}, auth)).status, 202);
  assert.equal((await alice.closed).code, 4403);
  return { tokens };
}

test('LOG_LEVEL=debug logs connections, joins, leaves and the room feed, and never a token', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const gw = await startGateway({ redisUrl: redis.url, env: { LOG_LEVEL: 'debug', API_KEY, AUTH_JWT_SECRET: SECRET } });
  t.after(() => gw.stop());
  const { tokens } = await session(gw);
  await waitFor('the close of alice to be logged', async () => (lines(gw).filter((l) => l.msg === 'connection closed').length === 2 ? true : undefined), 5_000);
  const log = lines(gw);
  const find = (msg: string, fields: Record<string, unknown>) => {
    const line = log.find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
    assert.ok(line, `a "${msg}" line with ${JSON.stringify(fields)} in:\n${log.map((l) => JSON.stringify(l)).join('\n')}`);
    assert.equal(line.level, 'debug');
    return line;
  };
  const opened = find('connection opened', { user: 'alice' });
  assert.match(String(opened.conn), /\S/);
  assert.match(String(opened.remote), /^(127\.0\.0\.1|::ffff:127\.0\.0\.1|0{0,4}(:0{0,4}){0,6}:?ffff:7f00:1)$/i);
  find('room feed subscribed', { room: 'ops' });
  find('joined room', { room: 'ops', user: 'alice', conn: opened.conn, since: null, gap: false });
  find('left room', { room: 'ops', user: 'alice', reason: 'leave' });
  find('room feed unsubscribed', { room: 'ops' });
  find('joined room', { room: 'ops', user: 'alice', gap: false, history: 0 });
  assert.ok(log.some((l) => l.msg === 'joined room' && typeof l.since === 'string' && l.since !== ''), 'a resume logs its since');
  find('left room', { room: 'ops', user: 'alice', reason: 'disconnected' });
  const kicked = find('connection closed', { user: 'alice', code: 4403, reason: 'disconnected' });
  assert.equal(kicked.remote, opened.remote);
  assert.ok(typeof kicked.durationMs === 'number' && kicked.durationMs >= 0);
  find('connection closed', { user: 'bob', code: 1005, reason: 'client' });
  const output = gw.output();
  for (const secret of [...tokens, API_KEY]) assert.ok(!output.includes(secret), 'a token or the API key reached the log');
  assert.doesNotMatch(output, /token=/);
});

test('at LOG_LEVEL=info: no debug line, one access line per API request without its key or query', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const gw = await startGateway({ redisUrl: redis.url, env: { LOG_LEVEL: 'info', API_KEY, AUTH_JWT_SECRET: SECRET } });
  t.after(() => gw.stop());
  const { tokens } = await session(gw);
  await waitFor('the disconnect to be logged', async () => (lines(gw).some((l) => l.msg === 'user disconnected by an operator') ? true : undefined), 5_000);
  const log = lines(gw);
  assert.deepEqual(log.filter((l) => l.level === 'debug'), []);
  for (const msg of ['connection opened', 'connection closed', 'joined room', 'left room', 'room feed subscribed']) {
    assert.ok(!log.some((l) => l.msg === msg), `no "${msg}" line at info`);
  }
  const access = log.filter((l) => l.msg === 'http request');
  assert.deepEqual(access.map((l) => [l.method, l.path, l.status]), [
    ['GET', '/api/rooms/ops/messages', 200],
    ['GET', '/api/rooms/ops/members', 401],
    ['POST', '/api/users/alice/disconnect', 202],
  ]);
  for (const line of access) {
    assert.equal(line.level, 'info');
    assert.ok(typeof line.durationMs === 'number' && line.durationMs >= 0);
    assert.ok(typeof line.bytes === 'number' && line.bytes > 0);
    assert.match(String(line.remote), /\S/);
  }

  // A client that goes away before its body is read is logged once, as aborted.
  const socket = connect(gw.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`POST /api/rooms/ops/messages?via=test HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"te`);
  await new Promise((r) => setTimeout(r, 200));
  socket.destroy();
  const aborted = await waitFor('the aborted request to be logged', async () => lines(gw).find((l) => l.msg === 'http request' && l.aborted === true), 5_000);
  assert.deepEqual([aborted.method, aborted.path, aborted.status], ['POST', '/api/rooms/ops/messages', 0]);
  assert.equal(lines(gw).filter((l) => l.msg === 'http request').length, 4, 'one line per request');

  const output = gw.output();
  for (const secret of [...tokens, API_KEY]) assert.ok(!output.includes(secret), 'a token or the API key reached the log');
  assert.doesNotMatch(output, /limit=5|before=|via=test/);
});
