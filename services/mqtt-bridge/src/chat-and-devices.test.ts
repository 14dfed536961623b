import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient, startGateway, type GatewayService, type NodeService, type TestClient } from '@chat/testkit';
import { connectDevice, type TestDevice } from './testing/device.js';
import { bridgeProcess, metric, startClusterPeers, startPeers, uniquePrefix, type BusPeers } from './testing/harness.js';

for (const backend of ['one Redis', 'a Redis Cluster'] as const) describe(`browsers on two gateways and devices, through one bridge, on ${backend}`, { timeout: 90_000 }, () => {
  let peers: BusPeers;
  let gateways: GatewayService[];
  let bridge: NodeService;
  let alice: TestClient;
  let bob: TestClient;
  const open: TestDevice[] = [];

  before(async () => {
    peers = backend === 'one Redis' ? await startPeers() : await startClusterPeers();
    const prefix = uniquePrefix();
    const env = { ...peers.busEnv, REDIS_PREFIX: prefix, PRESENCE_TTL_SECONDS: '3' };
    gateways = await Promise.all([startGateway({ env }), startGateway({ env })]);
    bridge = await bridgeProcess(peers, prefix);
    alice = await connectClient(gateways[0]!.wsUrl, { user: 'alice' });
    bob = await connectClient(gateways[1]!.wsUrl, { user: 'bob' });
  });

  after(async () => {
    for (const d of open) await d.end().catch(() => undefined);
    await alice?.close();
    await bob?.close();
    await bridge?.stop();
    await Promise.all((gateways ?? []).map((g) => g.stop()));
    await peers?.stop();
  });

  async function device(id: string, online = false): Promise<TestDevice> {
    const d = await connectDevice(peers.broker.url, id, { online });
    open.push(d);
    return d;
  }

  test('browser messages reach devices once each, in order, with their ids', async () => {
    await alice.request({ type: 'join', room: 'hall' });
    const sensor = await device('sensor-a');
    assert.equal(await sensor.subscribe('chat/rooms/hall/messages'), 1);
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(String((await alice.request({ type: 'send', room: 'hall', text: `hello ${i}` })).id));
    const got = [];
    for (let i = 0; i < 15; i++) got.push((await sensor.next((m) => m.topic === 'chat/rooms/hall/messages')).json!);
    assert.deepEqual(got.map((m) => m.id), ids);
    assert.deepEqual(got.map((m) => m.text), ids.map((_, i) => `hello ${i}`));
    assert.ok(got.every((m) => m.type === 'message' && m.from === 'alice' && m.room === 'hall' && m.via === undefined));
    assert.deepEqual(await sensor.collect((m) => m.topic === 'chat/rooms/hall/messages', 300), [], 'no duplicates');
  });

  test('edits, deletes and reactions reach devices on the room topic, once each, in order with the messages', async () => {
    await alice.request({ type: 'join', room: 'board' });
    await bob.request({ type: 'join', room: 'board' });
    const screen = await device('screen-a');
    await screen.subscribe('chat/rooms/board/messages');
    const first = String((await alice.request({ type: 'send', room: 'board', text: 'meeting at 3' })).id);
    const ids = [
      first,
      (await alice.request({ type: 'edit', room: 'board', id: first, text: 'meeting at 4' })).id,
      (await bob.request({ type: 'react', room: 'board', id: first, emoji: 'ok' })).id,
      (await alice.request({ type: 'delete', room: 'board', id: first })).id,
    ].map(String);
    const got = [];
    for (let i = 0; i < ids.length; i++) got.push((await screen.next((m) => m.topic === 'chat/rooms/board/messages')).json!);
    assert.deepEqual(got.map((m) => [m.type, m.id]), [['message', ids[0]], ['edit', ids[1]], ['reaction', ids[2]], ['delete', ids[3]]]);
    assert.deepEqual(got[1], { type: 'edit', room: 'board', id: ids[1], target: first, from: 'alice', text: 'meeting at 4', ts: got[1]!.ts });
    assert.deepEqual([got[2]!.user, got[2]!.emoji, got[2]!.on, got[3]!.target], ['bob', 'ok', true, first]);
    assert.deepEqual(await screen.collect((m) => m.topic === 'chat/rooms/board/messages', 300), [], 'no duplicates');
  });

  test('device posts reach browsers on both gateways in the same order, and go out on MQTT once', async () => {
    await alice.request({ type: 'join', room: 'plant' });
    await bob.request({ type: 'join', room: 'plant' });
    const sensor = await device('sensor-b');
    await sensor.subscribe('chat/rooms/plant/messages');
    for (let i = 0; i < 15; i++) await sensor.publish('chat/rooms/plant/send/sensor-b', `t=${i}`);
    const seen = async (client: TestClient) => {
      const frames = [];
      for (let i = 0; i < 15; i++) frames.push(await client.next((f) => f.type === 'message' && f.room === 'plant'));
      return frames;
    };
    const [atAlice, atBob] = await Promise.all([seen(alice), seen(bob)]);
    assert.deepEqual(atAlice.map((f) => f.text), Array.from({ length: 15 }, (_, i) => `t=${i}`));
    assert.deepEqual(atBob.map((f) => f.id), atAlice.map((f) => f.id));
    assert.ok(atAlice.every((f) => f.from === 'sensor-b' && f.via === 'mqtt'));
    const echoed = [];
    for (let i = 0; i < 15; i++) echoed.push((await sensor.next((m) => m.topic === 'chat/rooms/plant/messages')).json!);
    assert.deepEqual(echoed.map((m) => m.id), atAlice.map((f) => f.id));
    assert.deepEqual(await sensor.collect((m) => m.topic.startsWith('chat/rooms/plant/'), 300), [], 'no duplicates');
  });

  test('direct messages both ways, and a device direct to an offline user is counted', async () => {
    const sensor = await device('sensor-c', true);
    await sensor.subscribe('chat/users/sensor-c/direct');
    await waitUntil(async () => (await alice.request({ type: 'direct', to: 'sensor-c', text: 'ping' })).type === 'ack');
    const direct = await sensor.next((m) => m.topic === 'chat/users/sensor-c/direct');
    assert.equal(direct.json!.from, 'alice');
    assert.equal(direct.json!.text, 'ping');

    await sensor.publish('chat/users/bob/direct/send/sensor-c', JSON.stringify({ text: 'pong' }));
    const atBob = await bob.next((f) => f.type === 'direct' && f.from === 'sensor-c');
    assert.equal(atBob.text, 'pong');
    assert.equal(atBob.via, 'mqtt');
    assert.equal(atBob.to, 'bob');

    await sensor.publish('chat/users/nobody/direct/send/sensor-c', 'anyone there?');
    await waitUntil(async () => (await metric(bridge, 'chat_bridge_dropped_total', { reason: 'user_offline' })) === 1);
    assert.deepEqual(await sensor.collect((m) => m.topic === 'chat/users/sensor-c/direct', 200), [], 'the device gets no copy of its own direct');
  });

  test('a direct to a device that is not online is refused with user_offline', async () => {
    const reply = await alice.request({ type: 'direct', to: 'never-online', text: 'hello?' });
    assert.equal(reply.type, 'error');
    assert.equal(reply.code, 'user_offline');
  });

  test('an online device shows in the presence of rooms it posted to, and leaves on an unclean drop (Will)', async () => {
    await alice.request({ type: 'join', room: 'yard' });
    const sensor = await device('sensor-d', true);
    await sensor.publish('chat/rooms/yard/send/sensor-d', 'first post');
    await alice.next((f) => f.type === 'presence' && f.room === 'yard' && f.user === 'sensor-d' && f.state === 'join');
    const joined = await bob.request({ type: 'join', room: 'yard' });
    assert.ok((joined.members as string[]).includes('sensor-d'));
    sensor.drop();
    await alice.next((f) => f.type === 'presence' && f.room === 'yard' && f.user === 'sensor-d' && f.state === 'leave', 10_000);
    // Back online: it shows again in the rooms it posted to, without posting again.
    const again = await device('sensor-d', true);
    await alice.next((f) => f.type === 'presence' && f.room === 'yard' && f.user === 'sensor-d' && f.state === 'join', 10_000);
    await again.end();
  });

  test('device presence outlives the presence TTL while the device stays online', async () => {
    await alice.request({ type: 'join', room: 'barn' });
    const sensor = await device('sensor-e', true);
    await sensor.publish('chat/rooms/barn/send/sensor-e', 'here');
    await alice.next((f) => f.type === 'presence' && f.user === 'sensor-e' && f.state === 'join');
    await new Promise((r) => setTimeout(r, 7_000)); // more than twice the 3 s TTL
    assert.equal(alice.frames.filter((f) => f.type === 'presence' && f.user === 'sensor-e' && f.state === 'leave').length, 0);
    const members = (await bob.request({ type: 'join', room: 'barn' })).members as string[];
    assert.ok(members.includes('sensor-e'));
  });
});

async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
