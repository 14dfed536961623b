// docs/asyncapi.yaml and docs/protocol.md against the code, both ways: every frame type, error code,
// close code and MQTT topic the code knows is documented, and nothing documented is unknown to it;
// the documented examples decode through the real decoder, and what the real encoder and a real
// gateway write validates against the documented schemas.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CLIENT_FRAME_TYPES, CloseCode, ErrorCode, SERVER_FRAME_TYPES, decodeClientFrame, encodeChangeBody, encodeFrame, encodeMessageBody,
  historyJson, joinedJson, latestMessageJson, messageJson, moderationJson, presenceCountJson, presenceJson, readJson, receiptJson, typingJson,
} from '@chat/protocol';
import { connectClient, startGateway } from '@chat/testkit';
import * as topics from '../../services/mqtt-bridge/dist/topics.js';
import { anchors, loadAsyncApi, mqttChannels, payloadValidator, protocolMd, socketFrames } from './lib/documents.mjs';

const sorted = (values) => [...values].map(String).sort();
const errorCodes = Object.values(ErrorCode);
const closeCodes = Object.values(CloseCode).filter((v) => typeof v === 'number');

const { json, problems } = await loadAsyncApi();
const md = protocolMd();
const frames = socketFrames(json);
const validate = payloadValidator();

/** Validates a server frame against the documented schema of its type. */
function serverFrameProblems(frame) {
  const documented = frames.server.get(frame.type);
  return documented === undefined ? [`type ${frame.type} is not documented`] : validate(documented.payload, frame);
}

test('docs/asyncapi.yaml parses with the official AsyncAPI parser with no error and no warning', () => {
  assert.deepEqual(problems, []);
  assert.equal(json.asyncapi, '3.0.0');
});

test('the client frames documented are exactly the ones the decoder accepts, in the AsyncAPI document and in protocol.md', () => {
  assert.deepEqual(sorted(frames.client.keys()), sorted(CLIENT_FRAME_TYPES));
  assert.deepEqual(sorted(anchors(md, 'client-frame-')), sorted(CLIENT_FRAME_TYPES));
  // The list is the decoder's: a type outside it (a server frame's, say) is unknown_type.
  for (const type of [...SERVER_FRAME_TYPES, 'subscribe', 'publish'].filter((t) => !CLIENT_FRAME_TYPES.includes(t))) {
    const decoded = decodeClientFrame(JSON.stringify({ type, room: 'r', to: 'u', text: 't' }), { maxTextChars: 100 });
    assert.equal(decoded.ok ? 'ok' : decoded.error.code, ErrorCode.UnknownType, type);
  }
});

test('the server frames documented are exactly the ones the server writes, in the AsyncAPI document and in protocol.md', () => {
  assert.deepEqual(sorted(frames.server.keys()), sorted(SERVER_FRAME_TYPES));
  assert.deepEqual(sorted(anchors(md, 'server-frame-')), sorted(SERVER_FRAME_TYPES));
});

test('every error code and close code is documented, and no other', () => {
  assert.deepEqual(sorted(frames.server.get('error').payload.properties.code.enum), sorted(errorCodes));
  assert.deepEqual(sorted(anchors(md, 'error-')), sorted(errorCodes));
  const documented = json.channels.socket['x-close-codes'];
  assert.deepEqual(sorted(Object.keys(documented)), sorted(closeCodes));
  for (const [code, { name }] of Object.entries(documented)) assert.equal(CloseCode[name], Number(code), `close code ${code} is CloseCode.${name}`);
  assert.deepEqual(sorted(anchors(md, 'close-')), sorted(closeCodes));
});

