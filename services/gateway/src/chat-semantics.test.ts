import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestClient } from '@chat/testkit';
import { BUS_BACKENDS, crossNodeSuite, metricValue, sleep } from './test-helpers.js';

/** Typing, read markers and receipts across nodes, on both Redis backends. */
for (const backend of BUS_BACKENDS) describe(`typing and read markers across three gateways on ${backend}`, () => {
  const env = { REDIS_PREFIX: `chat${process.pid}:`, HISTORY_LIMIT: '50', RATE_LIMIT: '1000', TYPING_INTERVAL_MS: '1000', TYPING_TTL_MS: '3000' };
  // Three nodes, and a fourth, the only one with READ_RECEIPTS on.
  const { nodes, member } = crossNodeSuite(backend, [env, env, env, { ...env, READ_RECEIPTS: 'true' }]);
  const typingOf = (c: TestClient, room: string) => c.frames.filter((f) => f.type === 'typing' && f.room === room);

  test('typing reaches members on other nodes but none of the typer\'s connections; one per interval, a stop always, as ttl 0', async () => {
    const room = 'typing';
    const { client: ann } = await member(nodes[0]!, 'ann', room);
    const { client: annElsewhere } = await member(nodes[1]!, 'ann', room);
    const { client: bob } = await member(nodes[1]!, 'bob', room);
    const { client: cy } = await member(nodes[2]!, 'cy', room);
    const before = await metricValue(nodes[0]!.url, 'chat_typing_total');

    ann.send({ type: 'typing', room });
    for (const other of [bob, cy]) assert.deepEqual(await other.next((f) => f.type === 'typing'), { type: 'typing', room, user: 'ann', ttl: 3000 });
    ann.send({ type: 'typing', room }); // within TYPING_INTERVAL_MS: dropped
    await sleep(1100);
    ann.send({ type: 'typing', room }); // the interval is over
    for (const other of [bob, cy]) assert.equal((await other.next((f) => f.type === 'typing')).ttl, 3000);
    ann.send({ type: 'typing', room, state: 'stop' });
    for (const other of [bob, cy]) assert.deepEqual(await other.next((f) => f.type === 'typing'), { type: 'typing', room, user: 'ann', ttl: 0 });
    await sleep(200);
    assert.deepEqual([typingOf(bob, room), typingOf(cy, room)], [[], []], 'exactly three relayed: the one inside the interval was dropped');
    assert.deepEqual([typingOf(ann, room), typingOf(annElsewhere, room)], [[], []], 'the typer\'s own connections, here and on another node, get none');
    assert.deepEqual(ann.frames.filter((f) => f.type === 'error'), [], 'no reply to a dropped typing');
    assert.equal(await metricValue(nodes[0]!.url, 'chat_typing_total') - before, 3);
  });

  test('a marker set on one node updates the user\'s connection on another live, never goes back, and is what a later join elsewhere returns', async () => {
    const room = 'reading';
    const { client: writer } = await member(nodes[2]!, 'writer', room);
    const { client: ann } = await member(nodes[0]!, 'dana', room);
    const { client: annPhone, reply: firstJoin } = await member(nodes[1]!, 'dana', room);
    assert.deepEqual([firstJoin.read, firstJoin.unread], [null, 0]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(String((await writer.request({ type: 'send', room, text: `m${i}` })).id));
    const markersBefore = await metricValue(nodes[0]!.url, 'chat_read_markers_total');

    const { ref, ...marked } = await ann.request({ type: 'read', room, id: ids[1] });
    assert.deepEqual(marked, { type: 'read', room, id: ids[1], unread: 2 });
    assert.equal(typeof ref, 'string', 'the reply carries the request\'s ref');
    assert.deepEqual(await annPhone.next((f) => f.type === 'read'), { type: 'read', room, id: ids[1], unread: 2 }, 'the same user on node 2, live');
    assert.equal(await metricValue(nodes[0]!.url, 'chat_read_markers_total') - markersBefore, 1);

    const back = await annPhone.request({ type: 'read', room, id: ids[0] });
    assert.deepEqual([back.id, back.unread], [ids[1], 2], 'an older id leaves the marker where it is');
    for (let i = 0; i < 2; i++) ids.push(String((await writer.request({ type: 'send', room, text: `later ${i}` })).id));
    const { reply } = await member(nodes[2]!, 'dana', room);
    assert.deepEqual([reply.read, reply.unread], [ids[1], 4], 'node 3 reads the same marker, counting what came after it');
    const past = await ann.request({ type: 'read', room, id: '18446744073709551615-0' });
    assert.deepEqual([past.id, past.unread], [ids[5], 0], 'an id past the newest marks the newest');
    await sleep(200);
    assert.deepEqual(ann.frames.filter((f) => f.type === 'read'), [], 'the connection that marked gets only its replies');
    assert.deepEqual(writer.frames.filter((f) => f.type === 'read' || f.type === 'receipt'), [], 'other users get nothing without READ_RECEIPTS');
  });

  test('receipts reach the room\'s other members on every node only from a node with READ_RECEIPTS on', async () => {
    const room = 'receipts';
    const { client: writer } = await member(nodes[1]!, 'wes', room);
    const { client: quiet } = await member(nodes[0]!, 'eli', room);
    const { client: loud } = await member(nodes[3]!, 'eli', room);
    const first = String((await writer.request({ type: 'send', room, text: 'one' })).id);
    const second = String((await writer.request({ type: 'send', room, text: 'two' })).id);
    await quiet.request({ type: 'read', room, id: first });
    await loud.next((f) => f.type === 'read'); // the other connection heard it: the mark is through
    await loud.request({ type: 'read', room, id: second });
    assert.deepEqual(await writer.next((f) => f.type === 'receipt'), { type: 'receipt', room, user: 'eli', id: second });
    await sleep(200);
    assert.deepEqual(writer.frames.filter((f) => f.type === 'receipt'), [], 'the mark made where receipts are off sent none');
    assert.deepEqual([...quiet.frames, ...loud.frames].filter((f) => f.type === 'receipt'), [], 'the reader gets no receipt of its own');
  });
});

