/**
 * Edits, deletes and reactions through the SDK, against real gateway processes on a real Redis:
 * live events on another node, the latest state kept by applyChange, exactly once across a SIGKILL.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ChangeEvent, ChatMessage } from '@chat/protocol';
import { applyChange, type ChatClient, type ChatClientOptions } from './index.js';
import { createNodeClient } from './node.js';
import { startCluster, type RealCluster } from './testing/real-cluster.js';
import { sleep, waitFor } from './testing/wait.js';

const clients: ChatClient[] = [];
function connect(options: ChatClientOptions): ChatClient {
  const client = createNodeClient({ backoff: { initialMs: 100, maxMs: 1000 }, ...options });
  clients.push(client);
  return client;
}

/** A room as an application shows it: messages kept in their latest state by applyChange. */
function view(client: ChatClient, room: string, user: string) {
  let messages: ChatMessage[] = [];
  const changes: ChangeEvent[] = [];
  const apply = (change: ChangeEvent) => {
    changes.push(change);
    messages = applyChange(messages, change, user);
  };
  client.on('joined', (j) => {
    if (j.room !== room) return;
    messages = [...messages, ...j.history];
    for (const change of j.changes) apply(change);
  });
  client.on('message', (m) => { if (m.room === room) messages = [...messages, m]; });
  for (const kind of ['edit', 'delete', 'reaction'] as const) client.on(kind, (c: ChangeEvent) => { if (c.room === room) apply(c); });
  return { messages: () => messages, changes };
}

let cluster: RealCluster;
before(async () => {
  cluster = await startCluster(['g1', 'g2']);
});
after(async () => {
  for (const client of clients) client.close();
  await cluster?.stop();
});

test('edit, remove and react reach a member on another node as events, and applyChange gives what history gives', async () => {
  const [g1, g2] = cluster.gateways;
  const ann = connect({ url: g1!.wsUrl, user: 'ann' });
  const bob = connect({ url: g2!.wsUrl, user: 'bob' });
  const shown = view(bob, 'sdk', 'bob');
  await Promise.all([ann.connect(), bob.connect()]);
  await Promise.all([ann.join('sdk'), bob.join('sdk')]);
  const first = await ann.send('sdk', 'draft');
  const second = await ann.send('sdk', 'mistake');
  const edited = await ann.edit('sdk', first.id, 'final');
  await bob.react('sdk', first.id, '👍');
  const again = await bob.react('sdk', first.id, '👍');
  assert.equal(again.unchanged, true);
  await ann.react('sdk', first.id, 'tada');
  await ann.remove('sdk', second.id);
  await assert.rejects(bob.edit('sdk', first.id, 'mine'), (e: Error & { code?: string }) => e.code === 'forbidden');
  await assert.rejects(ann.react('sdk', first.id, 'Not An Emoji'), (e: Error & { code?: string }) => e.code === 'bad_request');

  await waitFor('four changes at bob', () => shown.changes.length >= 4);
  assert.deepEqual(shown.changes.map((c) => c.type), ['edit', 'reaction', 'reaction', 'delete']);
  assert.equal(shown.changes[0]!.id, edited.id);
  assert.deepEqual(shown.messages(), await bob.history('sdk'));
  assert.deepEqual(shown.messages()[0]!.reactions, { '👍': { count: 1, me: true }, tada: { count: 1, me: false } });
  assert.equal(shown.messages()[1]!.deleted, true);
});

test('a client resumes after its node is SIGKILLed with the changes made meanwhile, and its own edit made offline is stored once', async () => {
  const [g1, g2] = cluster.gateways;
  const writer = connect({ url: g2!.wsUrl, user: 'wes' });
  const reader = connect({ url: [g1!.wsUrl, g2!.wsUrl], user: 'rae' });
  const shown = view(reader, 'resume', 'rae');
  await Promise.all([writer.connect(), reader.connect()]);
  await Promise.all([writer.join('resume'), reader.join('resume')]);
  const mine = await reader.send('resume', 'tpyo');
  const theirs = await writer.send('resume', 'hello');
  await waitFor('the reader to see both', () => shown.messages().length === 2);
  await g1!.kill();
  await writer.edit('resume', theirs.id, 'hello all');
  await writer.react('resume', mine.id, 'eyes');
  const fixed = await reader.edit('resume', mine.id, 'typo'); // written after the kill: queued, resent on g2
  await waitFor('the reader back on g2 with every change', () => shown.changes.length >= 3, 15_000);
  await sleep(300);
  assert.equal(reader.node, 'g2');
  assert.deepEqual(shown.changes.map((c) => c.type).sort(), ['edit', 'edit', 'reaction']);
  assert.equal(new Set(shown.changes.map((c) => c.id)).size, 3, 'each change once');
  assert.ok(shown.changes.some((c) => c.id === fixed.id));
  assert.deepEqual(shown.messages(), await reader.history('resume'));
});
