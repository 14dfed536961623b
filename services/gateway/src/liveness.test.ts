import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import WebSocket from 'ws';
import { connectClient, startGateway, type Frame, type TestClient } from '@chat/testkit';
import { joined, metricValue, sleep } from './test-helpers.js';

test('a client silent for twice the heartbeat is closed, one that answers pings stays', async (t) => {
  const gw = await startGateway({ env: { HEARTBEAT_MS: '4000' } });
  t.after(() => gw.stop());
  const url = `${gw.wsUrl}?user=sleepy`;
  const silent = new WebSocket(url, { autoPong: false });
  const polite = new WebSocket(url.replace('sleepy', 'polite'));
  const started = Date.now();
  const silentClosed = new Promise<number>((done) => silent.once('close', () => done(Date.now() - started)));
  t.after(() => { silent.terminate(); polite.terminate(); });
  let politeClosed = false;
  polite.once('close', () => (politeClosed = true));
  const elapsed = await silentClosed;
  assert.ok(elapsed >= 6_000 && elapsed <= 16_000, `closed after ${elapsed} ms; heartbeat 4 s`);
  await sleep(2_000);
  assert.equal(politeClosed, false, 'a client answering pings is kept');
});

test('a client that stops reading is closed with 4008 after a gap-free prefix; others keep receiving promptly', async (t) => {
  const gw = await startGateway({ env: { MAX_BACKPRESSURE: '65536', RATE_LIMIT: '100000' } });
  t.after(() => gw.stop());
  const { client: fast } = await joined(gw.wsUrl, 'fast', 'firehose');
  t.after(() => fast.close());
  const fastIds: string[] = [];
  fast.ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type: string; id: string };
    if (frame.type === 'message') fastIds.push(frame.id);
  });
  const slow = new WebSocket(`${gw.wsUrl}?user=slow`);
  t.after(() => slow.terminate());
  const slowIds: string[] = [];
  let slowJoined: () => void = () => undefined;
  const joinedFrame = new Promise<void>((r) => (slowJoined = r));
  slow.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type: string; id: string };
    if (frame.type === 'message') slowIds.push(frame.id);
    if (frame.type === 'joined') slowJoined();
  });
  const slowClosed = new Promise<number>((done) => slow.once('close', (code) => done(code)));
  await new Promise((r) => slow.once('open', r));
  slow.send(JSON.stringify({ type: 'join', room: 'firehose' }));
  await joinedFrame;
  await sleep(200);
  // Stop reading: the kernel's buffers fill, then uWS's buffer for this socket.
  (slow as unknown as { _socket: { pause(): void } })._socket.pause();
  const rssBefore = rss(gw.pid);
  const closedBefore = await slowConsumerCloses(gw.url);
  const text = 'x'.repeat(3_900);
  const started = Date.now();
  const probeMs: number[] = [];
  let sent = 0;
  while ((await slowConsumerCloses(gw.url)) === closedBefore) {
    assert.ok(sent < 8_000, `not closed after ${sent} messages of 4 kB sent past it`);
    await sendAll(fast, { type: 'send', room: 'firehose', text }, 200);
    sent += 200;
    // A probe: how long the fast member waits for a message while the other member is stalled.
    const probeStarted = Date.now();
    const ack = await fast.request({ type: 'send', room: 'firehose', text: 'probe' });
    await fast.next((f) => f.type === 'message' && f.id === ack.id, 5_000);
    probeMs.push(Date.now() - probeStarted);
    sent += 1;
  }
  const closedAfterMs = Date.now() - started;
  // A few more once it is closed: they must not reach it.
  await sendAll(fast, { type: 'send', room: 'firehose', text }, 100);
  (slow as unknown as { _socket: { resume(): void } })._socket.resume();
  assert.equal(await Promise.race([slowClosed, sleep(10_000).then(() => 'no close within 10 s')]), 4008, 'the stalled member sees 4008 once it reads again');
  assert.ok(slowIds.length > 0, 'the stalled member got messages before it stalled');
  assert.deepEqual(slowIds, fastIds.slice(0, slowIds.length), 'what the stalled member got is a gap-free prefix of the room');
  assert.ok(slowIds.length < fastIds.length, 'it did not get the messages after its close');
  await sleep(200);
  assert.equal(fastIds.length, sent + 100, 'the fast member got every message');
  assert.equal(new Set(fastIds).size, fastIds.length, 'and each once');
  assert.ok(Math.max(...probeMs) < 1_000, `the fast member's probes took ${probeMs.join(', ')} ms`);
  assert.ok(closedAfterMs < 15_000, `closed ${closedAfterMs} ms after the flood began`);
  const growthMb = (rss(gw.pid) - rssBefore) / 1024 / 1024;
  assert.ok(growthMb < 64, `server memory grew ${growthMb.toFixed(1)} MiB for ${sent * 4_000 / 1e6} MB sent past a stalled reader`);
});

test('a client that stops reading its direct messages is closed with 4008 after a gap-free prefix', async (t) => {
  const gw = await startGateway({ env: { MAX_BACKPRESSURE: '65536', RATE_LIMIT: '100000' } });
  t.after(() => gw.stop());
  const inbox = new WebSocket(`${gw.wsUrl}?user=inbox`);
  t.after(() => inbox.terminate());
  const got: string[] = [];
  inbox.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type: string; id: string };
    if (frame.type === 'direct') got.push(frame.id);
  });
  const inboxClosed = new Promise<number>((done) => inbox.once('close', (code) => done(code)));
  await new Promise((r) => inbox.once('open', r));
  const sender = await connectClient(gw.wsUrl, { user: 'sender' });
  t.after(() => sender.close());
  await sleep(200);
  (inbox as unknown as { _socket: { pause(): void } })._socket.pause();
  const closedBefore = await slowConsumerCloses(gw.url);
  const frame = { type: 'direct', to: 'inbox', text: 'x'.repeat(3_900) };
  const acked: string[] = [];
  while ((await slowConsumerCloses(gw.url)) === closedBefore) {
    assert.ok(acked.length < 8_000, `not closed after ${acked.length} directs of 4 kB`);
    acked.push(...(await sendAll(sender, frame, 200)));
  }
  (inbox as unknown as { _socket: { resume(): void } })._socket.resume();
  assert.equal(await Promise.race([inboxClosed, sleep(10_000).then(() => 'no close within 10 s')]), 4008);
  assert.ok(got.length > 0 && got.length < acked.length, `got ${got.length} of ${acked.length}`);
  assert.deepEqual(got, acked.slice(0, got.length), 'what it got is a gap-free prefix of what was sent to it');
});

function slowConsumerCloses(baseUrl: string): Promise<number> {
  return metricValue(baseUrl, 'chat_connections_closed_total{reason="slow_consumer"');
}

/**
 * Sends `count` copies of `frame` with a window of 16 unacknowledged, which keeps the sender's own
 * buffer well under the cap; resolves with the acked ids in the order the frames were sent.
 */
async function sendAll(client: TestClient, frame: Record<string, unknown>, count: number): Promise<string[]> {
  const acks: Array<Promise<Frame>> = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    acks.push(client.request(frame, 30_000));
    if (acks.length >= 16) ids.push(String((await acks.shift()!).id));
  }
  for (const ack of acks) ids.push(String((await ack).id));
  return ids;
}

function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}
