import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreOnMemory, settle } from './testing-core.js';

const frame = (value: Record<string, unknown>) => JSON.stringify(value);

test('the core alone: above LARGE_ROOM members presence is counts only, at most one count per interval, and per-user events resume at the threshold', async (t) => {
  const { gateway, connect, stop } = coreOnMemory({ LARGE_ROOM: '3', PRESENCE_COUNT_INTERVAL_MS: '300' });
  t.after(stop);
  const watcher = connect('amy');
  gateway.receive(watcher.session, frame({ type: 'join', room: 'hall' }));
  await settle();
  const users = ['bob', 'cy', 'dee', 'eve', 'fay'].map((user) => connect(user));
  for (const u of users) {
    gateway.receive(u.session, frame({ type: 'join', room: 'hall' }));
    await settle();
  }
  assert.deepEqual(watcher.conn.of('presence'), [
    { type: 'presence', room: 'hall', user: 'bob', state: 'join' },
    { type: 'presence', room: 'hall', user: 'cy', state: 'join' },
  ], 'per user up to 3 members; the 4th join on is not told one by one');
  const last = users.at(-1)!.conn.of('joined')[0]!;
  assert.deepEqual([last.members, last.count], [['amy', 'bob', 'cy'], 6], 'joined holds LARGE_ROOM names, sorted, and the count');
  assert.equal(users[1]!.conn.of('joined')[0]!.count, undefined, 'no count while the room is small');
  await settle(400);
  assert.deepEqual(watcher.conn.of('presence').slice(2), [{ type: 'presence', room: 'hall', count: 6 }], 'one count, after the interval');
  await settle(350);
  assert.equal(watcher.conn.of('presence').length, 3, 'nothing while the count stays');

  for (const u of users.slice(2)) gateway.receive(u.session, frame({ type: 'leave', room: 'hall' }));
  await settle(350);
  assert.deepEqual(watcher.conn.of('presence').slice(3), [{ type: 'presence', room: 'hall', count: 3 }], 'back at the threshold: the last count');
  gateway.receive(users[1]!.session, frame({ type: 'leave', room: 'hall' }));
  await settle();
  assert.deepEqual(watcher.conn.of('presence').slice(4), [{ type: 'presence', room: 'hall', user: 'cy', state: 'leave' }], 'then per user again');
});

test('the core alone: members pages a room\'s members in name order, for members only', async (t) => {
  const { gateway, connect, stop } = coreOnMemory({ LARGE_ROOM: '2' });
  t.after(stop);
  const names = ['eve', 'bob', 'amy', 'dan', 'cat'];
  const all = names.map((user) => connect(user));
  for (const u of all) gateway.receive(u.session, frame({ type: 'join', room: 'hall' }));
  await settle();
  const asker = all[0]!;
  const outsider = connect('zed');
  gateway.receive(asker.session, frame({ type: 'members', room: 'hall', limit: 2, ref: 'p1' }));
  await settle();
  assert.deepEqual(asker.conn.of('members'), [{ type: 'members', room: 'hall', members: ['amy', 'bob'], next: 'bob', ref: 'p1' }]);
  gateway.receive(asker.session, frame({ type: 'members', room: 'hall', after: 'bob', limit: 2, ref: 'p2' }));
  gateway.receive(asker.session, frame({ type: 'members', room: 'hall', after: 'dan', limit: 2, ref: 'p3' }));
  gateway.receive(asker.session, frame({ type: 'members', room: 'hall', ref: 'all' }));
  gateway.receive(outsider.session, frame({ type: 'members', room: 'hall', ref: 'no' }));
  await settle();
  assert.deepEqual(asker.conn.of('members').slice(1), [
    { type: 'members', room: 'hall', members: ['cat', 'dan'], next: 'dan', ref: 'p2' },
    { type: 'members', room: 'hall', members: ['eve'], ref: 'p3' },
    { type: 'members', room: 'hall', members: ['amy', 'bob', 'cat', 'dan', 'eve'], ref: 'all' },
  ]);
  assert.deepEqual(outsider.conn.of('error').map((f) => [f.code, f.ref]), [['not_joined', 'no']]);
});
