import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeEvent, ChatMessage } from '@chat/protocol';
import { applyChange } from './message-list.js';

const message = (id: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({ type: 'message', room: 'r', id, from: 'ann', text: `text ${id}`, ts: 1, ...extra });
const edit = (id: string, target: string, text: string): ChangeEvent => ({ type: 'edit', room: 'r', id, target, from: 'ann', text, ts: 9 });
const react = (id: string, target: string, user: string, emoji: string, on: boolean): ChangeEvent => ({ type: 'reaction', room: 'r', id, target, user, emoji, on, ts: 9 });

test('applyChange edits, counts reactions with `me` for this user, and leaves a tombstone on delete', () => {
  let list = [message('1-0'), message('2-0')];
  list = applyChange(list, edit('3-0', '1-0', 'better'), 'bob');
  assert.deepEqual(list[0], message('1-0', { text: 'better', edited: 9, rev: '3-0' }));
  list = applyChange(list, react('4-0', '1-0', 'bob', 'ok', true), 'bob');
  list = applyChange(list, react('5-0', '1-0', 'cy', 'ok', true), 'bob');
  list = applyChange(list, react('6-0', '1-0', 'cy', '🎉', true), 'bob');
  assert.deepEqual(list[0]!.reactions, { ok: { count: 2, me: true }, '🎉': { count: 1, me: false } });
  list = applyChange(list, react('7-0', '1-0', 'bob', 'ok', false), 'bob');
  list = applyChange(list, react('8-0', '1-0', 'cy', '🎉', false), 'bob');
  assert.deepEqual(list[0]!.reactions, { ok: { count: 1, me: false } });
  list = applyChange(list, { type: 'delete', room: 'r', id: '9-0', target: '1-0', from: 'ann', ts: 10 }, 'bob');
  assert.deepEqual(list[0], { type: 'message', room: 'r', id: '1-0', from: 'ann', text: '', deleted: true, ts: 1, rev: '9-0' });
  assert.deepEqual(list[1], message('2-0'), 'the others are untouched');
});

test('applyChange skips what a message already shows, a deleted message, and a message not in the list', () => {
  const shown = message('1-0', { reactions: { ok: { count: 1, me: true } }, rev: '5-0' });
  const list = [shown];
  assert.equal(applyChange(list, react('5-0', '1-0', 'bob', 'ok', true), 'bob'), list, 'at the rev: already in the state');
  assert.equal(applyChange(list, react('4-0', '1-0', 'bob', 'ok', true), 'bob'), list, 'before the rev');
  assert.equal(applyChange(list, edit('6-0', '9-0', 'x'), 'bob'), list, 'unknown target');
  const gone: ChatMessage[] = [{ type: 'message', room: 'r', id: '1-0', from: 'ann', text: '', deleted: true, ts: 1 }];
  assert.equal(applyChange(gone, edit('6-0', '1-0', 'x'), 'bob'), gone);
  assert.deepEqual(applyChange(list, react('6-0', '1-0', 'cy', 'ok', true), 'bob')[0]!.reactions, { ok: { count: 2, me: true } }, 'after the rev: applied');
});
