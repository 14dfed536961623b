import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMessageBody, historyJson, joinedJson, messageJson, presenceJson, readJson, receiptJson, typingJson } from './encode.js';

test('spliced frames are the JSON of the typed frame, whatever the names and texts hold', () => {
  const body = encodeMessageBody({ from: 'ann', text: 'quote " backslash \\ line\n and \u2028', ts: 5, via: 'api' });
  const message = messageJson('room.1', '1-0', body);
  assert.deepEqual(JSON.parse(message), { type: 'message', room: 'room.1', id: '1-0', from: 'ann', text: 'quote " backslash \\ line\n and \u2028', ts: 5, via: 'api' });
  assert.deepEqual(JSON.parse(joinedJson('r', ['a', 'b'], [message, message], true, 'x"y')), {
    type: 'joined', room: 'r', members: ['a', 'b'], history: [JSON.parse(message), JSON.parse(message)], gap: true, ref: 'x"y',
  });
  assert.deepEqual(JSON.parse(joinedJson('r', [], [], false)), { type: 'joined', room: 'r', members: [], history: [], gap: false });
  assert.deepEqual(JSON.parse(historyJson('r', [message])), { type: 'history', room: 'r', messages: [JSON.parse(message)] });
  assert.deepEqual(JSON.parse(presenceJson('r', 'u', 'leave')), { type: 'presence', room: 'r', user: 'u', state: 'leave' });
  assert.equal(encodeMessageBody({ from: 'a', text: 't', ts: 1 }), '{"from":"a","text":"t","ts":1}', 'no via when there is none');
});

test('a joined reply carries the read position before its ref, and the chat frames have their documented fields', () => {
  assert.deepEqual(JSON.parse(joinedJson('r', ['a'], [], false, 'j', { id: '5-0', unread: 3 })), {
    type: 'joined', room: 'r', members: ['a'], history: [], gap: false, read: '5-0', unread: 3, ref: 'j',
  });
  assert.deepEqual(JSON.parse(joinedJson('r', [], [], false, undefined, { id: null, unread: 0 })), {
    type: 'joined', room: 'r', members: [], history: [], gap: false, read: null, unread: 0,
  });
  assert.deepEqual(JSON.parse(typingJson('r', 'u', 5000)), { type: 'typing', room: 'r', user: 'u', ttl: 5000 });
  assert.deepEqual(JSON.parse(readJson('r', { id: '1-0', unread: 0 }, 'x')), { type: 'read', room: 'r', id: '1-0', unread: 0, ref: 'x' });
  assert.deepEqual(JSON.parse(readJson('r', { id: null, unread: 2 })), { type: 'read', room: 'r', id: null, unread: 2 });
  assert.deepEqual(JSON.parse(receiptJson('r', 'u', '1-0')), { type: 'receipt', room: 'r', user: 'u', id: '1-0' });
});
