import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerFrame } from './server-frames.js';

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