test('every client example decodes through the real decoder into the frame it shows', () => {
  for (const { type, payload, examples } of frames.client.values()) {
    assert.ok(examples.length > 0, `${type} has an example`);
    for (const example of examples) {
      assert.deepEqual(validate(payload, example), [], `${type} example fits its schema`);
      assert.deepEqual(decodeClientFrame(JSON.stringify(example), { maxTextChars: 4000 }), { ok: true, frame: example });
    }
  }
  // The schemas are not vacuous: what the decoder refuses, they refuse too.
  assert.notDeepEqual(validate(frames.client.get('join').payload, { type: 'join', room: 'a/b' }), []);
  assert.notDeepEqual(validate(frames.client.get('send').payload, { type: 'send', room: 'r', text: 't', mid: 'has space' }), []);
});

test('every server example fits its own schema', () => {
  for (const { type, payload, examples } of frames.server.values()) {
    assert.ok(examples.length > 0, `${type} has an example`);
    for (const example of examples) assert.deepEqual(validate(payload, example), [], `${type} example ${JSON.stringify(example)}`);
  }
  assert.notDeepEqual(serverFrameProblems({ type: 'ack', id: '1-0', extra: 1 }), [], 'a field the server does not write is refused');
  assert.notDeepEqual(serverFrameProblems({ type: 'presence', room: 'r', user: 'u', state: 'join', count: 3 }), [], 'presence is per user or a count, not both');
  assert.notDeepEqual(serverFrameProblems({ type: 'presence', room: 'r', user: 'u' }), [], 'a per-user presence has its state');
});

test('what the protocol package\'s encoder writes fits the documented schemas', () => {
  const message = messageJson('lobby', '1700000000000-0', encodeMessageBody({ from: 'alice', text: 'hi', ts: 1700000000000, via: 'api' }));
  const target = '1700000000000-0';
  const changes = [
    { kind: 'edit', target, text: 'hello' }, { kind: 'delete', target }, { kind: 'reaction', target, emoji: '👍🏽', on: false },
  ].map((change, i) => messageJson('lobby', `170000000000${i + 1}-0`, encodeChangeBody(change, 'bob', 1700000000001 + i)));
  const latest = [
    latestMessageJson(message, { rev: '1700000000003-0', text: 'hello', edited: 1700000000001, reactions: { ok: ['alice', 'bob'], '🎉': ['bob'] } }, 'alice'),
    latestMessageJson(message, { rev: '1700000000002-0', deleted: true }, ''),
  ];
  const written = [
    message,
    ...changes,
    ...latest,
    joinedJson('lobby', ['alice'], [...latest, ...changes], false, 'j3'),
    historyJson('lobby', latest, 'h2'),
    joinedJson('lobby', ['alice', 'bob'], [message], false, 'j1'),
    joinedJson('lobby', [], [], true),
    joinedJson('lobby', ['alice'], [], false, 'j2', { id: null, unread: 4 }),
    joinedJson('lobby', ['alice'], [message], false, undefined, { id: '1700000000000-0', unread: 0 }),
    typingJson('lobby', 'bob', 5000),
    typingJson('lobby', 'bob', 0),
    readJson('lobby', { id: '1700000000000-0', unread: 2 }, 'r1'),
    readJson('lobby', { id: null, unread: 2 }),
    receiptJson('lobby', 'bob', '1700000000000-0'),
    historyJson('lobby', [message, message], 'h1'),
    presenceJson('lobby', 'bob', 'leave'),
    encodeFrame({ type: 'welcome', user: 'alice', conn: 'n1.1', node: 'n1', heartbeat: 25000 }),
    encodeFrame({ type: 'ack', id: '1-0', duplicate: true, ref: 's' }),
    encodeFrame({ type: 'ack', id: '1-0', unchanged: true, ref: 'r' }),
    encodeFrame({ type: 'left', room: 'lobby' }),
    encodeFrame({ type: 'pong', ts: 5 }),
    encodeFrame({ type: 'error', code: ErrorCode.TooManyRooms, message: 'leave one first', ref: 'x' }),
    encodeFrame({ type: 'direct', id: 'd1', from: 'alice', to: 'bob', text: 'psst', ts: 6, via: 'mqtt' }),
    // ---- moderation and large rooms ----
    joinedJson('stadium', ['aaron'], [], false, 'j3', { id: null, unread: 0 }, 1001),
    presenceCountJson('stadium', 1001),
    moderationJson({ room: 'lobby', action: 'ban', user: 'bob', by: 'mia', seconds: 60 }),
    moderationJson({ room: 'lobby', action: 'slowmode', by: 'api', seconds: 0 }),
    encodeFrame({ type: 'moderated', room: 'lobby', action: 'kick', user: 'bob', ref: 'k' }),
    encodeFrame({ type: 'members', room: 'lobby', members: ['a', 'b'], next: 'b', ref: 'n' }),
    encodeFrame({ type: 'left', room: 'lobby', reason: 'banned' }),
    encodeFrame({ type: 'error', code: ErrorCode.SlowMode, message: 'wait', retryAfterMs: 1500, ref: 's' }),
  ];
  for (const text of written) assert.deepEqual(serverFrameProblems(JSON.parse(text)), [], text);
});

