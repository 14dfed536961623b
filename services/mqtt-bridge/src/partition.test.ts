import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '@chat/cluster';
import { waitFor, type NodeService } from '@chat/testkit';
import { connectDevice, type TestDevice } from './testing/device.js';
import { bridgeProcess, chatSide, connected, startPeers, uniquePrefix, type Peers, leaderOf } from './testing/harness.js';

/** A TCP relay to the broker that the test can cut: the leader alone loses the broker, not Redis. */
async function relay(port: number): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((inbound) => {
    if (!open) return void inbound.destroy();
    const outbound = connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => { sockets.delete(s); inbound.destroy(); outbound.destroy(); });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('a leader that loses the broker but not Redis', { timeout: 90_000 }, () => {
  let peers: Peers;
  let prefix: string;
  let chat: Cluster;
  let bridges: NodeService[] = [];
  let cable: Awaited<ReturnType<typeof relay>>;
  const open: TestDevice[] = [];

  before(async () => {
    peers = await startPeers();
    prefix = uniquePrefix();
    chat = chatSide(peers, prefix);
    await connected(chat);
    cable = await relay(peers.broker.port);
    // The first replica up takes the lease; it reaches the broker through the relay only.
    bridges.push(await bridgeProcess(peers, prefix, { NODE_ID: 'cut-1', MQTT_URL: cable.url }));
    bridges.push(await bridgeProcess(peers, prefix, { NODE_ID: 'cut-2' }));
  });

  after(async () => {
    for (const d of open) await d.end().catch(() => undefined);
    await chat?.close();
    await Promise.all(bridges.map((b) => b.kill()));
    await cable?.close();
    await peers?.stop();
  });

  test('gives the lease back, and the replica that reaches the broker stores the posts that waited', async () => {
    assert.equal(await leaderId(), 'cut-1');
    const sensor = await connectDevice(peers.broker.url, 'cut-sensor');
    open.push(sensor);
    await sensor.publish('chat/rooms/cut/send/cut-sensor', 'before');
    await waitFor('the first post', async () => ((await chat.history.latest('cut', 1)).length === 1 ? true : undefined));
    cable.cut();
    const sent = Array.from({ length: 20 }, (_, i) => `while cut ${i}`);
    for (const text of sent) await sensor.publish('chat/rooms/cut/send/cut-sensor', text);
    await waitFor('the other replica to lead', async () => ((await leaderId()) === 'cut-2' ? true : undefined), 20_000, 100);
    await waitFor('the waiting posts stored', async () => ((await chat.history.latest('cut', 100)).length === 21 ? true : undefined), 15_000);
    const texts = (await chat.history.latest('cut', 100)).map((m) => (JSON.parse(m.event) as { text: string }).text);
    assert.deepEqual(texts, ['before', ...sent]);
  });

  const leaderId = () => leaderOf(chat, prefix);
});
