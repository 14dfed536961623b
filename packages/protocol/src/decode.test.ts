import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from './codes.js';
import { decodeClientFrame } from './decode.js';
import { compareIds } from './names.js';

const limits = { maxTextChars: 10 };
const decode = (value: unknown) => decodeClientFrame(typeof value === 'string' ? value : JSON.stringify(value), limits);
const code = (value: unknown) => {
  const result = decode(value);
  return result.ok ? 'ok' : result.error.code;
};

test('every client frame type decodes into its typed form, ignoring unknown fields', () => {
  assert.deepEqual(decode({ type: 'join', room: 'lobby', since: '1-0', ref: 'a', extra: true }), { ok: true, frame: { type: 'join', room: 'lobby', since: '1-0', ref: 'a' } });
  assert.deepEqual(decode({ type: 'leave', room: 'lobby' }), { ok: true, frame: { type: 'leave', room: 'lobby' } });
  assert.deepEqual(decode({ type: 'send', room: 'lobby', text: 'hi' }), { ok: true, frame: { type: 'send', room: 'lobby', text: 'hi' } });
  assert.deepEqual(decode({ type: 'direct', to: 'bob', text: 'hi' }), { ok: true, frame: { type: 'direct', to: 'bob', text: 'hi' } });
  assert.deepEqual(decode({ type: 'history', room: 'r', before: '5-1', limit: 500 }), { ok: true, frame: { type: 'history', room: 'r', before: '5-1', limit: 100 } });
  assert.deepEqual(decode({ type: 'ping', ref: 'p' }), { ok: true, frame: { type: 'ping', ref: 'p' } });
  assert.deepEqual(decode({ type: 'typing', room: 'r', user: 'ignored' }), { ok: true, frame: { type: 'typing', room: 'r' } });
  assert.deepEqual(decode({ type: 'typing', room: 'r', state: 'stop' }), { ok: true, frame: { type: 'typing', room: 'r', state: 'stop' } });
  assert.deepEqual(decode({ type: 'read', room: 'r', id: '5-1', ref: 'm' }), { ok: true, frame: { type: 'read', room: 'r', id: '5-1', ref: 'm' } });
});

test('typing takes only "stop" as a state, and read needs a message id', () => {
  for (const state of ['start', 'STOP', 1, null]) assert.equal(code({ type: 'typing', room: 'r', state }), ErrorCode.BadRequest, String(state));
  assert.equal(code({ type: 'typing', room: 'a/b' }), ErrorCode.BadRequest);
  for (const id of [undefined, 5, '', 'latest', '1', '18446744073709551616-0']) assert.equal(code({ type: 'read', room: 'r', id }), ErrorCode.BadRequest, String(id));
  assert.equal(code({ type: 'read', id: '1-0' }), ErrorCode.BadRequest, 'no room');
});

test('malformed frames are bad_request and keep the ref when it could be read', () => {
  assert.equal(code('not json'), ErrorCode.BadRequest);
  assert.equal(code('[1,2]'), ErrorCode.BadRequest);
  assert.equal(code({ room: 'x' }), ErrorCode.BadRequest);
  assert.equal(code({ type: 'send', room: 'x', text: 5 }), ErrorCode.BadRequest);
  assert.equal(code({ type: 'send', room: 'bad/room', text: 'x' }), ErrorCode.BadRequest);
  assert.equal(code({ type: 'join', room: 'a'.repeat(65) }), ErrorCode.BadRequest);
  assert.equal(code({ type: 'join', room: 'ok', since: 'yesterday' }), ErrorCode.BadRequest);
  assert.equal(code({ type: 'direct', to: 'a+b', text: 'x' }), ErrorCode.BadRequest);
  assert.equal(code({ type: 'history', room: 'r', limit: 0 }), ErrorCode.BadRequest);
  assert.equal(code({ type: 'ping', ref: 7 }), ErrorCode.BadRequest);
  const result = decode({ type: 'send', room: '#', text: 'x', ref: 'keep' });
  assert.ok(!result.ok && result.error.ref === 'keep');
});

test('an unknown type is unknown_type', () => {
  assert.equal(code({ type: 'subscribe' }), ErrorCode.UnknownType);
});

test('text of exactly MAX_TEXT characters passes and one more is too_large', () => {
  assert.equal(code({ type: 'send', room: 'r', text: 'x'.repeat(10) }), 'ok');
  assert.equal(code({ type: 'send', room: 'r', text: 'x'.repeat(11) }), ErrorCode.TooLarge);
  assert.equal(code({ type: 'direct', to: 'u', text: 'x'.repeat(11) }), ErrorCode.TooLarge);
});

