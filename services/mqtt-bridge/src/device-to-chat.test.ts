import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '@chat/cluster';
import type { NodeService } from '@chat/testkit';
import { connectDevice } from './testing/device.js';
import { bridgeProcess, chatSide, connected, metric, startPeers, uniquePrefix, type Peers } from './testing/harness.js';

describe('device to chat through one bridge', { timeout: 60_000 }, () => {
  let peers: Peers;
  let bridge: NodeService;
  let chat: Cluster;

  before(async () => {
    peers = await startPeers();
    const prefix = uniquePrefix();
    bridge = await bridgeProcess(peers, prefix);
    chat = chatSide(peers, prefix);
    await connected(chat);
  });

  after(async () => {
    await chat?.close();
    await bridge?.stop();
    await peers?.stop();
  });

  test('device posts are stored in the room log in order, from the device, via mqtt', async () => {
    const device = await connectDevice(peers.broker.url, 'sensor-1');
    for (let i = 0; i < 20; i++) await device.publish('chat/rooms/lab/send/sensor-1', i % 2 === 0 ? `reading ${i}` : JSON.stringify({ text: `reading ${i}` }));
    const stored = await waitForMessages(chat, 'lab', 20);
    assert.deepEqual(stored.map((m) => m.text), Array.from({ length: 20 }, (_, i) => `reading ${i}`));
    for (const m of stored) {
      assert.equal(m.from, 'sensor-1');
      assert.equal(m.via, 'mqtt');
      assert.equal(m.room, 'lab');
      assert.match(m.id, /^\d+-\d+$/);
    }
    assert.equal(await metric(bridge, 'chat_bridge_messages_total', { direction: 'to_chat' }), 20);
    await device.end();
  });

  test('QoS 0 posts are stored too', async () => {
    const device = await connectDevice(peers.broker.url, 'cheap-1');
    for (let i = 0; i < 5; i++) await device.publish('chat/rooms/qos0/send/cheap-1', `q${i}`, { qos: 0 });
    const stored = await waitForMessages(chat, 'qos0', 5);
    assert.deepEqual(stored.map((m) => m.text), ['q0', 'q1', 'q2', 'q3', 'q4']);
    await device.end();
  });

  test('malformed payloads and invalid names are counted and dropped, and the bridge keeps working', async () => {
    const device = await connectDevice(peers.broker.url, 'noisy-1');
    await device.publish('chat/rooms/junk/send/noisy-1', Buffer.from([0xff, 0xfe, 0x00]));
    await device.publish('chat/rooms/junk/send/noisy-1', '{"text": 42}');
    await device.publish('chat/rooms/junk/send/noisy-1', '   ');
    await device.publish('chat/rooms/junk/send/noisy-1', 'x'.repeat(4001));
    await device.publish('chat/rooms/bad room/send/noisy-1', 'space in the room name');
    await device.publish('chat/rooms//send/noisy-1', 'empty room name');
    await device.publish(`chat/rooms/${'r'.repeat(65)}/send/noisy-1`, 'too long');
    await device.publish('chat/devices/noisy-1/status', 'maybe');
    await device.publish('chat/rooms/junk/send/noisy-1', 'the good one');
    const stored = await waitForMessages(chat, 'junk', 1);
    assert.deepEqual(stored.map((m) => m.text), ['the good one']);
    assert.equal(await metric(bridge, 'chat_bridge_dropped_total', { reason: 'malformed_payload' }), 3);
    assert.equal(await metric(bridge, 'chat_bridge_dropped_total', { reason: 'too_large' }), 1);
    assert.equal(await metric(bridge, 'chat_bridge_dropped_total', { reason: 'invalid_name' }), 3);
    assert.equal(await metric(bridge, 'chat_bridge_dropped_total', { reason: 'malformed_status' }), 1);
    assert.equal((await fetch(`${bridge.url}/readyz`)).status, 200);
    await device.end();
  });

  test('a wildcard in a device topic never reaches the bridge, and the bridge stays up', async () => {
    const device = await connectDevice(peers.broker.url, 'wild-1', { reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    // A PUBLISH to a topic with a wildcard is a protocol error: the broker drops the sender.
    void device.publish('chat/rooms/+/send/wild-1', 'wildcard', { qos: 0 }).catch(() => undefined);
    await closed;
    device.client.end(true);
    const good = await connectDevice(peers.broker.url, 'wild-2');
    await good.publish('chat/rooms/wild/send/wild-2', 'after the wildcard');
    assert.deepEqual((await waitForMessages(chat, 'wild', 1)).map((m) => m.text), ['after the wildcard']);
    await good.end();
  });
});

interface Stored { room: string; id: string; from: string; text: string; via?: string }

async function waitForMessages(chat: Cluster, room: string, count: number, timeoutMs = 8_000): Promise<Stored[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = (await chat.history.latest(room, 1000)).map((m) => JSON.parse(m.event) as Stored);
    if (messages.length >= count || Date.now() > deadline) return messages;
    await new Promise((r) => setTimeout(r, 50));
  }
}
