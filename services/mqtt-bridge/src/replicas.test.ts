import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BridgeKeys, type Cluster } from '@chat/cluster';
import { compareIds } from '@chat/protocol';
import { waitFor, type NodeService } from '@chat/testkit';
import { connectDevice, type TestDevice } from './testing/device.js';
import { bridgeProcess, chatSide, connected, metric, startPeers, uniquePrefix, type Peers } from './testing/harness.js';

describe('two bridge replicas', { timeout: 120_000 }, () => {
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

  async function leaderId(): Promise<string> {
    return waitFor('an outbound leader', async () => {
      const value = await chat.redis!.command.get(new BridgeKeys(prefix).leader);
      return value === null ? undefined : value.slice(0, value.indexOf('#'));
    });
  }

  test('each message crosses once each way, and nothing loops', async () => {
    const sensor = await device('twin-1');
    const watcher = await device('watcher-1');
    await watcher.subscribe('chat/rooms/twins/messages');
    await leaderId();
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
    assert.equal(inbound[0]! + inbound[1]!, 100);
    assert.ok(inbound[0]! > 0 && inbound[1]! > 0, `the shared subscription spreads device posts: ${inbound}`);
  });

  test('a replica killed mid-stream loses nothing: its lead and its MQTT session are taken over', async () => {
    const sensor = await device('twin-2');
    const watcher = await device('watcher-2');
    await watcher.subscribe('chat/rooms/storm/messages');
    const leader = await leaderId();
    const victim = bridges.find((b) => b.nodeId === leader)!;
    const survivor = bridges.find((b) => b !== victim)!;
    const N = 300;
    const posting = (async () => {
      for (let i = 0; i < N; i++) {
        await sensor.publish('chat/rooms/storm/send/twin-2', `dev ${i}`);
        await chat.bus.publish({ room: 'storm', from: 'carol', text: `web ${i}`, ts: Date.now(), receivedAt: Date.now() });
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await victim.kill();
    await posting;

    const stored = await logOf(chat, 'storm', 2 * N, 20_000);
    const devTexts = stored.filter((m) => m.from === 'twin-2').map((m) => m.text);
    assert.equal(devTexts.length, N, 'every device post stored exactly once');
    assert.equal(new Set(devTexts).size, N);
    const out = await receive(watcher, 'chat/rooms/storm/messages', 2 * N, 20_000);
    const ids = new Set(out.map((m) => m.id));
    assert.deepEqual(stored.map((m) => m.id).filter((id) => !ids.has(id)), [], 'every room message reached MQTT');
    const duplicates = out.length - ids.size;
    process.stdout.write(`# takeover: ${duplicates} duplicate(s) on MQTT across the change of leader\n`);
    assert.ok(duplicates <= 1000, 'duplicates stay within the in-flight window');
    assert.equal(await leaderId(), survivor.nodeId);
    await waitFor('the survivor to drain the dead replica\'s session', async () => (survivor.output().includes('draining the session of a replica') ? true : undefined), 15_000);
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

/** Every message on `topic` until `count` distinct ids arrived (or the time is up), duplicates kept. */
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
  const seen = new Set<string>();
  const firsts = got.filter((m) => !seen.has(m.id) && seen.add(m.id));
  for (let i = 1; i < firsts.length; i++) assert.ok(compareIds(firsts[i - 1]!.id, firsts[i]!.id) < 0, 'first sightings come in room order');
  return got;
}
