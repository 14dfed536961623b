import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startGateway, type Frame, type TestClient } from '@chat/testkit';
import { BUS_BACKENDS, crossNodeSuite, metricValue, sleep } from './test-helpers.js';

const STORED = new Set(['message', 'edit', 'delete', 'reaction']);
/** What a member was handed of a room's stream so far, in arrival order: type and id of each. */
const stream = (c: TestClient, room: string) => c.frames.filter((f) => STORED.has(String(f.type)) && f.room === room).map((f) => `${f.type} ${f.id}`);

/** Edits, deletes and reactions across nodes, on both Redis backends: ordered, resumable, stored once. */
for (const backend of BUS_BACKENDS) describe(`edits, deletes and reactions across three gateways on ${backend}`, () => {
  const env = { REDIS_PREFIX: `chat${process.pid}:`, HISTORY_LIMIT: '100', RATE_LIMIT: '1000' };
  const suite = crossNodeSuite(backend, [env, env, env]);
  const { nodes, member } = suite;

  test('every member, on every node, sees the changes live in one order with the messages; history shows the latest state', async () => {
    const room = 'changes';
    const { client: ann } = await member(nodes[0]!, 'ann', room);
    const { client: bob } = await member(nodes[1]!, 'bob', room);
    const { client: cy } = await member(nodes[2]!, 'cy', room);
    const counted = () => Promise.all([
      metricValue(nodes[0]!.url, 'chat_edits_total'), metricValue(nodes[0]!.url, 'chat_deletes_total'), metricValue(nodes[1]!.url, 'chat_reactions_total'),
    ]);
    const countedBefore = await counted();
    const first = String((await ann.request({ type: 'send', room, text: 'helo' })).id);
    const second = String((await ann.request({ type: 'send', room, text: 'oops' })).id);

    // From three nodes at once: the room's one order decides, and everyone sees that order.
    const replies = await Promise.all([
      ann.request({ type: 'edit', room, id: first, text: 'hello', mid: 'fix-1' }),
      bob.request({ type: 'react', room, id: first, emoji: '👍' }),
      cy.request({ type: 'react', room, id: first, emoji: '👍' }),
      ann.request({ type: 'delete', room, id: second }),
      bob.request({ type: 'send', room, text: 'third' }),
    ]);
    assert.deepEqual(replies.map((r) => r.type), ['ack', 'ack', 'ack', 'ack', 'ack']);
    const resent = await ann.request({ type: 'edit', room, id: first, text: 'hello', mid: 'fix-1' });
    assert.deepEqual([resent.id, resent.duplicate], [replies[0]!.id, true], 'an edit resent with its mid is stored once');
    const refused = await bob.request({ type: 'edit', room, id: first, text: 'bob was here' });
    assert.deepEqual([refused.type, refused.code], ['error', 'forbidden'], 'only the author edits');

    const expected = 7;
    for (const c of [ann, bob, cy]) await until(() => stream(c, room).length >= expected, `${expected} events on every node`);
    await sleep(200);
    const seen = stream(ann, room);
    assert.equal(seen.length, expected, 'each event once');
    assert.deepEqual(stream(bob, room), seen);
    assert.deepEqual(stream(cy, room), seen);
    const ids = seen.map((s) => s.split(' ')[1]!);
    assert.deepEqual(ids, [...ids].sort(byId), 'in id order');
    const countedAfter = await counted();
    assert.deepEqual(countedAfter.map((n, i) => n - countedBefore[i]!), [1, 1, 1], 'one edit (the duplicate is not counted), one delete, one reaction on node 2');

    const page = (c: TestClient) => c.request({ type: 'history', room }).then((h) => h.messages as Frame[]);
    const [forCy, forBob] = [await page(cy), await page(bob)];
    assert.deepEqual(forCy.map((m) => [m.id, m.text, m.deleted]), [[first, 'hello', undefined], [second, undefined, true], [replies[4]!.id, 'third', undefined]]);
    assert.equal(typeof forCy[0]!.edited, 'number');
    assert.deepEqual(forCy[0]!.reactions, { '👍': { count: 2, me: true } });
    assert.deepEqual(forBob[0]!.reactions, { '👍': { count: 2, me: true } });
    assert.deepEqual((await page(ann))[0]!.reactions, { '👍': { count: 2, me: false } }, '`me` is per reader');
    const api = await (await fetch(`${nodes[2]!.url}/api/rooms/${room}/messages`)).json() as { messages: Frame[] };
    assert.deepEqual(api.messages.map((m) => [m.id, m.text ?? null, m.deleted ?? false]), [[first, 'hello', false], [second, null, true], [replies[4]!.id, 'third', false]]);
  });

  test('a client whose gateway is SIGKILLed resumes elsewhere with since and gets the changes made while away, each once', async () => {
    const room = 'away';
    const doomed = await startGateway({ env: { ...env, ...suite.bus!.env } });
    const { client: writer } = await member(nodes[1]!, 'wes', room);
    const first = String((await writer.request({ type: 'send', room, text: 'before' })).id);
    const { client: dana } = await member(doomed, 'dana', room);
    const other = String((await writer.request({ type: 'send', room, text: 'also before' })).id);
    await dana.next((f) => f.type === 'message' && f.id === other);
    const lastSeen = other;
    await doomed.kill();

    const made = [
      await writer.request({ type: 'edit', room, id: first, text: 'after' }),
      await writer.request({ type: 'react', room, id: other, emoji: 'eyes', mid: 'r1' }),
      await writer.request({ type: 'delete', room, id: other }),
      await writer.request({ type: 'send', room, text: 'new' }),
    ].map((a) => String(a.id));
    await writer.request({ type: 'react', room, id: other, emoji: 'eyes', mid: 'r1' }); // a resend: nothing new

    const { reply } = await member(nodes[2]!, 'dana', room, lastSeen);
    const history = reply.history as Frame[];
    assert.equal(reply.gap, false);
    assert.deepEqual(history.map((f) => [f.type, f.id]), [['edit', made[0]], ['reaction', made[1]], ['delete', made[2]], ['message', made[3]]]);
    assert.deepEqual(history[0], { type: 'edit', room, id: made[0], target: first, from: 'wes', text: 'after', ts: history[0]!.ts });
    assert.deepEqual([history[1]!.target, history[1]!.user, history[1]!.emoji, history[1]!.on], [other, 'wes', 'eyes', true]);
  });
});

function byId(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am! === bm! ? Number(as! - bs!) : am! < bm! ? -1 : 1;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