describe('a real gateway', () => {
  let gw;
  before(async () => {
    gw = await startGateway({ env: { MAX_ROOMS: '1', READ_RECEIPTS: 'true', LARGE_ROOM: '2', PRESENCE_COUNT_INTERVAL_MS: '200' } });
  });
  after(() => gw.stop());

  test('writes only frames that fit the documented schemas, and every documented kind of frame', async () => {
    const connect = async (user) => {
      const client = await connectClient(gw.wsUrl, { user, protocols: ['chat.v1'] });
      const seen = [client.welcome];
      client.ws.on('message', (data) => seen.push(JSON.parse(String(data))));
      return { client, seen };
    };
    const ann = await connect('ann');
    const bob = await connect('bob');
    await ann.client.request({ type: 'join', room: 'docs' });
    await bob.client.request({ type: 'join', room: 'docs' });
    await ann.client.next((f) => f.type === 'presence');
    const ack = await ann.client.request({ type: 'send', room: 'docs', text: 'one', mid: 'm1' });
    await ann.client.request({ type: 'send', room: 'docs', text: 'one', mid: 'm1' });
    await bob.client.next((f) => f.type === 'message');
    await ann.client.request({ type: 'direct', to: 'bob', text: 'psst', mid: 'd1' });
    await bob.client.next((f) => f.type === 'direct');
    const edit = await ann.client.request({ type: 'edit', room: 'docs', id: ack.id, text: 'one, edited', mid: 'e1' });
    await bob.client.next((f) => f.type === 'edit' && f.id === edit.id);
    await bob.client.request({ type: 'react', room: 'docs', id: ack.id, emoji: '👍' });
    await ann.client.next((f) => f.type === 'reaction');
    await bob.client.request({ type: 'history', room: 'docs', limit: 5 });
    const second = await ann.client.request({ type: 'send', room: 'docs', text: 'two' });
    await ann.client.request({ type: 'delete', room: 'docs', id: second.id });
    await bob.client.next((f) => f.type === 'delete');
    await bob.client.request({ type: 'history', room: 'docs', before: ack.id, limit: 5 });
    bob.client.send({ type: 'typing', room: 'docs' });
    await ann.client.next((f) => f.type === 'typing');
    await bob.client.request({ type: 'read', room: 'docs', id: ack.id });
    await ann.client.next((f) => f.type === 'receipt');
    await bob.client.request({ type: 'join', room: 'docs', since: '0-1' });
    await bob.client.request({ type: 'ping' });
    for (const bad of [
      { type: 'nope' }, { type: 'send', room: 'elsewhere', text: 'x' }, { type: 'join', room: 'second' }, { type: 'direct', to: 'nobody', text: 'x' },
      { type: 'edit', room: 'docs', id: second.id, text: 'x' }, { type: 'react', room: 'docs', id: ack.id, emoji: 'not an emoji' },
    ]) {
      assert.equal((await ann.client.request(bad)).type, 'error');
    }
    await bob.client.request({ type: 'leave', room: 'docs' });
    await ann.client.next((f) => f.type === 'presence' && f.state === 'leave');

    // Moderation and large rooms: ann is granted moderation of the room by the admin API.
    assert.equal((await fetch(`${gw.url}/api/rooms/docs/moderators/ann`, { method: 'PUT' })).status, 200);
    await bob.client.request({ type: 'join', room: 'docs' });
    const cy = await connect('cy');
    await cy.client.request({ type: 'join', room: 'docs' });
    await ann.client.next((f) => f.type === 'presence' && f.count === 3);
    await ann.client.request({ type: 'members', room: 'docs', limit: 2 });
    await ann.client.request({ type: 'slowmode', room: 'docs', seconds: 60 });
    await bob.client.request({ type: 'send', room: 'docs', text: 'first' });
    assert.equal((await bob.client.request({ type: 'send', room: 'docs', text: 'second' })).code, 'slow_mode');
    await ann.client.request({ type: 'mute', room: 'docs', user: 'bob', seconds: 60 });
    assert.equal((await bob.client.request({ type: 'send', room: 'docs', text: 'third' })).code, 'muted');
    await ann.client.request({ type: 'kick', room: 'docs', user: 'cy' });
    await cy.client.next((f) => f.type === 'left');
    await ann.client.request({ type: 'ban', room: 'docs', user: 'cy', reason: 'docs' });
    assert.equal((await cy.client.request({ type: 'join', room: 'docs' })).code, 'banned');
    await Promise.all([ann.client.close(), bob.client.close(), cy.client.close()]);

    const all = [...ann.seen, ...bob.seen, ...cy.seen];
    for (const frame of all) assert.deepEqual(serverFrameProblems(frame), [], JSON.stringify(frame));
    assert.deepEqual(sorted(new Set(all.map((f) => f.type))), sorted(SERVER_FRAME_TYPES));
  });
});

