import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreOnMemory, settle } from './testing-core.js';

const frame = (value: Record<string, unknown>) => JSON.stringify(value);
const errors = (conn: { of(type: string): Array<Record<string, unknown>> }) => conn.of('error').map((f) => [f.code, f.ref]);

test('the core alone: only moderators (token claim or granted) may moderate; others get forbidden', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const claimed = connect('cleo', { mod: ['lob*'] });
  const plain = connect('pat');
  const granted = connect('gus');
  await gateway.moderation.store.setModerator('lobby', 'gus', true);
  gateway.receive(claimed.session, frame({ type: 'slowmode', room: 'lobby', seconds: 0, ref: 'a' }));
  gateway.receive(claimed.session, frame({ type: 'kick', room: 'other', user: 'pat', ref: 'b' }));
  gateway.receive(plain.session, frame({ type: 'mute', room: 'lobby', user: 'cleo', ref: 'c' }));
  gateway.receive(granted.session, frame({ type: 'unmute', room: 'lobby', user: 'pat', ref: 'd' }));
  gateway.receive(granted.session, frame({ type: 'unmute', room: 'lobby2', user: 'pat', ref: 'e' }));
  await settle();
  assert.deepEqual(claimed.conn.of('moderated'), [{ type: 'moderated', room: 'lobby', action: 'slowmode', ref: 'a' }]);
  assert.deepEqual(errors(claimed.conn), [['forbidden', 'b']], 'the claim names lob*, not other');
  assert.deepEqual(errors(plain.conn), [['forbidden', 'c']]);
  assert.deepEqual(granted.conn.of('moderated'), [{ type: 'moderated', room: 'lobby', action: 'unmute', user: 'pat', ref: 'd' }]);
  assert.deepEqual(errors(granted.conn), [['forbidden', 'e']], 'a grant is for its room only');
  assert.equal(await gateway.moderation.mayModerate(plain.session, 'lobby'), false);
});

test('the core alone: a kick takes every connection of the user out of the room, tells members, and allows a rejoin', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const mod = connect('mia', { mod: ['*'] });
  const bob = connect('bob');
  const bobTab = connect('bob');
  const ann = connect('ann');
  for (const { session } of [mod, bob, bobTab, ann]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  gateway.receive(bob.session, frame({ type: 'join', room: 'other' }));
  await settle();
  gateway.receive(mod.session, frame({ type: 'kick', room: 'lobby', user: 'bob', ref: 'k' }));
  await settle();
  assert.deepEqual(mod.conn.of('moderated'), [{ type: 'moderated', room: 'lobby', action: 'kick', user: 'bob', ref: 'k' }]);
  for (const c of [bob, bobTab]) assert.deepEqual(c.conn.of('left'), [{ type: 'left', room: 'lobby', reason: 'kicked' }]);
  assert.deepEqual([...bob.session.rooms], ['other'], 'other rooms are kept');
  assert.deepEqual(ann.conn.of('moderation'), [{ type: 'moderation', room: 'lobby', action: 'kick', user: 'bob', by: 'mia' }]);
  assert.deepEqual(ann.conn.of('presence').at(-1), { type: 'presence', room: 'lobby', user: 'bob', state: 'leave' });
  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'hi', ref: 's' }));
  gateway.receive(bob.session, frame({ type: 'join', room: 'lobby', ref: 'j' }));
  await settle();
  assert.deepEqual(errors(bob.conn), [['not_joined', 's']]);
  assert.equal(bob.conn.of('joined').at(-1)?.ref, 'j', 'a kick is not a ban');
});

test('the core alone: a ban refuses join and send with banned (and its reason), until it ends or is lifted', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const mod = connect('mia', { mod: ['lobby'] });
  const bob = connect('bob');
  for (const { session } of [mod, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(mod.session, frame({ type: 'ban', room: 'lobby', user: 'bob', reason: 'spam', ref: 'b' }));
  await settle();
  assert.deepEqual(bob.conn.of('left'), [{ type: 'left', room: 'lobby', reason: 'banned' }]);
  assert.deepEqual(mod.conn.of('moderation'), [{ type: 'moderation', room: 'lobby', action: 'ban', user: 'bob', by: 'mia' }]);
  gateway.receive(bob.session, frame({ type: 'join', room: 'lobby', ref: 'j' }));
  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'x', ref: 's' }));
  await settle();
  assert.deepEqual(errors(bob.conn), [['banned', 'j'], ['banned', 's']]);
  assert.match(String(bob.conn.of('error')[0]!.message), /banned from lobby: spam/);
  const again = connect('bob');
  gateway.receive(again.session, frame({ type: 'join', room: 'lobby', ref: 'j2' }));
  await settle();
  assert.deepEqual(errors(again.conn), [['banned', 'j2']], 'a new connection too');

  gateway.receive(mod.session, frame({ type: 'unban', room: 'lobby', user: 'bob' }));
  await settle();
  gateway.receive(bob.session, frame({ type: 'join', room: 'lobby', ref: 'j3' }));
  await settle();
  assert.equal(bob.conn.of('joined').at(-1)?.ref, 'j3', 'lifted');

  gateway.receive(mod.session, frame({ type: 'ban', room: 'lobby', user: 'bob', seconds: 1 }));
  await settle();
  gateway.receive(bob.session, frame({ type: 'join', room: 'lobby', ref: 'j4' }));
  await settle();
  assert.deepEqual(errors(bob.conn).at(-1), ['banned', 'j4']);
  assert.deepEqual(mod.conn.of('moderation').at(-1), { type: 'moderation', room: 'lobby', action: 'ban', user: 'bob', by: 'mia', seconds: 1 });
  await settle(1050);
  gateway.receive(bob.session, frame({ type: 'join', room: 'lobby', ref: 'j5' }));
  await settle();
  assert.equal(bob.conn.of('joined').at(-1)?.ref, 'j5', 'a timed ban ends by itself');
});

