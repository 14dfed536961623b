/**
 * The SDK's typing indicators and read markers against fake gateways (testing/fake-gateway.ts);
 * services/gateway/src/chat-semantics.test.ts holds the server to the same frames on real Redis.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { ReceiptEvent, TypingEvent } from '@chat/protocol';
import { InvalidIdError } from './errors.js';
import type { ReadState } from './events.js';
import { createNodeClient } from './node.js';
import type { ChatClient, ChatClientOptions } from './index.js';
import { FakeGateway, FakeRooms } from './testing/fake-gateway.js';
import { sleep, waitFor } from './testing/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function gateways(count: number): Promise<FakeGateway[]> {
  const rooms = new FakeRooms();
  const started = await Promise.all(Array.from({ length: count }, (_, i) => FakeGateway.start({ node: `n${i}`, rooms })));
  for (const gateway of started) cleanup.push(() => gateway.stop());
  return started;
}

async function joinedClient(options: ChatClientOptions, room: string) {
  const client: ChatClient = createNodeClient({ backoff: { initialMs: 50, maxMs: 200 }, ...options });
  cleanup.push(() => client.close());
  const typing: TypingEvent[] = [];
  const reads: ReadState[] = [];
  const receipts: ReceiptEvent[] = [];
  client.on('typing', (e) => typing.push(e));
  client.on('read', (e) => reads.push(e));
  client.on('receipt', (e) => receipts.push(e));
  await client.connect();
  const joined = await client.join(room);
  return { client, joined, typing, reads, receipts };
}

test('typing() is throttled per room, stopTyping() follows only a typing, and others see typers() until the stop', async () => {
  const [n0, n1] = await gateways(2);
  const ann = await joinedClient({ url: n0!.url, user: 'ann', typingIntervalMs: 300 }, 'lobby');
  const bob = await joinedClient({ url: n1!.url, user: 'bob' }, 'lobby');
  assert.equal(ann.client.typing('lobby'), true);
  assert.equal(ann.client.typing('lobby'), false, 'within the interval');
  assert.equal(ann.client.typing('elsewhere'), false, 'a room not joined: nothing is sent or queued');
  await waitFor('bob to see ann typing', () => bob.client.typers('lobby').includes('ann'));
  assert.deepEqual(bob.typing, [{ type: 'typing', room: 'lobby', user: 'ann', ttl: 5000 }]);
  await sleep(320);
  assert.equal(ann.client.typing('lobby'), true, 'the interval is over');
  assert.equal(ann.client.stopTyping('lobby'), true);
  assert.equal(ann.client.stopTyping('lobby'), false, 'nothing left to stop');
  await waitFor('the stop', () => bob.typing.some((e) => e.ttl === 0));
  assert.deepEqual(bob.client.typers('lobby'), []);
  assert.equal(n0!.received.filter((f) => f.type === 'typing').length, 3, 'two typings and one stop went out');
  assert.deepEqual(ann.typing, [], 'nobody is shown their own typing');
});

test('markRead() resolves with the marker, other connections of the user get a read event, and joined says where it stands', async () => {
  const [n0, n1] = await gateways(2);
  const writer = await joinedClient({ url: n0!.url, user: 'wes' }, 'lobby');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await writer.client.send('lobby', `m${i}`)).id);
  const laptop = await joinedClient({ url: n0!.url, user: 'ann' }, 'lobby');
  const phone = await joinedClient({ url: n1!.url, user: 'ann' }, 'lobby');
  assert.deepEqual([laptop.joined.read, laptop.joined.unread], [null, 3]);

  assert.deepEqual(await laptop.client.markRead('lobby', ids[1]!), { room: 'lobby', id: ids[1], unread: 1 });
  await waitFor('the phone to hear it', () => phone.reads.length === 1);
  assert.deepEqual(phone.reads, [{ room: 'lobby', id: ids[1], unread: 1 }]);
  assert.deepEqual(laptop.reads, [{ room: 'lobby', id: ids[1], unread: 1 }], 'the reply is a read event too');
  assert.deepEqual(await phone.client.markRead('lobby', ids[0]!), { room: 'lobby', id: ids[1], unread: 1 }, 'never backwards');
  await assert.rejects(laptop.client.markRead('lobby', 'latest'), InvalidIdError);

  const tablet = await joinedClient({ url: n1!.url, user: 'ann' }, 'lobby');
  assert.deepEqual([tablet.joined.read, tablet.joined.unread], [ids[1], 1]);
});

test('a server frame of the chat kinds that is malformed is ignored, not emitted', async () => {
  const [n0] = await gateways(1);
  const ann = await joinedClient({ url: n0!.url, user: 'ann' }, 'lobby');
  n0!.rooms.broadcast({ type: 'typing', room: 'lobby', user: 'bob', ttl: 'soon' } as unknown as TypingEvent, () => true);
  n0!.rooms.broadcast({ type: 'receipt', room: 'lobby', user: 'bob', id: 'x' } as unknown as ReceiptEvent, () => true);
  n0!.rooms.broadcast({ type: 'receipt', room: 'lobby', user: 'bob', id: '5-0' }, () => true);
  await waitFor('the well-formed receipt', () => ann.receipts.length === 1);
  assert.deepEqual([ann.typing, ann.receipts], [[], [{ type: 'receipt', room: 'lobby', user: 'bob', id: '5-0' }]]);
});