describe('the MQTT topics documented are the bridge\'s topics', () => {
  const channels = mqttChannels(json);
  const asFilter = (address) => address.replace(/\{\w+\}/g, '+');
  const sample = { room: 'room-1', user: 'user-1', device: 'device-1' };
  const filled = (address) => address.replace(/\{(\w+)\}/g, (_, name) => sample[name]);

  test('the same five topics, each with the parameters its levels name', () => {
    const codeFilters = [
      ...topics.POST_FILTERS.map((f) => f.topic),
      ...topics.STATUS_FILTERS.map((f) => f.topic),
      topics.ROOM_MESSAGES_FILTER,
      topics.userDirectTopic(sample.user).replace(sample.user, '+'),
    ];
    assert.deepEqual(sorted(channels.map((c) => asFilter(c.address))), sorted(codeFilters));
    for (const { address, parameters } of channels) assert.deepEqual(parameters, [...address.matchAll(/\{(\w+)\}/g)].map((m) => m[1]), address);
    for (const { address } of channels) assert.ok(md.includes(`\`${address}\``), `protocol.md names ${address}`);
  });

  test('what the bridge publishes goes where the document says, and what it reads parses into the documented parameters', () => {
    const published = channels.filter((c) => c.action === 'send').map((c) => c.address);
    assert.deepEqual(sorted(published), sorted(['chat/rooms/{room}/messages', 'chat/users/{user}/direct']));
    assert.equal(topics.roomMessagesTopic(sample.room), filled('chat/rooms/{room}/messages'));
    assert.equal(topics.userDirectTopic(sample.user), filled('chat/users/{user}/direct'));
    const parsed = Object.fromEntries(channels.filter((c) => c.action === 'receive').map((c) => [c.address, topics.parseInboundTopic(filled(c.address))]));
    assert.deepEqual(parsed, {
      'chat/rooms/{room}/send/{device}': { kind: 'post', room: sample.room, device: sample.device },
      'chat/users/{user}/direct/send/{device}': { kind: 'direct', to: sample.user, device: sample.device },
      'chat/devices/{device}/status': { kind: 'status', device: sample.device },
    });
  });
});
