import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '@chat/cluster';
import { findBinary, repoRoot, startMosquitto, startRedis, waitFor, type MosquittoBroker, type NodeService, type RedisServer } from '@chat/testkit';
import { connectDevice, type TestDevice } from './testing/device.js';
import { bridgeProcess, chatSide, connected, startPeers, uniquePrefix, type Peers } from './testing/harness.js';

describe('the deploy/mosquitto ACL, anonymous mode (devices pinned by client id, the bridge by its password)', { timeout: 60_000 }, () => {
  let peers: Peers;
  let chat: Cluster;
  let bridge: NodeService;
  const open: TestDevice[] = [];

  before(async () => {
    peers = await startPeers();
    const prefix = uniquePrefix();
    chat = chatSide(peers, prefix);
    await connected(chat);
    bridge = await bridgeProcess(peers, prefix);
  });

  after(async () => {
    for (const d of open) await d.end().catch(() => undefined);
    await chat?.close();
    await bridge?.stop();
    await peers?.stop();
  });

  async function device(id: string, online = false): Promise<TestDevice> {
    const d = await connectDevice(peers.broker.url, id, { online });
    open.push(d);
    return d;
  }

  test('a device cannot post as another device, nor publish where only the bridge may', async () => {
    const mallory = await device('mallory');
    await assert.rejects(mallory.publish('chat/rooms/acl/send/victim', 'spoofed'), /Not authorized/);
    await assert.rejects(mallory.publish('chat/users/bob/direct/send/victim', 'spoofed'), /Not authorized/);
    await assert.rejects(mallory.publish('chat/rooms/acl/messages', '{"type":"message","from":"fake"}'), /Not authorized/);
    await assert.rejects(mallory.publish('chat/users/victim/direct', '{"type":"direct"}'), /Not authorized/);
    await assert.rejects(mallory.publish('chat/devices/victim/status', 'offline', { retain: true }), /Not authorized/);
    await mallory.publish('chat/rooms/acl/send/mallory', 'as myself');
    await new Promise((r) => setTimeout(r, 300));
    const texts = (await chat.history.latest('acl', 10)).map((m) => (JSON.parse(m.event) as { text: string }).text);
    assert.deepEqual(texts, ['as myself']);
  });

  test('the bridge account needs its password; anonymous, a client named chat-bridge gets no bridge rights', async () => {
    for (const credentials of [{ username: 'chat-bridge' }, { username: 'chat-bridge', password: 'guessed' }]) {
      await assert.rejects(connectDevice(peers.broker.url, 'impostor-1', { ...credentials, reconnectPeriod: 0 }), /Not authorized|not authorised/i, JSON.stringify(credentials));
    }
    const impostor = await device('chat-bridge');
    await assert.rejects(impostor.publish('chat/rooms/acl2/messages', '{"type":"message","from":"fake"}'), /Not authorized/);
    await assert.rejects(impostor.publish('chat/users/bob/direct', '{"type":"direct"}'), /Not authorized/);
    await assert.rejects(impostor.publish('chat/bridge/chat-bridge/sync', 'x'), /Not authorized/);
    await impostor.subscribe('chat/rooms/+/send/+');
    await impostor.subscribe('chat/users/+/direct/send/+');
    await impostor.subscribe('chat/bridge/#');
    const sensor = await device('sensor-acl');
    await sensor.publish('chat/rooms/acl2/send/sensor-acl', 'for the bridge only');
    await sensor.publish('chat/users/bob/direct/send/sensor-acl', 'for the bridge only');
    await waitFor('the post stored by the bridge', async () => ((await chat.history.latest('acl2', 1)).length === 1 ? true : undefined));
    const leaked = await impostor.collect(() => true, 500);
    process.stdout.write(`# impostor chat-bridge (anonymous): 2 refused logins, 3 refused publishes, ${leaked.length} messages read\n`);
    assert.deepEqual(leaked.map((m) => m.topic), [], 'an anonymous chat-bridge reads no device post');
  });

  test('a device subscribed to chat/# gets room messages only: no posts, directs or statuses of others', async () => {
    const snoop = await device('snoop');
    await snoop.subscribe('chat/#');
    const victim = await device('victim-2', true);
    await victim.subscribe('chat/users/victim-2/direct');
    await victim.publish('chat/rooms/open/send/victim-2', 'a post');
    await victim.publish('chat/users/snoop/direct/send/victim-2', 'not for chat/#');
    // Once the bridge has seen the device online, it lists the device in the directory.
    await waitFor('the device to be reachable', async () =>
      (await chat.bus.direct({ to: 'victim-2', from: 'carol', id: 'x', event: '{"type":"direct","id":"x","from":"carol","to":"victim-2","text":"secret","ts":1}', originConn: '', receivedAt: Date.now() })).reached ? true : undefined);
    await victim.next((m) => m.topic === 'chat/users/victim-2/direct');
    const seen = await snoop.collect(() => true, 700);
    assert.ok(seen.length > 0, 'the room message itself is readable');
    assert.deepEqual(seen.filter((m) => !/^chat\/rooms\/[^/]+\/messages$/.test(m.topic)).map((m) => m.topic), []);
  });
});

describe('the deploy/mosquitto ACL, production mode (password file, devices pinned by username)', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let broker: MosquittoBroker;
  let bridge: NodeService;
  let chat: Cluster;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-acl-'));
    chmodSync(dir, 0o755); // started as root, Mosquitto reads its files as its own user
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, '', { mode: 0o644 });
    const tool = findBinary('mosquitto_passwd', 'apt-get install mosquitto');
    for (const [user, password] of [['chat-bridge', 'bridge-secret'], ['sensor-1', 'sensor-secret']]) execFileSync(tool, ['-b', passwd, user!, password!]);
    redis = await startRedis();
    broker = await startMosquitto({ config: `allow_anonymous false\npassword_file ${passwd}\nacl_file ${join(repoRoot, 'deploy/mosquitto/acl.prod')}\n` });
    const prefix = uniquePrefix();
    const peers = { redis, broker, busEnv: { REDIS_URL: redis.url }, stop: async () => undefined };
    bridge = await bridgeProcess(peers, prefix, { MQTT_USERNAME: 'chat-bridge', MQTT_PASSWORD: 'bridge-secret' });
    chat = chatSide(peers, prefix);
    await connected(chat);
  });

  after(async () => {
    await chat?.close();
    await bridge?.stop();
    await broker?.kill();
    await redis?.kill();
  });

  test('a wrong password is refused; a device account posts as itself only, whatever its client id', async () => {
    await assert.rejects(connectDevice(broker.url, 'sensor-1', { username: 'sensor-1', password: 'wrong', reconnectPeriod: 0 }));
    const sensor = await connectDevice(broker.url, 'any-client-id', { username: 'sensor-1', password: 'sensor-secret' });
    await assert.rejects(sensor.publish('chat/rooms/prod/send/any-client-id', 'spoofed'), /Not authorized/);
    await sensor.publish('chat/rooms/prod/send/sensor-1', 'authenticated');
    await sensor.subscribe('chat/rooms/prod/messages');
    const out = await sensor.next((m) => m.topic === 'chat/rooms/prod/messages');
    assert.equal(out.json!.from, 'sensor-1');
    assert.equal(out.json!.via, 'mqtt');
    await sensor.end();
  });
});
