/**
 * Sends and directs that survive drops, refusals and lost replies, against scripted fake gateways
 * (testing/fake-gateway.ts, which stores a mid once like the real bus): each resolves once, with
 * its ack, and each message exists once. client.cluster.test.ts checks the same on real gateways.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { CloseCode, ErrorCode, type ChatMessage, type ClientFrame, type DirectMessage } from '@chat/protocol';
import { DisconnectedError, InvalidMidError, SendTimeoutError, ServerError } from './errors.js';
import type { StatusChange } from './events.js';
import { createNodeClient } from './node.js';
import type { ChatClient, ChatClientOptions } from './index.js';
import { FakeGateway, FakeRooms, type FakeGatewayOptions } from './testing/fake-gateway.js';
import { sleep, waitFor } from './testing/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function node(options: FakeGatewayOptions): Promise<FakeGateway> {
  const gateway = await FakeGateway.start(options);
  cleanup.push(() => gateway.stop());
  return gateway;
}

interface Seen { client: ChatClient; messages: ChatMessage[]; directs: DirectMessage[]; statuses: StatusChange[] }

async function joined(options: ChatClientOptions, room = 'lobby'): Promise<Seen> {
  const c = createNodeClient({ backoff: { initialMs: 30, maxMs: 100 }, ...options });
  const seen: Seen = { client: c, messages: [], directs: [], statuses: [] };
  c.on('message', (m) => seen.messages.push(m));
  c.on('joined', (j) => seen.messages.push(...j.history));
  c.on('direct', (m) => seen.directs.push(m));
  c.on('status', (s) => seen.statuses.push(s));
  cleanup.push(() => c.close());
  await c.connect();
  await c.join(room);
  return seen;
}

const sends = (gateway: FakeGateway): Extract<ClientFrame, { type: 'send' }>[] =>
  gateway.received.filter((f): f is Extract<ClientFrame, { type: 'send' }> => f.type === 'send');
const texts = (messages: ChatMessage[]): string[] => messages.map((m) => m.text);

test('a send written just before the connection dropped is resent with the same mid and resolves with its ack', async () => {
  const n1 = await node({ node: 'n1', onSend: (f, attempt) => (f.text === 'lost' && attempt === 1 ? 'drop' : undefined) });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const sent = await alice.client.send('lobby', 'lost');
  assert.equal(sent.duplicate, false);
  const [first, second] = sends(n1);
  assert.ok(first?.mid !== undefined && first.mid === second?.mid, 'both attempts carry one mid');
  assert.equal(sent.mid, first.mid);
  assert.deepEqual(n1.rooms.messages.get('lobby')?.map((m) => m.id), [sent.id], 'stored once');
  await waitFor('the echo', () => alice.messages.length === 1);
  assert.deepEqual(texts(alice.messages), ['lost']);
});

test('a send stored but whose ack died with the connection resolves as a duplicate, with the first id', async () => {
  const n1 = await node({ node: 'n1', onSend: (f, attempt) => (f.text === 'once' && attempt === 1 ? 'store-then-drop' : undefined) });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const sent = await alice.client.send('lobby', 'once');
  assert.equal(sent.duplicate, true);
  assert.deepEqual(n1.rooms.messages.get('lobby')?.map((m) => m.id), [sent.id]);
  await alice.client.send('lobby', 'next');
  await waitFor('"next"', () => texts(alice.messages).includes('next'));
  assert.deepEqual(texts(alice.messages), ['once', 'next'], 'the message reached the application once');
});

test('sends in flight when the connection drops go out again after the rejoin, in the order they were made', async () => {
  const n1 = await node({ node: 'n1', onSend: (f, attempt) => (f.text === 's2' && attempt === 1 ? 'store-then-drop' : undefined) });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const all = ['s1', 's2', 's3', 's4', 's5'].map((text) => alice.client.send('lobby', text));
  const acks = await Promise.all(all);
  assert.deepEqual(texts(n1.rooms.messages.get('lobby') ?? []), ['s1', 's2', 's3', 's4', 's5'], 'each stored once, in order');
  assert.deepEqual(acks.map((a) => a.id), (n1.rooms.messages.get('lobby') ?? []).map((m) => m.id));
  const rejoin = n1.received.findIndex((f) => f.type === 'join' && 'since' in f);
  const resent = n1.received.findIndex((f, i) => i > rejoin && f.type === 'send');
  assert.ok(rejoin > 0 && resent > rejoin, 'resent only after the rejoin went out');
  await waitFor('all five echoed', () => alice.messages.length === 5);
  assert.deepEqual(texts(alice.messages), ['s1', 's2', 's3', 's4', 's5']);
});

test('a send refused as unavailable is retried with the same mid until stored', async () => {
  const n1 = await node({ node: 'n1', onSend: (_f, attempt) => (attempt <= 2 ? { error: ErrorCode.Unavailable } : undefined) });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const sent = await alice.client.send('lobby', 'busy');
  assert.equal(sent.duplicate, false);
  assert.equal(new Set(sends(n1).map((f) => f.mid)).size, 1);
  assert.equal(sends(n1).length, 3);
  assert.equal(n1.rooms.messages.get('lobby')?.length, 1);
});

test('each refusal for now of a send emits held, with its room, code and delay, until it is stored', async () => {
  const n1 = await node({ node: 'n1', onSend: (_f, attempt) => (attempt <= 2 ? { error: ErrorCode.Unavailable } : undefined) });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const held: { room?: string; code: string; delayMs: number }[] = [];
  alice.client.on('held', (h) => held.push(h));
  await alice.client.send('lobby', 'busy');
  assert.deepEqual(held.map((h) => [h.room, h.code]), [['lobby', ErrorCode.Unavailable], ['lobby', ErrorCode.Unavailable]]);
  for (const h of held) assert.ok(h.delayMs > 0 && h.delayMs <= 5000, `a delay within the unavailable schedule: ${h.delayMs}`);
});

test('a send with no reply is written again after requestTimeoutMs, on the same connection', async () => {
  const n1 = await node({ node: 'n1', onSend: (_f, attempt) => (attempt === 1 ? 'ignore' : undefined) });
  const alice = await joined({ url: n1.url, user: 'alice', requestTimeoutMs: 150 });
  const sent = await alice.client.send('lobby', 'slow');
  assert.equal(sends(n1).length, 2);
  assert.equal(sent.mid, sends(n1)[1]?.mid);
  assert.equal(n1.connections, 1, 'no reconnect was needed');
});

test('a final refusal rejects at once and is not resent', async () => {
  const n1 = await node({ node: 'n1', onSend: () => ({ error: ErrorCode.TooLarge }) });
  const alice = await joined({ url: n1.url, user: 'alice', requestTimeoutMs: 100 });
  await assert.rejects(alice.client.send('lobby', 'huge'), (e: unknown) => e instanceof ServerError && e.code === ErrorCode.TooLarge);
  await assert.rejects(alice.client.send('elsewhere', 'hi'), (e: unknown) => e instanceof ServerError && e.code === ErrorCode.NotJoined);
  await sleep(250);
  assert.equal(sends(n1).length, 2, 'each written once');
});

test('a send never acked rejects at sendTimeoutMs with SendTimeoutError naming its mid', async () => {
  const n1 = await node({ node: 'n1', onSend: () => 'ignore' });
  const alice = await joined({ url: n1.url, user: 'alice', requestTimeoutMs: 100, sendTimeoutMs: 450 });
  const started = Date.now();
  const error = await alice.client.send('lobby', 'void').then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof SendTimeoutError, String(error));
  assert.ok(Date.now() - started >= 440, 'not before the deadline');
  assert.equal(error.written, true);
  assert.ok(sends(n1).length >= 3 && sends(n1).every((f) => f.mid === error.mid), 'resent with its mid until then');
});

test('a direct is resent with its mid too, and its recipient gets it once', async () => {
  const rooms = new FakeRooms();
  const n1 = await node({ node: 'n1', rooms, onSend: (f, attempt) => (f.type === 'direct' && attempt === 1 ? 'store-then-drop' : undefined) });
  const n2 = await node({ node: 'n2', rooms });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const bob = await joined({ url: n2.url, user: 'bob' });
  const sent = await alice.client.direct('bob', 'psst');
  assert.equal(sent.duplicate, true);
  await sleep(100);
  assert.deepEqual(bob.directs.map((d) => [d.id, d.text]), [[sent.id, 'psst']]);
  await assert.rejects(alice.client.direct('carol', 'hi'), (e: unknown) => e instanceof ServerError && e.code === ErrorCode.UserOffline);
});

test('an application mid is sent as given, and one the server would refuse is refused here', async () => {
  const n1 = await node({ node: 'n1' });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const first = await alice.client.send('lobby', 'mine', { mid: 'order-42:a' });
  const again = await alice.client.send('lobby', 'mine', { mid: 'order-42:a' });
  assert.deepEqual([first.mid, first.duplicate, again.duplicate, again.id], ['order-42:a', false, true, first.id]);
  await assert.rejects(alice.client.send('lobby', 'x', { mid: 'has space' }), InvalidMidError);
  const minted = new Set(sends(n1).map((f) => f.mid));
  minted.add((await alice.client.send('lobby', 'a')).mid).add((await alice.client.send('lobby', 'b')).mid);
  assert.equal(minted.size, 3, 'every minted mid is new');
});

test('a slow-consumer close (4008) is resumed like a lost connection', async () => {
  const n1 = await node({ node: 'n1' });
  const alice = await joined({ url: n1.url, user: 'alice' });
  await alice.client.send('lobby', 'before');
  n1.closeAll(CloseCode.SlowConsumer, 'slow consumer');
  await waitFor('the close to be seen', () => alice.statuses.some((s) => s.code === CloseCode.SlowConsumer));
  n1.rooms.publish('lobby', 'bob', 'missed');
  await waitFor('alice back', () => alice.client.state === 'connected');
  await alice.client.send('lobby', 'after');
  await waitFor('"after"', () => texts(alice.messages).includes('after'));
  assert.deepEqual(texts(alice.messages), ['before', 'missed', 'after']);
});

test('a 4403 close stops the client for good: an `ended` event, pending sends rejected, no reconnect', async () => {
  const n1 = await node({ node: 'n1', onSend: () => 'ignore' });
  const alice = await joined({ url: n1.url, user: 'alice' });
  const ended: { code: number; reason: string }[] = [];
  alice.client.on('ended', (e) => ended.push(e));
  const pending = alice.client.send('lobby', 'in flight');
  await waitFor('the send to be written', () => sends(n1).length === 1);
  n1.closeAll(CloseCode.Disconnected, 'bye');
  await assert.rejects(pending, DisconnectedError);
  await waitFor('the ended event', () => ended.length === 1);
  assert.deepEqual(ended.map((e) => [e.code, e.reason]), [[CloseCode.Disconnected, 'bye']]);
  assert.equal(alice.client.state, 'closed');
  assert.deepEqual(alice.statuses.at(-1), { state: 'closed', code: CloseCode.Disconnected, reason: 'bye' });
  await assert.rejects(alice.client.send('lobby', 'later'), DisconnectedError);
  await assert.rejects(alice.client.connect(), DisconnectedError);
  await sleep(300);
  assert.equal(n1.connections, 0, 'no reconnect');
});