test('the core alone: a muted member reads but may not send; unmute lets it send again', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const mod = connect('mia', { mod: ['lobby'] });
  const bob = connect('bob');
  for (const { session } of [mod, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(mod.session, frame({ type: 'mute', room: 'lobby', user: 'bob' }));
  await settle();
  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'x', ref: 's' }));
  gateway.receive(mod.session, frame({ type: 'send', room: 'lobby', text: 'still here' }));
  await settle();
  assert.deepEqual(errors(bob.conn), [['muted', 's']]);
  assert.deepEqual(bob.conn.of('message').map((m) => m.text), ['still here'], 'reads the room');
  gateway.receive(mod.session, frame({ type: 'unmute', room: 'lobby', user: 'bob' }));
  await settle();
  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'back', ref: 's2' }));
  await settle();
  assert.equal(bob.conn.of('ack').at(-1)?.ref, 's2');
});

test('the core alone: slow mode allows one send per interval per member, tells how long to wait, spares moderators, and turns off with 0', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const mod = connect('mia', { mod: ['lobby'] });
  const bob = connect('bob');
  const ann = connect('ann');
  for (const { session } of [mod, bob, ann]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(mod.session, frame({ type: 'slowmode', room: 'lobby', seconds: 2 }));
  await settle();
  assert.deepEqual(bob.conn.of('moderation'), [{ type: 'moderation', room: 'lobby', action: 'slowmode', by: 'mia', seconds: 2 }]);
  for (const [i, who] of [bob, bob, ann, mod, mod].entries()) gateway.receive(who.session, frame({ type: 'send', room: 'lobby', text: `m${i}`, ref: `s${i}` }));
  await settle();
  assert.deepEqual(bob.conn.of('ack').map((f) => f.ref), ['s0']);
  const refused = bob.conn.of('error')[0]!;
  assert.equal(refused.code, 'slow_mode');
  assert.ok(Number(refused.retryAfterMs) > 1800 && Number(refused.retryAfterMs) <= 2000, `retryAfterMs ${refused.retryAfterMs}`);
  assert.deepEqual(ann.conn.of('ack').map((f) => f.ref), ['s2'], 'per member');
  assert.deepEqual(mod.conn.of('ack').map((f) => f.ref), ['s3', 's4'], 'moderators are exempt');
  await settle(Number(refused.retryAfterMs) - 400);
  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'early', ref: 'early' }));
  await settle(500);
  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'on time', ref: 'late' }));
  await settle();
  assert.deepEqual(errors(bob.conn).at(-1), ['slow_mode', 'early'], 'just before the edge: refused');
  assert.deepEqual(bob.conn.of('ack').map((f) => f.ref), ['s0', 'late'], 'just after it: accepted');
  gateway.receive(mod.session, frame({ type: 'slowmode', room: 'lobby', seconds: 0 }));
  await settle();
  gateway.receive(ann.session, frame({ type: 'send', room: 'lobby', text: 'a', ref: 'a1' }));
  gateway.receive(ann.session, frame({ type: 'send', room: 'lobby', text: 'b', ref: 'a2' }));
  await settle();
  assert.deepEqual(ann.conn.of('ack').map((f) => f.ref), ['s2', 'a1', 'a2'], 'off');
});

test('the core alone: bad moderation frames are bad_request', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const mod = connect('mia', { mod: ['*'] });
  const bad = [
    { type: 'kick', room: 'lobby', ref: '1' },
    { type: 'ban', room: 'lobby', user: 'a b', ref: '2' },
    { type: 'ban', room: 'lobby', user: 'bob', seconds: 0, ref: '3' },
    { type: 'mute', room: 'lobby', user: 'bob', seconds: 1.5, ref: '4' },
    { type: 'slowmode', room: 'lobby', ref: '5' },
    { type: 'slowmode', room: 'lobby', seconds: -1, ref: '6' },
    { type: 'ban', room: 'lobby', user: 'bob', reason: 'x'.repeat(201), ref: '7' },
    { type: 'members', room: 'lobby', limit: 0, ref: '8' },
    { type: 'ban', room: 'lobby', user: 'bob', seconds: 366 * 24 * 3600 + 1, ref: '9' },
  ];
  for (const f of bad) gateway.receive(mod.session, frame(f));
  await settle();
  assert.deepEqual(errors(mod.conn), bad.map((f) => ['bad_request', f.ref]));
});
