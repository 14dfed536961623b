import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '@chat/protocol';
import { formatMessage, formatModeration } from './format.js';
import { RecentMessages } from './recent.js';

const message = (id: string, room = 'lobby', text = `text ${id}`): ChatMessage => ({ type: 'message', room, id, from: 'bob', text, ts: 0 });

test('messages are numbered in print order, once each, and found by number or by the end of their id', () => {
  const recent = new RecentMessages();
  assert.equal(recent.note(message('100-0')), 1);
  assert.equal(recent.note(message('100-1')), 2);
  assert.equal(recent.note(message('100-0')), 1, 'the same message keeps its number');
  assert.equal(recent.note(message('100-0', 'news')), 3, 'another room\'s message of the same id is another message');
  assert.equal(recent.find('lobby', '2')?.id, '100-1');
  assert.equal(recent.find('lobby', '#1')?.id, '100-0');
  assert.equal(recent.find('lobby', '3'), undefined, '#3 is in news');
  assert.equal(recent.find('lobby', '0-1')?.id, '100-1');
  assert.equal(recent.find('lobby', '-0')?.id, '100-0');
  assert.equal(recent.find('lobby', '9-9'), undefined);
});

test('past its limit the oldest message is forgotten, and a change to it is ignored', () => {
  const recent = new RecentMessages(2);
  recent.note(message('1-0'));
  recent.note(message('2-0'));
  recent.note(message('3-0'));
  assert.equal(recent.find('lobby', '1'), undefined);
  assert.equal(recent.find('lobby', '3')?.id, '3-0');
  assert.equal(recent.apply({ type: 'edit', room: 'lobby', id: '4-0', target: '1-0', from: 'bob', text: 'late', ts: 1 }, 'alice'), undefined);
});

test('changes apply once, and the line shows the latest state: edited, reactions with mine starred, deleted', () => {
  const recent = new RecentMessages();
  recent.note(message('1-0'));
  const edited = recent.apply({ type: 'edit', room: 'lobby', id: '2-0', target: '1-0', from: 'bob', text: 'better', ts: 5 }, 'alice');
  assert.equal(edited?.n, 1);
  assert.match(formatMessage(edited!.message, 1), /^#1 \S+ \[lobby\] bob: better \(edited\)$/);
  const reaction = { type: 'reaction' as const, room: 'lobby', id: '3-0', target: '1-0', user: 'alice', emoji: '👍', on: true, ts: 6 };
  assert.match(formatMessage(recent.apply(reaction, 'alice')!.message), /better \(edited\) {2}\[👍 1\*\]$/);
  assert.equal(recent.apply(reaction, 'alice'), undefined, 'the same change again is not counted twice');
  const deleted = recent.apply({ type: 'delete', room: 'lobby', id: '4-0', target: '1-0', from: 'bob', ts: 7 }, 'alice');
  assert.match(formatMessage(deleted!.message, 1), /bob: \(message deleted\)$/);
});

test('moderation lines name who did what, for how long', () => {
  const e = { type: 'moderation' as const, room: 'lobby', by: 'alice' };
  assert.equal(formatModeration({ ...e, action: 'mute', user: 'bob', seconds: 600 }), '* lobby: bob was muted by alice for 10 min');
  assert.equal(formatModeration({ ...e, action: 'ban', user: 'bob' }), '* lobby: bob was banned by alice');
  assert.equal(formatModeration({ ...e, action: 'kick', user: 'bob' }), '* lobby: bob was kicked by alice');
  assert.equal(formatModeration({ ...e, action: 'slowmode', seconds: 0 }), '* lobby: alice turned slow mode off');
  assert.equal(formatModeration({ ...e, action: 'slowmode', seconds: 7200 }), '* lobby: alice set slow mode: one message per 2 h');
});
