import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage, JoinedFrame } from '@chat/protocol';
import { RoomSet } from './rooms.js';

function msg(id: string, room = 'lobby'): ChatMessage {
  return { type: 'message', room, id, from: 'bob', text: `text ${id}`, ts: Number(id.split('-')[0]) };
}

function joined(history: ChatMessage[], extra: Partial<JoinedFrame> = {}): JoinedFrame {
  return { type: 'joined', room: 'lobby', members: ['alice', 'bob'], history, gap: false, ...extra };
}

function joinedRoom(): RoomSet {
  const rooms = new RoomSet();
  rooms.add('lobby');
  rooms.joinFrame('lobby', 'j1');
  rooms.onJoined(joined([msg('100-0'), msg('100-1')]));
  return rooms;
}

test('a first join asks for no since and hands over the history', () => {
  const rooms = new RoomSet();
  rooms.add('lobby');
  assert.deepEqual(rooms.joinFrame('lobby', 'j1'), { type: 'join', room: 'lobby', ref: 'j1' });
  const result = rooms.onJoined(joined([msg('100-0'), msg('100-1')]));
  assert.deepEqual(result?.history.map((m) => m.id), ['100-0', '100-1']);
  assert.equal(result?.resumed, false);
  assert.deepEqual(result?.members, ['alice', 'bob']);
});

test('a room added with a kept id resumes from it: the join carries since, and nothing up to it is handed over', () => {
  const rooms = new RoomSet();
  rooms.add('lobby', '100-1');
  assert.deepEqual(rooms.joinFrame('lobby', 'j1'), { type: 'join', room: 'lobby', since: '100-1', ref: 'j1' });
  const result = rooms.onJoined(joined([msg('100-1'), msg('100-2')]));
  assert.deepEqual(result?.history.map((m) => m.id), ['100-2']);
  assert.equal(result?.resumed, true);
  assert.equal(rooms.accept(msg('100-2')), false);
  assert.equal(rooms.accept(msg('100-3')), true);
});

test('a message id already delivered, or older, is dropped', () => {
  const rooms = joinedRoom();
  assert.equal(rooms.accept(msg('100-1')), false);
  assert.equal(rooms.accept(msg('99-5')), false);
  assert.equal(rooms.accept(msg('100-2')), true);
  assert.equal(rooms.accept(msg('100-2')), false);
  assert.equal(rooms.accept(msg('101-0')), true);
  assert.equal(rooms.lastId('lobby'), '101-0');
});

test('ids compare as numbers, not as strings', () => {
  const rooms = joinedRoom();
  assert.equal(rooms.accept(msg('100-10')), true);
  assert.equal(rooms.accept(msg('100-9')), false);
  assert.equal(rooms.accept(msg('1000-0')), true);
});

test('a rejoin asks since the last id and delivers only what was missed', () => {
  const rooms = joinedRoom();
  rooms.accept(msg('100-2'));
  rooms.disconnected();
  assert.deepEqual(rooms.joinFrame('lobby', 'j2'), { type: 'join', room: 'lobby', since: '100-2', ref: 'j2' });
  const result = rooms.onJoined(joined([msg('100-2'), msg('100-3'), msg('100-4')], { gap: true }));
  assert.deepEqual(result?.history.map((m) => m.id), ['100-3', '100-4']);
  assert.equal(result?.resumed, true);
  assert.equal(result?.gap, true);
});

test('live messages that beat the joined reply are merged with the replay, each once and in order', () => {
  const rooms = joinedRoom();
  rooms.disconnected();
  rooms.joinFrame('lobby', 'j2');
  assert.equal(rooms.accept(msg('100-4')), false, 'held until joined');
  assert.equal(rooms.accept(msg('100-5')), false, 'held until joined');
  const result = rooms.onJoined(joined([msg('100-2'), msg('100-3'), msg('100-4')]));
  assert.deepEqual(result?.history.map((m) => m.id), ['100-2', '100-3', '100-4', '100-5']);
  assert.equal(rooms.accept(msg('100-5')), false);
});

test('history entries without a type field become message events', () => {
  const rooms = new RoomSet();
  rooms.add('lobby');
  const bare = { room: 'lobby', id: '5-0', from: 'x', text: 't', ts: 5 } as ChatMessage;
  assert.equal(rooms.onJoined(joined([bare]))?.history[0]?.type, 'message');
});

test('presence keeps the member list', () => {
  const rooms = joinedRoom();
  rooms.onPresence({ type: 'presence', room: 'lobby', user: 'carol', state: 'join' });
  rooms.onPresence({ type: 'presence', room: 'lobby', user: 'bob', state: 'leave' });
  assert.deepEqual(rooms.members('lobby'), ['alice', 'carol']);
  assert.equal(rooms.onPresence({ type: 'presence', room: 'elsewhere', user: 'x', state: 'join' }), false);
});

test('leaving forgets the room: its messages stop and its waiters are rejected', async () => {
  const rooms = new RoomSet();
  rooms.add('lobby');
  const waiting = rooms.waitJoined('lobby', 1000);
  rooms.remove('lobby', new Error('left'));
  await assert.rejects(waiting, /left/);
  assert.equal(rooms.accept(msg('1-0')), false);
  assert.equal(rooms.onJoined(joined([])), undefined);
});

test('an answered join is taken by its ref, once', () => {
  const rooms = new RoomSet();
  rooms.add('lobby');
  rooms.joinFrame('lobby', 'j7');
  assert.equal(rooms.isJoining('lobby'), true);
  assert.equal(rooms.takeJoin('j6'), undefined);
  assert.equal(rooms.takeJoin('j7'), 'lobby');
  assert.equal(rooms.takeJoin('j7'), undefined);
  assert.equal(rooms.isJoining('lobby'), false);
  assert.equal(rooms.has('lobby'), true, 'the caller decides whether to retry or drop');
});

test('a join waiter times out but the room stays wanted', async () => {
  const rooms = new RoomSet();
  rooms.add('lobby');
  await assert.rejects(rooms.waitJoined('lobby', 20), { code: 'timeout' });
  assert.equal(rooms.has('lobby'), true);
});
