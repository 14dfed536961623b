import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryHistory } from '@chat/cluster';
import { createLogger, type BridgeMetrics } from '@chat/runtime';
import { LinkLostError } from './mqtt-link.js';
import { OutboundFeed } from './outbound-feed.js';
import type { CursorStore, Publisher } from './ports.js';

/** The feed in-process: a memory room log, a publisher that records (or loses) what it is given. */
function setup() {
  const history = new MemoryHistory(1000);
  const ids = Array.from({ length: 5 }, (_, i) => history.append('r', JSON.stringify({ from: 'a', text: `m${i}`, ts: i })).message.id);
  const published: { topic: string; id: string; retain: boolean }[] = [];
  const dropped: string[] = [];
  let lose = false;
  const link: Publisher = {
    connected: true,
    publish(topic, payload, options) {
      if (lose) return Promise.reject(new LinkLostError());
      published.push({ topic, id: (JSON.parse(payload) as { id: string }).id, retain: options?.retain ?? false });
      return Promise.resolve();
    },
  };
  const saved = new Map<string, string>();
  const cursors: CursorStore = {
    ensureOrigin: async () => '0-0',
    loadCursors: async () => ({ origin: '0-0', cursors: new Map(saved) }),
    saveCursors: async (_token, batch) => {
      for (const [room, id] of batch) saved.set(room, id);
      return true;
    },
  };
  const metrics: BridgeMetrics = { crossed() {}, dropped: (reason) => void dropped.push(reason), mqttConnected() {}, busConnected() {} };
  const feed = new OutboundFeed({
    history, cursors, link, leading: () => true, fenced() {}, metrics, log: createLogger('error'), maxInflight: 100,
  });
  return { history, ids, feed, published, dropped, saved, loseTheConnection: (on: boolean) => { lose = on; } };
}

test('nothing goes out before the sync; then each room resumes after what the broker retained', async () => {
  const { ids, feed, published } = setup();
  await feed.start('token-1');
  feed.message('r', ids[3]!, ids[4]!, '{}');
  await feed.catchUp(['r']);
  assert.equal(published.length, 0, 'no cursor is trusted before the retained ids are read');

  feed.sync(new Map([['r', ids[1]!]]));
  await feed.catchUp(['r']);
  assert.deepEqual(published.map((p) => p.id), ids.slice(2));
  assert.ok(published.every((p) => p.retain && p.topic === 'chat/rooms/r/messages'), 'room messages go out retained');
});

test('the saved cursor wins over an older retained id (a broker that lost its retained messages)', async () => {
  const { ids, feed, published, saved } = setup();
  saved.set('r', ids[3]!);
  await feed.start('token-1');
  feed.sync(new Map([['r', ids[0]!]]));
  await feed.catchUp(['r']);
  assert.deepEqual(published.map((p) => p.id), [ids[4]]);
});

test('publishes lost with their connection are not resent: the next sync decides, and nothing is counted dropped', async () => {
  const { ids, feed, published, dropped, loseTheConnection } = setup();
  await feed.start('token-1');
  loseTheConnection(true);
  feed.sync(new Map());
  await feed.catchUp(['r']);
  await new Promise((r) => setImmediate(r));
  assert.equal(published.length, 0);
  assert.deepEqual(dropped, [], 'a message lost with its connection is not a drop');

  // The broker had accepted the first three before the connection died; its retained copy says so.
  feed.unsync();
  loseTheConnection(false);
  feed.sync(new Map([['r', ids[2]!]]));
  await feed.catchUp(['r']);
  assert.deepEqual(published.map((p) => p.id), ids.slice(3), 'each message once across the reconnection');
});

test('what the broker acknowledged is saved, fenced by the term', async () => {
  const { ids, feed, saved } = setup();
  await feed.start('token-1');
  feed.sync(new Map());
  await feed.catchUp(['r']);
  await feed.stop(1_000);
  assert.equal(saved.get('r'), ids[4]);
});
