import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreOnMemory, settle } from './testing-core.js';

const frame = (value: Record<string, unknown>) => JSON.stringify(value);

test('the core alone: typing reaches the room\'s other members but none of the typer\'s connections, throttled per connection, a stop always', async (t) => {
  const { gateway, connect, stop } = coreOnMemory({ TYPING_INTERVAL_MS: '1000', TYPING_TTL_MS: '2000' });
  t.after(stop);
  const ann = connect('ann');
  const annTab = connect('ann');
  const bob = connect('bob');
  const outsider = connect('cy');
  for (const { session } of [ann, annTab, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(ann.session, frame({ type: 'typing', room: 'lobby' }));
  await settle();
  gateway.receive(ann.session, frame({ type: 'typing', room: 'lobby' })); // within the interval: dropped
  gateway.receive(annTab.session, frame({ type: 'typing', room: 'lobby' })); // another connection has its own throttle
  await settle();
  assert.deepEqual(bob.conn.of('typing'), [{ type: 'typing', room: 'lobby', user: 'ann', ttl: 2000 }, { type: 'typing', room: 'lobby', user: 'ann', ttl: 2000 }]);
  assert.deepEqual([ann.conn.of('typing'), annTab.conn.of('typing'), outsider.conn.of('typing')], [[], [], []]);
  assert.deepEqual(ann.conn.of('error'), [], 'a throttled typing gets no reply');

  gateway.receive(ann.session, frame({ type: 'typing', room: 'lobby', state: 'stop' }));
  gateway.receive(ann.session, frame({ type: 'typing', room: 'lobby' })); // news again after a stop
  await settle();
  assert.deepEqual(bob.conn.of('typing').slice(2).map((f) => f.ttl), [0, 2000]);
  gateway.receive(ann.session, frame({ type: 'typing', room: 'lobby' }));
  await settle(300);
  assert.equal(bob.conn.of('typing').length, 4, 'still within the interval of the last one relayed');
  await settle(800);
  gateway.receive(ann.session, frame({ type: 'typing', room: 'lobby' }));
  await settle();
  assert.equal(bob.conn.of('typing').length, 5, 'the interval is over');

  gateway.receive(outsider.session, frame({ type: 'typing', room: 'lobby', ref: 't' }));
  gateway.receive(ann.session, frame({ type: 'typing', room: 'lobby', state: 'start', ref: 'u' }));
  await settle();
  assert.deepEqual(outsider.conn.of('error').map((f) => [f.code, f.ref]), [['not_joined', 't']]);
  assert.deepEqual(ann.conn.of('error').map((f) => [f.code, f.ref]), [['bad_request', 'u']]);
});

test('the core alone: read markers move only forward, reach the user\'s other connections, and are what the next join says', async (t) => {
  const { gateway, connect, stop } = coreOnMemory({ HISTORY_LIMIT: '3' });
  t.after(stop);
  const ann = connect('ann');
  const annTab = connect('ann');
  const bob = connect('bob');
  for (const { session } of [ann, annTab, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  assert.deepEqual(ann.conn.of('joined').map((f) => [f.read, f.unread]), [[null, 0]]);
  for (let i = 0; i < 5; i++) gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: `m${i}`, ref: `s${i}` }));
  await settle();
  const ids = bob.conn.of('ack').map((f) => f.id as string);

  gateway.receive(ann.session, frame({ type: 'join', room: 'lobby', ref: 'again' }));
  await settle();
  assert.deepEqual(ann.conn.of('joined').at(-1), { type: 'joined', room: 'lobby', members: ['ann', 'bob'], history: ann.conn.of('joined').at(-1)!.history, gap: false, read: null, unread: 3, ref: 'again' }, 'no marker: what history holds');

  gateway.receive(ann.session, frame({ type: 'read', room: 'lobby', id: ids[2], ref: 'r1' }));
  await settle();
  assert.deepEqual(ann.conn.of('read'), [{ type: 'read', room: 'lobby', id: ids[2], unread: 2, ref: 'r1' }]);
  assert.deepEqual(annTab.conn.of('read'), [{ type: 'read', room: 'lobby', id: ids[2], unread: 2 }]);
  assert.deepEqual([bob.conn.of('read'), bob.conn.of('receipt')], [[], []], 'receipts are off by default');

  gateway.receive(annTab.session, frame({ type: 'read', room: 'lobby', id: ids[1], ref: 'r2' }));
  await settle();
  assert.deepEqual(annTab.conn.of('read').at(-1), { type: 'read', room: 'lobby', id: ids[2], unread: 2, ref: 'r2' }, 'an older id leaves the marker');
  assert.equal(ann.conn.of('read').length, 1, 'a marker that did not move is not passed on');

  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'later' }));
  await settle();
  gateway.receive(annTab.session, frame({ type: 'join', room: 'lobby', ref: 'j' }));
  await settle();
  assert.deepEqual(annTab.conn.of('joined').filter((f) => f.ref === 'j').map((f) => [f.read, f.unread]), [[ids[2], 3]]);

  const stranger = connect('dee');
  gateway.receive(stranger.session, frame({ type: 'read', room: 'lobby', id: ids[4], ref: 'x' }));
  gateway.receive(ann.session, frame({ type: 'read', room: 'lobby', id: 'newest', ref: 'y' }));
  await settle();
  assert.deepEqual(stranger.conn.of('error').map((f) => [f.code, f.ref]), [['not_joined', 'x']]);
  assert.deepEqual(ann.conn.of('error').map((f) => [f.code, f.ref]), [['bad_request', 'y']]);
});

test('the core alone: with READ_RECEIPTS on, the room\'s other members get a receipt when a marker moves', async (t) => {
  const { gateway, connect, stop } = coreOnMemory({ READ_RECEIPTS: 'true' });
  t.after(stop);
  const ann = connect('ann');
  const annTab = connect('ann');
  const bob = connect('bob');
  for (const { session } of [ann, annTab, bob]) gateway.receive(session, frame({ type: 'join', room: 'lobby' }));
  await settle();
  gateway.receive(bob.session, frame({ type: 'send', room: 'lobby', text: 'hi', ref: 's' }));
  await settle();
  const id = bob.conn.of('ack')[0]!.id;
  gateway.receive(ann.session, frame({ type: 'read', room: 'lobby', id }));
  gateway.receive(ann.session, frame({ type: 'read', room: 'lobby', id }));
  await settle();
  assert.deepEqual(bob.conn.of('receipt'), [{ type: 'receipt', room: 'lobby', user: 'ann', id }], 'once: the second did not move it');
  assert.deepEqual([ann.conn.of('receipt'), annTab.conn.of('receipt')], [[], []]);
});
