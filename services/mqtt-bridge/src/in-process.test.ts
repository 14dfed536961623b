/**
 * The bridge in this process, on the in-process bus: the same Bridge class main.ts runs, given the
 * memory implementations of the cluster's ports (bus, history, presence, room tap, lease, shared
 * state) and a real Mosquitto. What crosses, in which order, and what a successor replica resumes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openCluster, type Cluster, type RoomMessage } from '@chat/cluster';
import { createBridgeMetrics, createLogger } from '@chat/runtime';
import { startMosquitto, type MosquittoBroker } from '@chat/testkit';
import { Bridge } from './bridge.js';
import { readBridgeConfig, type BridgeConfig } from './config.js';
import { connectDevice, type TestDevice } from './testing/device.js';

const LEASE_MS = 1_000;

describe('the bridge in-process on the in-process bus, with a real broker', { timeout: 60_000 }, () => {
  let broker: MosquittoBroker;
  let cluster: Cluster;
  let stores: ReturnType<Cluster['bridgeStores']>;
  const running: Bridge[] = [];
  const devices: TestDevice[] = [];

  before(async () => {
    broker = await startMosquitto();
    cluster = openCluster({ redisUrl: undefined, prefix: 'chat:', historyLimit: 1000, presenceTtlMs: 5_000, name: 'in-process' });
    // Every replica shares the stores, as replicas on one Redis share its keys.
    stores = cluster.bridgeStores(LEASE_MS);
  });

  after(async () => {
    for (const d of devices) await d.end().catch(() => undefined);
    for (const b of running) await b.stop().catch(() => undefined);
    await cluster?.close();
    await broker?.stop();
  });

  function config(nodeId: string): BridgeConfig {
    // The bus, history and stores are the in-process ones passed below: the Redis settings are not read.
    const read = readBridgeConfig({ MQTT_URL: broker.url, REDIS_URL: 'redis://unused.invalid', NODE_ID: nodeId, LEADER_LEASE_MS: String(LEASE_MS) });
    return { ...read, redisUrl: undefined };
  }

  async function replica(nodeId: string): Promise<Bridge> {
    const bridge = new Bridge({
      config: config(nodeId),
      bus: cluster.bus,
      history: cluster.history,
      presence: cluster.presence,
      moderation: cluster.moderation,
      ...stores,
      tap: cluster.openTap(nodeId),
      metrics: createBridgeMetrics(nodeId),
      log: createLogger('error'),
    });
    bridge.start();
    running.push(bridge);
    await until(`${nodeId} ready`, () => bridge.ready, 10_000);
    return bridge;
  }

  async function device(id: string): Promise<TestDevice> {
    const d = await connectDevice(broker.url, id);
    devices.push(d);
    return d;
  }

  const send = async (room: string, text: string) =>
    (await cluster.bus.publish({ room, from: 'alice', text, ts: Date.now(), receivedAt: Date.now() })).id;

  test('room messages reach devices once each, in order; device posts are stored in the order published', async () => {
    await replica('b1');
    const sensor = await device('sensor-1');
    await sensor.subscribe('chat/rooms/hall/messages');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await send('hall', `m${i}`));
    const got: string[] = [];
    for (let i = 0; i < 20; i++) got.push(String((await sensor.next((m) => m.topic === 'chat/rooms/hall/messages')).json!.id));
    assert.deepEqual(got, ids);
    assert.deepEqual(await sensor.collect((m) => m.topic === 'chat/rooms/hall/messages', 300), [], 'no duplicates');

    for (let i = 0; i < 10; i++) await sensor.publish('chat/rooms/plant/send/sensor-1', `t=${i}`);
    await until('ten posts stored', async () => (await cluster.history.latest('plant', 100)).length === 10);
    const stored = (await cluster.history.latest('plant', 100)).map(body);
    assert.deepEqual(stored.map((m) => m.text), Array.from({ length: 10 }, (_, i) => `t=${i}`));
    assert.ok(stored.every((m) => m.from === 'sensor-1' && m.via === 'mqtt'));
  });

  test('a device banned or muted in a room has its posts dropped there, as a user\'s sends are refused; lifted, it posts again', async () => {
    const sensor = await device('sensor-3');
    const texts = async () => (await cluster.history.latest('quiet', 100)).map((m) => body(m).text);
    await cluster.moderation.restrict('quiet', 'bans', 'sensor-3', 0, 'noise');
    await sensor.publish('chat/rooms/quiet/send/sensor-3', 'while banned');
    await cluster.moderation.restrict('quiet', 'mutes', 'sensor-3', 0, '');
    await cluster.moderation.lift('quiet', 'bans', 'sensor-3');
    await sensor.publish('chat/rooms/quiet/send/sensor-3', 'while muted');
    await sensor.publish('chat/rooms/other/send/sensor-3', 'elsewhere');
    await until('the post elsewhere', async () => (await cluster.history.latest('other', 10)).length === 1);
    assert.deepEqual(await texts(), [], 'nothing stored while banned or muted');
    await cluster.moderation.lift('quiet', 'mutes', 'sensor-3');
    await sensor.publish('chat/rooms/quiet/send/sensor-3', 'free again');
    await until('the post after the lift', async () => (await texts()).length === 1);
    assert.deepEqual(await texts(), ['free again']);
  });

  test('a successor replica resumes where the leader stopped: what was posted between terms goes out once', async () => {
    const first = running[0]!;
    const sensor = await device('sensor-2');
    await sensor.subscribe('chat/rooms/yard/messages');
    const before = [await send('yard', 'a'), await send('yard', 'b')];
    for (const id of before) assert.equal((await sensor.next((m) => m.topic === 'chat/rooms/yard/messages')).json!.id, id);

    await first.stop();
    const meanwhile = [await send('yard', 'c'), await send('yard', 'd')];
    await replica('b2');
    const after = [await send('yard', 'e')];
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(String((await sensor.next((m) => m.topic === 'chat/rooms/yard/messages')).json!.id));
    assert.deepEqual(got, [...meanwhile, ...after]);
    assert.deepEqual(await sensor.collect((m) => m.topic === 'chat/rooms/yard/messages', 500), [], 'nothing sent twice across the takeover');
  });
});

function body(message: RoomMessage): { text: string; from: string; via?: string } {
  return JSON.parse(message.event) as { text: string; from: string; via?: string };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
