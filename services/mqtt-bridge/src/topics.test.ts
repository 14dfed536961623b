import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeDeviceText, decodeStatus } from './device-payload.js';
import { DropReason, POST_FILTERS, STATUS_FILTERS, isPublishableTopic, parseInboundTopic, roomMessagesTopic, roomOfMessagesTopic, syncMarkerTopic, userDirectTopic } from './topics.js';

test('inbound topics decode into posts, directs and statuses', () => {
  assert.deepEqual(parseInboundTopic('chat/rooms/lab/send/sensor-1'), { kind: 'post', room: 'lab', device: 'sensor-1' });
  assert.deepEqual(parseInboundTopic('chat/users/alice/direct/send/sensor-1'), { kind: 'direct', to: 'alice', device: 'sensor-1' });
  assert.deepEqual(parseInboundTopic('chat/devices/sensor-1/status'), { kind: 'status', device: 'sensor-1' });
});

test('names outside the contract are invalid, other shapes unknown', () => {
  for (const topic of ['chat/rooms/a b/send/d', 'chat/rooms//send/d', 'chat/rooms/é/send/d', `chat/rooms/${'x'.repeat(65)}/send/d`, 'chat/users/+/direct/send/d', 'chat/devices/#/status']) {
    assert.deepEqual(parseInboundTopic(topic), { kind: 'invalid', reason: DropReason.InvalidName }, topic);
  }
  for (const topic of ['chat/rooms/a/messages', 'chat/rooms/a/send', 'other/rooms/a/send/d', 'chat/users/a/direct']) {
    assert.deepEqual(parseInboundTopic(topic), { kind: 'invalid', reason: DropReason.UnknownTopic }, topic);
  }
});

test('the bridge never subscribes to what it publishes (loop-freedom by topic design)', () => {
  const filters = [...POST_FILTERS, ...STATUS_FILTERS].map((f) => f.topic);
  assert.ok(filters.every((f) => !f.endsWith('/messages') && !f.endsWith('/direct')));
  assert.ok(filters.every((f) => !f.startsWith('$share/')), 'one session takes every post, in order');
});

test('retained room messages are recognised by topic, and the sync marker is bridge-only', () => {
  assert.equal(roomOfMessagesTopic('chat/rooms/lab/messages'), 'lab');
  for (const topic of ['chat/rooms/lab/send/x', 'chat/rooms/a b/messages', 'chat/rooms/lab/messages/x', 'chat/bridge/x/sync']) {
    assert.equal(roomOfMessagesTopic(topic), undefined, topic);
  }
  assert.equal(syncMarkerTopic('chat-bridge-n1'), 'chat/bridge/chat-bridge-n1/sync');
  assert.equal(syncMarkerTopic('a/b'), undefined);
});

test('outbound topics are built only from valid names and never carry a wildcard', () => {
  assert.equal(roomMessagesTopic('lab'), 'chat/rooms/lab/messages');
  assert.equal(userDirectTopic('alice'), 'chat/users/alice/direct');
  assert.equal(roomMessagesTopic('a+b'), undefined);
  assert.equal(userDirectTopic('a/b'), undefined);
  assert.equal(isPublishableTopic('chat/rooms/#/messages'), false);
  assert.equal(isPublishableTopic('chat/rooms/+/messages'), false);
  assert.equal(isPublishableTopic('$SYS/x'), false);
});

test('device payloads: text, JSON {"text"}, and what is dropped', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.deepEqual(decodeDeviceText(enc('21.5 C'), 100), { ok: true, text: '21.5 C' });
  assert.deepEqual(decodeDeviceText(enc('{"text":"hi","extra":1}'), 100), { ok: true, text: 'hi' });
  assert.deepEqual(decodeDeviceText(enc('[1,2]'), 100), { ok: true, text: '[1,2]' });
  assert.deepEqual(decodeDeviceText(enc('{not json'), 100), { ok: true, text: '{not json' });
  assert.equal(decodeDeviceText(enc('{"text":5}'), 100).ok, false);
  assert.equal(decodeDeviceText(enc('  '), 100).ok, false);
  assert.equal(decodeDeviceText(new Uint8Array([0xc3, 0x28]), 100).ok, false);
  assert.deepEqual(decodeDeviceText(enc('abcd'), 3), { ok: false, reason: DropReason.TooLarge, detail: 'text is longer than 3 characters' });
  assert.equal(decodeStatus(enc(' online\n')), 'online');
  assert.equal(decodeStatus(new Uint8Array()), 'offline');
  assert.equal(decodeStatus(enc('ON')), undefined);
});