test('message ids order by time, then sequence, numerically', () => {
  assert.ok(compareIds('9-0', '10-0') < 0);
  assert.ok(compareIds('10-2', '10-10') < 0);
  assert.equal(compareIds('7-7', '7-7'), 0);
});

test('mid is decoded on send and direct, and anything but ^[A-Za-z0-9_.:-]{1,64}$ is bad_request', () => {
  assert.deepEqual(decode({ type: 'send', room: 'r', text: 'hi', mid: 'a:1.b_c-d' }), { ok: true, frame: { type: 'send', room: 'r', text: 'hi', mid: 'a:1.b_c-d' } });
  assert.deepEqual(decode({ type: 'direct', to: 'bob', text: 'hi', mid: 'm'.repeat(64) }), { ok: true, frame: { type: 'direct', to: 'bob', text: 'hi', mid: 'm'.repeat(64) } });
  for (const mid of ['', 'm'.repeat(65), 'a b', 'a/b', 7, null]) {
    assert.equal(code({ type: 'send', room: 'r', text: 'hi', mid }), ErrorCode.BadRequest, JSON.stringify(mid));
    assert.equal(code({ type: 'direct', to: 'bob', text: 'hi', mid }), ErrorCode.BadRequest, JSON.stringify(mid));
  }
});

test('since and before are bad_request unless both parts of the id are below 2^64', () => {
  const max = (2n ** 64n - 1n).toString();
  const over = (2n ** 64n).toString();
  assert.equal(code({ type: 'join', room: 'r', since: `${max}-${max}` }), 'ok');
  assert.equal(code({ type: 'history', room: 'r', before: '0-0' }), 'ok');
  for (const id of [`${over}-0`, `0-${over}`, '99999999999999999999-0', '1-2-3', '-1-0', '1-', ' 1-0']) {
    assert.equal(code({ type: 'join', room: 'r', since: id }), ErrorCode.BadRequest, id);
    assert.equal(code({ type: 'history', room: 'r', before: id }), ErrorCode.BadRequest, id);
  }
});

test('edit, delete and react decode with their target, text limit, mid and on (true when absent)', () => {
  assert.deepEqual(decode({ type: 'edit', room: 'r', id: '5-1', text: 'fixed', mid: 'm1', ref: 'e' }), { ok: true, frame: { type: 'edit', room: 'r', id: '5-1', text: 'fixed', mid: 'm1', ref: 'e' } });
  assert.deepEqual(decode({ type: 'delete', room: 'r', id: '5-1' }), { ok: true, frame: { type: 'delete', room: 'r', id: '5-1' } });
  assert.deepEqual(decode({ type: 'react', room: 'r', id: '5-1', emoji: 'ok' }), { ok: true, frame: { type: 'react', room: 'r', id: '5-1', emoji: 'ok', on: true } });
  assert.deepEqual(decode({ type: 'react', room: 'r', id: '5-1', emoji: 'ok', on: false, mid: 'x' }), { ok: true, frame: { type: 'react', room: 'r', id: '5-1', emoji: 'ok', on: false, mid: 'x' } });
  assert.equal(code({ type: 'edit', room: 'r', id: '5-1', text: '0123456789' }), 'ok', 'MAX_TEXT exactly');
  assert.equal(code({ type: 'edit', room: 'r', id: '5-1', text: '0123456789x' }), ErrorCode.TooLarge);
  for (const type of ['edit', 'delete', 'react']) {
    for (const id of [undefined, 'latest', 7, '18446744073709551616-0']) assert.equal(code({ type, room: 'r', id, text: 't', emoji: 'ok' }), ErrorCode.BadRequest, `${type} ${String(id)}`);
    assert.equal(code({ type, room: 'r', id: '1-0', text: 't', emoji: 'ok', mid: 'has space' }), ErrorCode.BadRequest);
  }
  assert.equal(code({ type: 'edit', room: 'r', id: '1-0' }), ErrorCode.BadRequest, 'an edit needs text');
  assert.equal(code({ type: 'react', room: 'r', id: '1-0', emoji: 'ok', on: 'yes' }), ErrorCode.BadRequest);
});

test('a reaction is an emoji sequence of 1 to 32 code points, or a name of 1 to 32 of [a-z0-9_+-]', () => {
  const emoji = (e: unknown) => code({ type: 'react', room: 'r', id: '1-0', emoji: e });
  for (const ok of ['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '#️⃣', 'thumbsup', '+1', '-1', 'x'.repeat(32), '🎉'.repeat(32)]) assert.equal(emoji(ok), 'ok', ok);
  for (const bad of ['', 'x'.repeat(33), '🎉'.repeat(33), 'Thumbs', 'thumbs up', '#', 'a👍', '<b>', '\u200d', 5, null]) assert.equal(emoji(bad), ErrorCode.BadRequest, String(bad));
});
