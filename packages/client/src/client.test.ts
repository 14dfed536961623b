/**
 * ChatClient against scripted fake gateways (testing/fake-gateway.ts): fast checks of the SDK's
 * own logic. client.cluster.test.ts proves the same guarantees against real gateways on Redis.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { afterEach, test } from 'node:test';
import { CloseCode, ErrorCode, type ChatMessage } from '@chat/protocol';
import { ClientClosedError, QueueFullError, ServerError } from './errors.js';
import type { StatusChange } from './events.js';
import { createNodeClient } from './node.js';
import type { ChatClient, ChatClientOptions } from './index.js';
import { FakeGateway, FakeRooms, type FakeGatewayOptions } from './testing/fake-gateway.js';
import { waitFor } from './testing/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function node(options: FakeGatewayOptions): Promise<FakeGateway> {
  const gateway = await FakeGateway.start(options);
  cleanup.push(() => gateway.stop());
  return gateway;
}

function client(options: ChatClientOptions): { client: ChatClient; messages: ChatMessage[]; statuses: StatusChange[] } {
  const c = createNodeClient({ backoff: { initialMs: 50, maxMs: 200 }, ...options });
  const messages: ChatMessage[] = [];
  const statuses: StatusChange[] = [];
  c.on('message', (m) => messages.push(m));
  c.on('joined', (j) => messages.push(...j.history));
  c.on('status', (s) => statuses.push(s));
  cleanup.push(() => c.close());
  return { client: c, messages, statuses };
}

const texts = (messages: ChatMessage[]): string[] => messages.map((m) => m.text);

test('a client whose node dies resumes on the next node with nothing lost or doubled', async () => {
  const rooms = new FakeRooms();
  const n1 = await node({ node: 'n1', rooms });
  const n2 = await node({ node: 'n2', rooms });
  const alice = client({ url: [n1.url, n2.url], user: 'alice' });
  const bob = client({ url: n2.url, user: 'bob' });
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  await Promise.all([alice.client.join('lobby'), bob.client.join('lobby')]);
  await bob.client.send('lobby', 'before');
  await waitFor('alice to see "before"', () => alice.messages.length === 1);

  await n1.stop();
  for (const text of ['m1', 'm2', 'm3']) await bob.client.send('lobby', text);
  await waitFor('alice back on n2', () => alice.client.node === 'n2');
  await bob.client.send('lobby', 'after');
  await waitFor('alice to see "after"', () => texts(alice.messages).includes('after'));
  assert.deepEqual(texts(alice.messages), ['before', 'm1', 'm2', 'm3', 'after']);
  const rejoin = n2.received.filter((f) => f.type === 'join' && f.ref?.startsWith('j') && 'since' in f);
  assert.equal(rejoin.length, 1, 'alice rejoined once, with since');
});

test('replays and repeated frames from the server never reach the application twice', async () => {
  const n1 = await node({ node: 'n1', duplicate: true });
  const alice = client({ url: n1.url, user: 'alice' });
  await alice.client.connect();
  await alice.client.join('lobby');
  for (const text of ['a', 'b']) await alice.client.send('lobby', text);
  n1.dropAll();
  await waitFor('the drop to be seen', () => alice.client.state === 'reconnecting');
  n1.rooms.publish('lobby', 'bob', 'c');
  await waitFor('alice to rejoin', () => alice.client.state === 'connected');
  await alice.client.send('lobby', 'd');
  await waitFor('"d"', () => texts(alice.messages).includes('d'));
  assert.deepEqual(texts(alice.messages), ['a', 'b', 'c', 'd']);
});

test('a draining node (1001) is left at once for the next one', async () => {
  const rooms = new FakeRooms();
  const n1 = await node({ node: 'n1', rooms });
  const n2 = await node({ node: 'n2', rooms });
  const alice = client({ url: [n1.url, n2.url], user: 'alice', backoff: { initialMs: 5000, maxMs: 5000 } });
  await alice.client.connect();
  const started = Date.now();
  n1.closeAll(CloseCode.Draining, 'draining');
  await waitFor('alice on n2', () => alice.client.node === 'n2', 1000);
  assert.ok(Date.now() - started < 1000, 'no backoff delay after 1001');
  assert.ok(alice.statuses.some((s) => s.code === CloseCode.Draining && s.retryInMs === 0));
});

test('an expired token (4401) is replaced from getToken and the client reconnects', async () => {
  const valid = new Set(['alice:1']);
  const n1 = await node({ node: 'n1', validTokens: valid });
  let issued = 1;
  const alice = client({
    url: n1.url,
    token: 'alice:1',
    getToken: () => {
      const token = `alice:${++issued}`;
      valid.add(token);
      return token;
    },
  });
  assert.equal((await alice.client.connect()).user, 'alice');
  await alice.client.join('lobby');
  valid.delete('alice:1');
  n1.closeAll(CloseCode.TokenExpired, 'token expired');
  await waitFor('a reconnect with a fresh token', () => issued === 2 && alice.client.state === 'connected');
  assert.match((await alice.client.send('lobby', 'still here')).id, /^\d+-\d+$/);
});

test('sends made while disconnected wait, bounded, and go out in order after the rejoin', async () => {
  const rooms = new FakeRooms();
  const n1 = await node({ node: 'n1', rooms });
  const alice = client({ url: n1.url, user: 'alice', maxQueued: 3 });
  await alice.client.connect();
  await alice.client.join('lobby');
  const port = new URL(n1.url).port;
  await n1.stop();
  await waitFor('the drop to be seen', () => alice.client.state === 'reconnecting');
  const queued = ['q1', 'q2', 'q3'].map((text) => alice.client.send('lobby', text));
  await assert.rejects(alice.client.send('lobby', 'q4'), QueueFullError);
  await node({ node: 'n1b', rooms, port: Number(port) });
  const acks = await Promise.all(queued);
  assert.equal(acks.length, 3);
  await waitFor('the queued messages to come back', () => alice.messages.length === 3);
  assert.deepEqual(texts(alice.messages), ['q1', 'q2', 'q3']);
});

test('a silent node is detected by the heartbeat and left', async () => {
  const rooms = new FakeRooms();
  const n1 = await node({ node: 'n1', rooms });
  const n2 = await node({ node: 'n2', rooms });
  const alice = client({ url: [n1.url, n2.url], user: 'alice', heartbeatMs: 100 });
  await alice.client.connect();
  n1.goSilent();
  await waitFor('alice on n2', () => alice.client.node === 'n2', 2000);
  assert.ok(alice.statuses.some((s) => s.reason === 'heartbeat timeout'));
});

test('a join refused as unavailable is retried; one refused as forbidden drops the room', async () => {
  let unavailable = 2;
  const n1 = await node({
    node: 'n1',
    refuseJoin: (room) => {
      if (room === 'secret') return ErrorCode.Forbidden;
      return room === 'busy' && unavailable-- > 0 ? ErrorCode.Unavailable : undefined;
    },
  });
  const alice = client({ url: n1.url, user: 'alice' });
  const errors: string[] = [];
  alice.client.on('error', (e) => errors.push(`${e.code} ${e.room ?? ''}`));
  await alice.client.connect();
  const joined = await alice.client.join('busy');
  assert.equal(joined.room, 'busy');
  assert.equal(n1.received.filter((f) => f.type === 'join').length, 3, 'two refusals, then joined');
  await assert.rejects(alice.client.join('secret'), (e: unknown) => e instanceof ServerError && e.code === ErrorCode.Forbidden);
  assert.deepEqual(alice.client.rooms(), ['busy']);
  assert.deepEqual(errors, ['forbidden secret']);
});

test('server errors reject the request with their code', async () => {
  const n1 = await node({ node: 'n1' });
  const alice = client({ url: n1.url, user: 'alice' });
  await alice.client.connect();
  await assert.rejects(alice.client.direct('bob', 'hi'), (e: unknown) => e instanceof ServerError && e.code === ErrorCode.UserOffline);
  await assert.rejects(alice.client.send('not-joined', 'hi'), (e: unknown) => e instanceof ServerError && e.code === ErrorCode.NotJoined);
});

test('close() rejects what is pending and stops reconnecting', async () => {
  const n1 = await node({ node: 'n1' });
  const alice = client({ url: n1.url, user: 'alice' });
  await alice.client.connect();
  await alice.client.join('lobby');
  n1.dropAll();
  await waitFor('the drop to be seen', () => alice.client.state === 'reconnecting');
  const pending = alice.client.send('lobby', 'never');
  alice.client.close();
  await assert.rejects(pending, ClientClosedError);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(n1.connections, 0);
  assert.equal(alice.client.state, 'closed');
});

test('a closed client leaves no timer or socket behind, so its process can exit', async () => {
  const n1 = await node({ node: 'n1' });
  const script = `
    import { createNodeClient } from ${JSON.stringify(new URL('./node.js', import.meta.url).href)};
    const client = createNodeClient({ url: ${JSON.stringify(n1.url)}, user: 'alice', heartbeatMs: 60000 });
    await client.connect();
    await client.join('lobby');
    client.send('lobby', 'bye').catch(() => {});
    client.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
  const started = Date.now();
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 5000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(watchdog);
  assert.equal(code, 0, 'exited by itself (null: killed after 5 s, something kept it alive)');
  assert.ok(Date.now() - started < 3000, `exited after ${Date.now() - started} ms`);
});
