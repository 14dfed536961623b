import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '@chat/cluster';
import { waitFor, type NodeService } from '@chat/testkit';
import { connectDevice, type TestDevice } from './testing/device.js';
import { bridgeProcess, chatSide, connected, metric, startPeers, uniquePrefix, type Peers, leaderOf } from './testing/harness.js';
import { report, tally } from './testing/tally.js';

describe('two bridge replicas', { timeout: 150_000 }, () => {
  let peers: Peers;
  let prefix: string;
  let chat: Cluster;
  let bridges: NodeService[] = [];
  const open: TestDevice[] = [];

  before(async () => {
    peers = await startPeers();
    prefix = uniquePrefix();
    chat = chatSide(peers, prefix);
    await connected(chat);
    bridges = await Promise.all([bridgeProcess(peers, prefix, { NODE_ID: 'rep-1' }), bridgeProcess(peers, prefix, { NODE_ID: 'rep-2' })]);
  });

  after(async () => {
    for (const d of open) await d.end().catch(() => undefined);
    await chat?.close();
    await Promise.all(bridges.map((b) => b.stop()));
    await peers?.stop();
  });

  async function device(id: string): Promise<TestDevice> {
    const d = await connectDevice(peers.broker.url, id);
    open.push(d);
    return d;
  }

  const leaderId = () => leaderOf(chat, prefix);

  test('each message crosses once each way, and nothing loops', async () => {
    const sensor = await device('twin-1');
    const watcher = await device('watcher-1');
    await watcher.subscribe('chat/rooms/twins/messages');
    const leader = await leaderId();
    for (let i = 0; i < 100; i++) await sensor.publish('chat/rooms/twins/send/twin-1', `dev ${i}`);
    for (let i = 0; i < 100; i++) await chat.bus.publish({ room: 'twins', from: 'carol', text: `web ${i}`, ts: Date.now(), receivedAt: Date.now() });

    const stored = await logOf(chat, 'twins', 200);
    assert.equal(stored.length, 200);
    assert.equal(new Set(stored.map((m) => m.text)).size, 200, 'no message stored twice');
    const out = await receive(watcher, 'chat/rooms/twins/messages', 200);
    assert.deepEqual(out.map((m) => m.id), stored.map((m) => m.id), 'MQTT sees the room log once, in order');
    assert.deepEqual(await watcher.collect((m) => m.topic === 'chat/rooms/twins/messages', 500), [], 'no duplicates');
    assert.equal((await logOf(chat, 'twins', 200)).length, 200, 'nothing came back in (no loop)');
    const inbound = await Promise.all(bridges.map((b) => metric(b, 'chat_bridge_messages_total', { direction: 'to_chat' })));
    assert.deepEqual(inbound, bridges.map((b) => (b.nodeId === leader ? 100 : 0)), 'the leader alone takes device posts');
  });

  test('one device posting 100 messages at once: stored in its order, once each', async () => {
    const sensor = await device('burst-1');
    const sent = Array.from({ length: 100 }, (_, i) => `burst ${i}`);
    // Not awaited one by one: mqtt.js pipelines them, and MQTT keeps one client's order.
    await Promise.all(sent.map((text) => sensor.publish('chat/rooms/burst/send/burst-1', text)));
    const stored = (await logOf(chat, 'burst', 100)).map((m) => m.text);
    await new Promise((r) => setTimeout(r, 500));
    const counts = tally(sent, (await logOf(chat, 'burst', 100)).map((m) => m.text));
    report('one device, 2 replicas', counts);
    assert.equal(stored.length, 100);
    assert.deepEqual(counts, { sent: 100, stored: 100, doubled: 0, reordered: 0, missing: 0 });
  });

  test('the leader SIGKILLed mid-stream: posts stored once in device order, chat messages reach a QoS 1 subscriber once in order', async () => {
    const sensor = await device('twin-2');
    const watcher = await device('watcher-2');
    await watcher.subscribe('chat/rooms/storm/messages');
    const leader = await leaderId();
    const victim = bridges.find((b) => b.nodeId === leader)!;
    const survivor = bridges.find((b) => b !== victim)!;
    const N = 300;
    const posts = Array.from({ length: N }, (_, i) => `dev ${i}`);
    const webs = Array.from({ length: N }, (_, i) => `web ${i}`);
    let done = 0;
    const posting = (async () => {
      for (let i = 0; i < N; i++, done++) {
        await sensor.publish('chat/rooms/storm/send/twin-2', posts[i]!);
        await chat.bus.publish({ room: 'storm', from: 'carol', text: webs[i]!, ts: Date.now(), receivedAt: Date.now() });
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor('a third of the rounds', async () => (done >= N / 3 ? true : undefined), 20_000, 5);
    await victim.kill();
    const atKill = done;
    await posting;
    process.stdout.write(`# the leader ${victim.nodeId} was killed after ${atKill} of ${N} rounds (a device post and a chat message each)\n`);
    assert.ok(atKill > 0 && atKill < N, 'the kill fell mid-stream');

    const stored = await logOf(chat, 'storm', 2 * N, 20_000);
    const devCounts = tally(posts, stored.filter((m) => m.from === 'twin-2').map((m) => m.text));
    report('device posts across the kill', devCounts);
    const out = await receive(watcher, 'chat/rooms/storm/messages', 2 * N, 20_000);
    out.push(...(await watcher.collect((m) => m.topic === 'chat/rooms/storm/messages', 1_000)).map((m) => m.json as unknown as Stored));
    const outCounts = tally(stored.map((m) => m.id), out.map((m) => m.id));
    report('room messages to a QoS 1 subscriber across the kill', outCounts);
    assert.deepEqual(devCounts, { sent: N, stored: N, doubled: 0, reordered: 0, missing: 0 });
    assert.deepEqual(outCounts, { sent: 2 * N, stored: 2 * N, doubled: 0, reordered: 0, missing: 0 });
    assert.equal(await leaderId(), survivor.nodeId);
    bridges = [survivor];
  });
});

interface Stored { id: string; from: string; text: string }

async function logOf(chat: Cluster, room: string, count: number, timeoutMs = 10_000): Promise<Stored[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = (await chat.history.latest(room, 1000)).map((m) => JSON.parse(m.event) as Stored);
    if (messages.length >= count || Date.now() > deadline) return messages;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every message on `topic` until `count` distinct ids arrived (or the time is up), duplicates kept, in arrival order. */
async function receive(device: TestDevice, topic: string, count: number, timeoutMs = 10_000): Promise<Stored[]> {
  const got: Stored[] = [];
  const ids = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (ids.size < count && Date.now() < deadline) {
    const m = await device.next((r) => r.topic === topic, Math.max(1, deadline - Date.now())).catch(() => undefined);
    if (m === undefined) break;
    const s = m.json as unknown as Stored;
    got.push(s);
    ids.add(s.id);
  }
  return got;
}
