import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startGateway, type TestClient } from '@chat/testkit';
import { joined, messages, metricValue, sleep } from './test-helpers.js';

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

test('a slow consumer is capped at MAX_BACKPRESSURE: its frames are dropped and counted, others get everything', async (t) => {
  const gw = await startGateway({ env: { MAX_BACKPRESSURE: '65536', RATE_LIMIT: '100000' } });
  t.after(() => gw.stop());
  const { client: fast } = await joined(gw.wsUrl, 'fast', 'firehose');
  t.after(() => fast.close());
  const slow = new WebSocket(`${gw.wsUrl}?user=slow`);
  t.after(() => slow.terminate());
  await new Promise((r) => slow.once('open', r));
  slow.send(JSON.stringify({ type: 'join', room: 'firehose' }));
  await new Promise((r) => slow.once('message', r));
  await sleep(200);
  // Stop reading: the kernel's buffers fill, then uWS's buffer for this socket.
  (slow as unknown as { _socket: { pause(): void } })._socket.pause();
  const rssBefore = rss(gw.pid);
  const text = 'x'.repeat(3_900);
  // 16 MB is more than loopback's socket buffers hold, so the stalled member ends far over the cap.
  const filling = 4_000;
  await sendAll(fast, text, filling);
  await sleep(1_500); // the gateway finds members over the cap once a second
  const droppedBefore = await metricValue(gw.url, 'chat_backpressure_dropped_total');
  // From then on, every frame the stalled member misses is counted.
  const counted = 500;
  await sendAll(fast, text, counted);
  const got = await messages(fast, 'firehose', filling + counted, 30_000);
  assert.equal(new Set(got.map((m) => m.id)).size, filling + counted, 'the fast member got every message once');
  const dropped = (await metricValue(gw.url, 'chat_backpressure_dropped_total')) - droppedBefore;
  assert.ok(dropped >= counted, `${dropped} drops counted for ${counted} messages sent past a member over the cap`);
  const growthMb = (rss(gw.pid) - rssBefore) / 1024 / 1024;
  const sentMb = ((filling + counted) * 4_000) / 1e6;
  assert.ok(growthMb < 64, `server memory grew ${growthMb.toFixed(1)} MiB for ${sentMb.toFixed(0)} MB sent past a stalled reader`);
});

/** Sends `count` messages with a window of 16 unacknowledged, which keeps the sender's own buffer well under the cap. */
async function sendAll(client: TestClient, text: string, count: number): Promise<void> {
  const acks: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    acks.push(client.request({ type: 'send', room: 'firehose', text }, 30_000));
    if (acks.length >= 16) await acks.shift();
  }
  await Promise.all(acks);
}

function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}
