/**
 * Exactly-once sends against real gateway processes on a real Redis: the client's socket is cut
 * right after it wrote sends, with their acks lost or not, and every message must exist once in the
 * room. This needs both halves of SPEC section 3's `mid` paragraph: the SDK resends with the same
 * mid (this package), and the server stores a mid once (the gateways' bus).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import type { ChatClient, ChatClientOptions } from './index.js';
import { createNodeClient } from './node.js';
import { record } from './testing/recorder.js';
import { startCluster, type RealCluster } from './testing/real-cluster.js';
import { sleep, waitFor } from './testing/wait.js';

/**
 * The `ws` sockets a client opens, kept so that the test can cut one (terminate: no close frame,
 * as a dead path), or make one deaf (frames from the server are dropped: every ack is lost).
 */
class Tapped extends WebSocket {
  static readonly opened: Tapped[] = [];
  deaf = false;

  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    Tapped.opened.push(this);
  }

  // ws dispatches every frame through emit('message'); a deaf socket swallows them there.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (this.deaf && event === 'message') return false;
    return super.emit(event, ...args);
  }

  static latest(): Tapped {
    const socket = Tapped.opened.at(-1);
    assert.ok(socket, 'a socket was opened');
    return socket;
  }
}

const clients: ChatClient[] = [];
function connect(options: ChatClientOptions): ChatClient {
  const client = createNodeClient({ backoff: { initialMs: 100, maxMs: 500 }, ...options });
  clients.push(client);
  return client;
}

let cluster: RealCluster;
before(async () => {
  cluster = await startCluster(['r1', 'r2']);
});
after(async () => {
  for (const client of clients) client.close();
  await cluster?.stop();
});

function gateway(name: string) {
  const found = cluster.gateways.find((g) => g.nodeId === name);
  assert.ok(found, `gateway ${name}`);
  return found;
}

function counts(texts: string[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const text of texts) n.set(text, (n.get(text) ?? 0) + 1);
  return n;
}

test('sends stored but whose acks were lost with the socket resolve as duplicates and exist once', async () => {
  const alice = connect({ url: gateway('r1').wsUrl, user: 'alice', WebSocket: Tapped });
  const bob = connect({ url: gateway('r2').wsUrl, user: 'bob' });
  const seen = record(bob);
  await Promise.all([alice.connect(), bob.connect()]);
  await Promise.all([alice.join('lost-acks'), bob.join('lost-acks')]);

  const socket = Tapped.latest();
  socket.deaf = true;
  const texts = ['a1', 'a2', 'a3', 'a4', 'a5'];
  const sends = texts.map((text) => alice.send('lost-acks', text));
  await waitFor('bob to see all five stored', () => seen.texts('lost-acks').length >= 5, 10_000);
  socket.terminate();

  const acks = await Promise.all(sends);
  await sleep(500); // a second copy would reach bob now
  assert.deepEqual(seen.texts('lost-acks'), texts, 'each message once, in order');
  assert.deepEqual(acks.map((a) => a.id), seen.ids('lost-acks'), 'each resolved with its first id');
  assert.ok(acks.every((a) => a.duplicate), 'the resends were answered as duplicates');
  const stored = await bob.history('lost-acks', { limit: 100 });
  assert.deepEqual(stored.map((m) => m.text), texts, 'the room holds each once');
});

test('sends written right before the socket is killed each appear exactly once, in order', async () => {
  const alice = connect({ url: gateway('r1').wsUrl, user: 'alice', WebSocket: Tapped });
  const bob = connect({ url: gateway('r2').wsUrl, user: 'bob' });
  const seen = record(bob);
  await Promise.all([alice.connect(), bob.connect()]);
  await Promise.all([alice.join('killed'), bob.join('killed')]);

  const texts: string[] = [];
  for (let round = 0; round < 5; round += 1) {
    await waitFor('alice connected', () => alice.state === 'connected', 10_000);
    const batch = Array.from({ length: 10 }, (_, i) => `k${round}.${i}`);
    texts.push(...batch);
    const sends = batch.map((text) => alice.send('killed', text));
    Tapped.latest().terminate(); // written, maybe stored, acks unseen
    const acks = await Promise.all(sends);
    assert.equal(new Set(acks.map((a) => a.id)).size, batch.length);
  }
  await waitFor('bob to see every message', () => seen.texts('killed').length >= texts.length, 15_000);
  await sleep(500);
  const doubled = [...counts(seen.texts('killed'))].filter(([, n]) => n > 1).map(([text]) => text);
  assert.deepEqual(doubled, [], 'no message twice');
  assert.deepEqual(seen.texts('killed'), texts, 'every message once, in the order sent');
  const stored = await bob.history('killed', { limit: 100 });
  assert.deepEqual(stored.map((m) => m.text), texts);
});
