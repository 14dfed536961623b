import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '@chat/cluster';
import { findBinary, startProcess, waitFor, type NodeService, type Service } from '@chat/testkit';
import { connectDevice, type TestDevice } from './testing/device.js';
import { bridgeProcess, chatSide, connected, startBrokerAgain, startPeers, uniquePrefix, type Peers } from './testing/harness.js';

describe('outages', { timeout: 90_000 }, () => {
  let peers: Peers;
  let chat: Cluster;
  let bridge: NodeService;
  let restarted: Service | undefined;
  let redisAgain: Service | undefined;
  const open: TestDevice[] = [];

  before(async () => {
    peers = await startPeers();
    const prefix = uniquePrefix();
    chat = chatSide(peers, prefix);
    await connected(chat);
    bridge = await bridgeProcess(peers, prefix, { LOG_LEVEL: process.env.DEBUG_BRIDGE ? 'debug' : 'warn' });
  });

  after(async () => {
    for (const d of open) await d.end().catch(() => undefined);
    await chat?.close();
    await bridge?.stop();
    await restarted?.kill();
    await redisAgain?.kill();
    await peers?.stop();
  });

  const ready = async () => (await fetch(`${bridge.url}/readyz`)).status;

  test('the broker restarted: readyz says so, and what was posted meanwhile reaches devices after', async () => {
    // A device with a persistent session, as a real one would have, so the broker queues for it.
    const device = await connectDevice(peers.broker.url, 'keeper-1', { clean: false, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 300 });
    open.push(device);
    await device.subscribe('chat/rooms/vault/messages');
    await chat.bus.publish({ room: 'vault', from: 'dave', text: 'before', ts: Date.now(), receivedAt: Date.now() });
    assert.equal((await device.next((m) => m.topic === 'chat/rooms/vault/messages')).json!.text, 'before');

    await peers.broker.stop(); // SIGTERM: Mosquitto saves sessions and queues to its persistence file
    await waitFor('readyz to report the broker gone', async () => ((await ready()) === 503 ? true : undefined), 10_000);
    for (let i = 0; i < 10; i++) await chat.bus.publish({ room: 'vault', from: 'dave', text: `during ${i}`, ts: Date.now(), receivedAt: Date.now() });

    restarted = await startBrokerAgain(peers.broker);
    await waitFor('readyz back to 200', async () => ((await ready()) === 200 ? true : undefined), 15_000);
    // QoS 1 to the device is at least once: a message whose PUBACK the broker had not yet seen when
    // it stopped comes again (flagged dup). Devices drop those by id, and so does this test.
    const texts: unknown[] = [];
    const ids = new Set<unknown>();
    try {
      while (texts.length < 10) {
        const m = (await device.next((r) => r.topic === 'chat/rooms/vault/messages', 15_000)).json!;
        if (ids.has(m.id) || m.text === 'before') continue;
        ids.add(m.id);
        texts.push(m.text);
      }
    } catch (e) {
      process.stderr.write(bridge.output() + '\n---\n' + restarted.output());
      throw e;
    }
    assert.deepEqual(texts, Array.from({ length: 10 }, (_, i) => `during ${i}`));

    await device.publish('chat/rooms/vault/send/keeper-1', 'after the restart');
    await waitFor('the post after the restart', async () => {
      const log = await chat.history.latest('vault', 1);
      return log[0]?.event.includes('after the restart') ? true : undefined;
    });
  });

  test('Redis away: readyz says so, device posts wait at the broker and are stored once Redis is back', async () => {
    const device = await connectDevice(`mqtt://127.0.0.1:${peers.broker.port}`, 'patient-1');
    open.push(device);
    await peers.redis.stop();
    await waitFor('readyz to report Redis gone', async () => ((await ready()) === 503 ? true : undefined), 10_000);
    for (let i = 0; i < 5; i++) await device.publish('chat/rooms/cellar/send/patient-1', `held ${i}`);
    redisAgain = startProcess(findBinary('redis-server', 'apt-get install redis-server'), ['--port', String(peers.redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await waitFor('readyz back to 200', async () => ((await ready()) === 200 ? true : undefined), 20_000);
    await waitFor('the held posts stored', async () => ((await chat.history.latest('cellar', 10)).length === 5 ? true : undefined), 15_000);
    const texts = (await chat.history.latest('cellar', 10)).map((m) => (JSON.parse(m.event) as { text: string }).text);
    assert.deepEqual(texts, ['held 0', 'held 1', 'held 2', 'held 3', 'held 4']);
  });
});
