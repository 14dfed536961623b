import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeEvent, Tombstone } from '@chat/protocol';
import { asItem, asMessage, decodeServerFrame } from './server-frames.js';

const message = { type: 'message', room: 'lobby', id: '100-0', from: 'bob', text: 'hi', ts: 100 };

test('a room message whose id is not a stream id is ignored, in live traffic and in history', () => {
  assert.equal(decodeServerFrame(JSON.stringify(message))?.type, 'message');
  assert.equal(decodeServerFrame(JSON.stringify({ ...message, id: 'abc' })), undefined);
  const history = { type: 'history', room: 'lobby', messages: [message, { ...message, id: '12' }] };
  assert.equal(decodeServerFrame(JSON.stringify(history)), undefined);
  const joined = { type: 'joined', room: 'lobby', members: [], history: [{ ...message, id: 'x-1' }], gap: false };
  assert.equal(decodeServerFrame(JSON.stringify(joined)), undefined);
});

test('acks and directs keep ids that are not stream ids (a direct id is a UUID)', () => {
  const uuid = '6f1c2f0e-8a57-4c8e-9a3e-2b8d7c1e0f11';
  assert.equal(decodeServerFrame(JSON.stringify({ type: 'ack', id: uuid }))?.type, 'ack');
  const direct = { type: 'direct', id: uuid, from: 'bob', to: 'alice', text: 'psst', ts: 1 };
  assert.equal(decodeServerFrame(JSON.stringify(direct))?.type, 'direct');
});

test('edits, deletes and reactions are read live and in a joined list; a tombstone is a message without text, made whole by asMessage', () => {
  const edit = { type: 'edit', room: 'lobby', id: '101-0', target: '100-0', from: 'bob', text: 'hey', ts: 101 };
  const reaction = { type: 'reaction', room: 'lobby', id: '102-0', target: '100-0', user: 'cy', emoji: '👍', on: true, ts: 102 };
  const removal = { type: 'delete', room: 'lobby', id: '103-0', target: '100-0', from: 'bob', ts: 103 };
  for (const frame of [edit, reaction, removal]) assert.equal(decodeServerFrame(JSON.stringify(frame))?.type, frame.type);
  assert.equal(decodeServerFrame(JSON.stringify({ ...edit, target: 'latest' })), undefined, 'a target that is no message id');
  assert.equal(decodeServerFrame(JSON.stringify({ ...reaction, on: 'yes' })), undefined);
  const tombstone = { type: 'message', room: 'lobby', id: '100-0', from: 'bob', deleted: true, ts: 100, rev: '103-0' };
  const joined = { type: 'joined', room: 'lobby', members: [], history: [tombstone, edit, reaction, removal], gap: false };
  assert.equal(decodeServerFrame(JSON.stringify(joined))?.type, 'joined');
  assert.equal(decodeServerFrame(JSON.stringify({ ...joined, history: [{ ...tombstone, deleted: undefined }] })), undefined, 'no text and not deleted');
  assert.deepEqual(asMessage(tombstone as Tombstone), { ...tombstone, text: '' });
  assert.deepEqual(asItem(edit as ChangeEvent), edit);
});
