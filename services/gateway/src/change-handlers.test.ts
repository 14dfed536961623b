import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreOnMemory, settle } from './testing-core.js';

const frame = (value: Record<string, unknown>) => JSON.stringify(value);
/** Error codes with their refs, by ref: a refusal decided by the bus may come after one the decoder made. */
const byRef = (errors: Array<Record<string, unknown>>) => errors.map((f) => [f.code, f.ref] as const).sort((a, b) => String(a[1]).localeCompare(String(b[1])));

test('the core alone: an edit by the author reaches every member as its own event, and history shows the message edited', async (t) => {
  const { gateway, connect, stop } = coreOnMemory({ MAX_TEXT: '10' });
  t.after(stop);
  const ann = connect('ann');
  const bob = connect('bob');
  for (const { session } of [ann, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(ann.session, frame({ type: 'send', room: 'lobby', text: 'helo', ref: 's' }));
  await settle();
  const target = ann.conn.of('ack')[0]!.id as string;
  gateway.receive(ann.session, frame({ type: 'edit', room: 'lobby', id: target, text: 'hello', ref: 'e' }));
  await settle();
  const ack = ann.conn.of('ack').find((f) => f.ref === 'e')!;
  const edits = bob.conn.of('edit');
  assert.deepEqual(edits, [{ type: 'edit', room: 'lobby', id: ack.id, target, from: 'ann', text: 'hello', ts: edits[0]!.ts }]);
  assert.deepEqual(ann.conn.of('edit'), edits, 'the author too');

  gateway.receive(bob.session, frame({ type: 'edit', room: 'lobby', id: target, text: 'mine now', ref: 'b1' }));
  gateway.receive(bob.session, frame({ type: 'delete', room: 'lobby', id: target, ref: 'b2' }));
  gateway.receive(ann.session, frame({ type: 'edit', room: 'lobby', id: '1-0', text: 'x', ref: 'a1' }));
  gateway.receive(ann.session, frame({ type: 'edit', room: 'lobby', id: target, text: '12345678901', ref: 'a2' }));
  gateway.receive(ann.session, frame({ type: 'edit', room: 'lobby', id: 'latest', text: 'x', ref: 'a3' }));
  gateway.receive(ann.session, frame({ type: 'edit', room: 'elsewhere', id: target, text: 'x', ref: 'a4' }));
  await settle();
  assert.deepEqual(bob.conn.of('error').map((f) => [f.code, f.ref]), [['forbidden', 'b1'], ['forbidden', 'b2']], 'only the author');
  assert.deepEqual(byRef(ann.conn.of('error')), [['not_found', 'a1'], ['too_large', 'a2'], ['bad_request', 'a3'], ['not_joined', 'a4']]);
  gateway.receive(ann.session, frame({ type: 'edit', room: 'lobby', id: target, text: '1234567890', ref: 'edge' }));
  await settle();
  assert.ok(ann.conn.of('ack').some((f) => f.ref === 'edge'), 'MAX_TEXT characters exactly is allowed');

  gateway.receive(bob.session, frame({ type: 'history', room: 'lobby', ref: 'h' }));
  await settle();
  const [message] = bob.conn.of('history')[0]!.messages as Array<Record<string, unknown>>;
  const lastEdit = ann.conn.of('ack').find((f) => f.ref === 'edge')!.id;
  assert.deepEqual(message, { type: 'message', room: 'lobby', id: target, from: 'ann', text: '1234567890', ts: message!.ts, edited: message!.edited, rev: lastEdit });
  assert.equal(typeof message!.edited, 'number');

  const late = connect('cy');
  gateway.receive(late.session, frame({ type: 'join', room: 'lobby', ref: 'j' }));
  await settle();
  gateway.receive(late.session, frame({ type: 'join', room: 'lobby', since: target, ref: 'resume' }));
  await settle();
  const [fresh, resumed] = late.conn.of('joined');
  assert.deepEqual((fresh!.history as Array<Record<string, unknown>>).map((m) => [m.type, m.text]), [['message', '1234567890']], 'a join without since: messages in their latest state');
  assert.deepEqual((resumed!.history as Array<Record<string, unknown>>).map((m) => [m.type, m.text]), [['edit', 'hello'], ['edit', '1234567890']], 'a resume: the changes themselves');
});

test('the core alone: a delete leaves a tombstone that nothing changes any more', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const ann = connect('ann');
  const bob = connect('bob');
  for (const { session } of [ann, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  for (const text of ['oops', 'fine']) gateway.receive(ann.session, frame({ type: 'send', room: 'lobby', text, ref: text }));
  await settle();
  const [oops, fine] = ann.conn.of('ack').map((f) => f.id as string);
  gateway.receive(ann.session, frame({ type: 'delete', room: 'lobby', id: oops, ref: 'd' }));
  await settle();
  const deleteId = ann.conn.of('ack').find((f) => f.ref === 'd')!.id;
  assert.deepEqual(bob.conn.of('delete').map((f) => [f.id, f.target, f.from]), [[deleteId, oops, 'ann']]);
  for (const change of [{ type: 'edit', text: 'back' }, { type: 'delete' }, { type: 'react', emoji: 'ok' }]) {
    gateway.receive(ann.session, frame({ ...change, room: 'lobby', id: oops, ref: `again-${change.type}` }));
  }
  gateway.receive(bob.session, frame({ type: 'history', room: 'lobby', ref: 'h' }));
  await settle();
  assert.deepEqual(ann.conn.of('error').map((f) => f.code), ['not_found', 'not_found', 'not_found']);
  const messages = bob.conn.of('history')[0]!.messages as Array<Record<string, unknown>>;
  assert.deepEqual(messages.map((m) => m.id), [oops, fine], 'no hole in the ids');
  assert.deepEqual(messages[0], { type: 'message', room: 'lobby', id: oops, from: 'ann', deleted: true, ts: messages[0]!.ts, rev: deleteId });
});

test('the core alone: reactions toggle per user, once each, with counts and `me` per reader, at most MAX_REACTIONS emoji', async (t) => {
  const { gateway, connect, stop } = coreOnMemory({ MAX_REACTIONS: '2' });
  t.after(stop);
  const ann = connect('ann');
  const bob = connect('bob');
  for (const { session } of [ann, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(ann.session, frame({ type: 'send', room: 'lobby', text: 'lunch?', ref: 's' }));
  await settle();
  const target = ann.conn.of('ack')[0]!.id as string;
  gateway.receive(bob.session, frame({ type: 'react', room: 'lobby', id: target, emoji: '👍🏽', ref: 'r1' }));
  await settle();
  gateway.receive(bob.session, frame({ type: 'react', room: 'lobby', id: target, emoji: '👍🏽', on: true, ref: 'r2' }));
  gateway.receive(ann.session, frame({ type: 'react', room: 'lobby', id: target, emoji: '👍🏽', ref: 'r3' }));
  gateway.receive(ann.session, frame({ type: 'react', room: 'lobby', id: target, emoji: 'pizza', ref: 'r4' }));
  await settle();
  gateway.receive(ann.session, frame({ type: 'react', room: 'lobby', id: target, emoji: 'x'.repeat(32), ref: 'r5' }));
  gateway.receive(ann.session, frame({ type: 'react', room: 'lobby', id: target, emoji: 'x'.repeat(33), ref: 'r6' }));
  gateway.receive(ann.session, frame({ type: 'react', room: 'lobby', id: target, emoji: 'Thumbs Up', ref: 'r7' }));
  gateway.receive(ann.session, frame({ type: 'react', room: 'lobby', id: target, emoji: 'pizza', on: 'yes', ref: 'r8' }));
  await settle();
  const bobAcks = bob.conn.of('ack');
  assert.deepEqual(bobAcks[1], { type: 'ack', id: bobAcks[0]!.id, unchanged: true, ref: 'r2' }, 'the same reaction again: nothing stored, the current id');
  assert.deepEqual(ann.conn.of('reaction').map((f) => [f.user, f.emoji, f.on]), [['bob', '👍🏽', true], ['ann', '👍🏽', true], ['ann', 'pizza', true]], 'one event each');
  assert.deepEqual(byRef(ann.conn.of('error')), [['too_many_reactions', 'r5'], ['bad_request', 'r6'], ['bad_request', 'r7'], ['bad_request', 'r8']]);

  gateway.receive(ann.session, frame({ type: 'react', room: 'lobby', id: target, emoji: 'pizza', on: false, ref: 'off' }));
  for (const { session } of [ann, bob]) gateway.receive(session, frame({ type: 'history', room: 'lobby', ref: 'h' }));
  await settle();
  assert.deepEqual(ann.conn.of('reaction').at(-1)!.on, false);
  const reactions = (conn: typeof ann.conn) => (conn.of('history')[0]!.messages as Array<Record<string, unknown>>)[0]!.reactions;
  assert.deepEqual(reactions(ann.conn), { '👍🏽': { count: 2, me: true } });
  assert.deepEqual(reactions(bob.conn), { '👍🏽': { count: 2, me: true } });
  gateway.receive(bob.session, frame({ type: 'react', room: 'lobby', id: target, emoji: '👍🏽', on: false }));
  const cy = connect('cy');
  gateway.receive(cy.session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  assert.deepEqual((cy.conn.of('joined')[0]!.history as Array<Record<string, unknown>>)[0]!.reactions, { '👍🏽': { count: 1, me: false } });
});

test('the core alone: an edit resent with its mid is stored once and acked as a duplicate', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const ann = connect('ann');
  gateway.receive(ann.session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(ann.session, frame({ type: 'send', room: 'lobby', text: 'one', ref: 's' }));
  await settle();
  const target = ann.conn.of('ack')[0]!.id;
  for (const ref of ['e1', 'e2']) gateway.receive(ann.session, frame({ type: 'edit', room: 'lobby', id: target, text: 'uno', mid: 'edit-1', ref }));
  await settle();
  const [, first, repeat] = ann.conn.of('ack');
  assert.deepEqual(repeat, { type: 'ack', id: first!.id, duplicate: true, ref: 'e2' });
  assert.equal(ann.conn.of('edit').length, 1);
});
