import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startGateway } from '@chat/testkit';
import { joined, messages, metricValue, sleep } from './test-helpers.js';

test('a client silent for twice the heartbeat is closed, one that answers pings stays', async () => {
  const gw = await startGateway({ env: { HEARTBEAT_MS: '4000' } });
  const url = `${gw.wsUrl}?user=sleepy`;
  const silent = new WebSocket(url, { autoPong: false });
  const polite = new WebSocket(url.replace('sleepy', 'polite'));
  const started = Date.now();
  const silentClosed = new Promise<number>((done) => silent.once('close', () => done(Date.now() - started)));
  let politeClosed = false;
  polite.once('close', () => (politeClosed = true));
  const elapsed = await silentClosed;
  assert.ok(elapsed >= 6_000 && elapsed <= 16_000, `closed after ${elapsed} ms; heartbeat 4 s`);
  await sleep(2_000);
  assert.equal(politeClosed, false, 'a client answering pings is kept');
  polite.close();
  await gw.stop();
});

test('a slow consumer is capped at MAX_BACKPRESSURE: its frames are dropped and counted, others get everything', async () => {
  const gw = await startGateway({ env: { MAX_BACKPRESSURE: '65536', RATE_LIMIT: '100000' } });
  const { client: fast } = await joined(gw.wsUrl, 'fast', 'firehose');
  const slow = new WebSocket(`${gw.wsUrl}?user=slow`);
  await new Promise((r) => slow.once('open', r));
  slow.send(JSON.stringify({ type: 'join', room: 'firehose' }));
  await new Promise((r) => slow.once('message', r));
  await sleep(200);
  // Stop reading: the kernel's buffers fill, then uWS's buffer for this socket.
  (slow as unknown as { _socket: { pause(): void } })._socket.pause();
  const rssBefore = rss(gw.pid);
  const text = 'x'.repeat(3_900);
  const count = 3_000;
  // A window of 16 unacknowledged sends keeps the fast member's own buffer well under the cap.
  const acks: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    acks.push(fast.request({ type: 'send', room: 'firehose', text }, 30_000));
    if (acks.length >= 16) await acks.shift();
  }
  await Promise.all(acks);
  const got = await messages(fast, 'firehose', count, 30_000);
  assert.equal(new Set(got.map((m) => m.id)).size, count, 'the fast member got every message once');
  await sleep(1_500); // the gateway checks buffers once a second
  const dropped = await metricValue(gw.url, 'chat_backpressure_dropped_total');
  assert.ok(dropped > 0, 'drops to the slow member were counted');
  const growthMb = (rss(gw.pid) - rssBefore) / 1024 / 1024;
  assert.ok(growthMb < 64, `server memory grew ${growthMb.toFixed(1)} MiB for ${((count * 4000) / 1e6).toFixed(0)} MB sent past a stalled reader`);
  slow.terminate();
  await fast.close();
  await gw.stop();
});

function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}
