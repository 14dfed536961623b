/**
 * Bridge latency and throughput on this machine (not a test; bounded to about a minute):
 *   npm run build && node services/mqtt-bridge/dist/bench/latency.js
 * Starts Redis, Mosquitto (deploy ACL), one gateway and one bridge, then measures
 *   - device -> browser: mqtt.js device publish (QoS 1) until the WebSocket client has the message,
 *   - browser -> device: WebSocket `send` until the MQTT subscriber has the message,
 * each at a steady RATE per second, and the most messages per second one bridge carries each way.
 * The device leaves Nagle's algorithm on, as plain mqtt.js and most device stacks do (DEVICE_NODELAY=1
 * turns it off, as the test devices do), so the figures are those of devices as they come.
 */
import { connectClient, startGateway } from '@chat/testkit';
import { connectDevice } from '../testing/device.js';
import { bridgeProcess, chatSide, connected, startPeers, uniquePrefix } from '../testing/harness.js';

const N = Number(process.env.N ?? 1000);
const RATE = Number(process.env.RATE ?? 200);
const BURST = Number(process.env.BURST ?? 5000);
const DEVICE_NODELAY = process.env.DEVICE_NODELAY === '1';

// The queue limits of deploy/mosquitto/mosquitto.conf (Mosquitto's default queue of 1000 would drop a burst).
const peers = await startPeers('max_inflight_messages 100\nmax_queued_messages 10000\n');
const prefix = uniquePrefix();
const gateway = await startGateway({ redisUrl: peers.redis.url, env: { REDIS_PREFIX: prefix, RATE_LIMIT: '100000' } });
const bridge = await bridgeProcess(peers, prefix, { LEADER_LEASE_MS: '5000', PRESENCE_TTL_SECONDS: '20' });
const chat = chatSide(peers, prefix);
await connected(chat);
const browser = await connectClient(gateway.wsUrl, { user: 'browser' });
await browser.request({ type: 'join', room: 'bench' });
const device = await connectDevice(peers.broker.url, 'bench-device', { noDelay: DEVICE_NODELAY });
await device.subscribe('chat/rooms/bench/messages');
await new Promise((r) => setTimeout(r, 1500)); // let the leader take up its duties

const now = () => performance.now();
try {
  // device -> browser
  const d2b: number[] = [];
  const sentAt = new Map<string, number>();
  browser.ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as { type: string; text?: string };
    const t = f.type === 'message' && f.text !== undefined ? sentAt.get(f.text) : undefined;
    if (t !== undefined) d2b.push(now() - t);
  });
  await paced(N, RATE, (i) => {
    sentAt.set(`d${i}`, now());
    void device.client.publishAsync('chat/rooms/bench/send/bench-device', `d${i}`, { qos: 1 });
  });
  await until(() => d2b.length >= N, 20_000, `device->browser ${d2b.length}/${N}`);

  // browser -> device
  const b2d: number[] = [];
  device.client.on('message', (_topic, payload) => {
    const text = (JSON.parse(payload.toString()) as { text: string }).text;
    const t = text.startsWith('b') ? sentAt.get(text) : undefined;
    if (t !== undefined) b2d.push(now() - t);
  });
  await paced(N, RATE, (i) => {
    sentAt.set(`b${i}`, now());
    browser.send({ type: 'send', room: 'bench', text: `b${i}` });
  });
  await until(() => b2d.length >= N, 20_000, `browser->device ${b2d.length}/${N}`);

  // throughput device -> chat: a burst of QoS 1 posts, until the browser has them all
  let inCount = 0;
  browser.ws.on('message', (data) => { if (String(data).includes('"text":"x')) inCount++; });
  let start = now();
  for (let i = 0; i < BURST; i++) void device.client.publishAsync('chat/rooms/bench/send/bench-device', `x${i}`, { qos: 1 });
  await until(() => inCount >= BURST, 60_000, `burst in ${inCount}/${BURST}`);
  const inRate = BURST / ((now() - start) / 1000);

  // throughput chat -> MQTT: a burst published on the bus, until the device has them all
  let outCount = 0;
  device.client.on('message', (_t, payload) => { if (payload.includes('"text":"y')) outCount++; });
  start = now();
  for (let i = 0; i < BURST; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => chat.bus.publish({ room: 'bench', from: 'load', text: `y${i + j}`, ts: Date.now(), receivedAt: Date.now() })));
  }
  await until(() => outCount >= BURST, 60_000, `burst out ${outCount}/${BURST}`);
  const outRate = BURST / ((now() - start) / 1000);

  process.stdout.write(`${JSON.stringify({
    messages: N, ratePerSecond: RATE, deviceNagle: !DEVICE_NODELAY,
    deviceToBrowserMs: summary(d2b), browserToDeviceMs: summary(b2d),
    burst: BURST, deviceToChatPerSecond: Math.round(inRate), chatToMqttPerSecond: Math.round(outRate),
  }, null, 2)}\n`);
} finally {
  await device.end().catch(() => undefined);
  await browser.close();
  await chat.close();
  await bridge.stop();
  await gateway.stop();
  await peers.stop();
}

async function paced(count: number, perSecond: number, send: (i: number) => void): Promise<void> {
  const start = now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    send(i);
  }
}

async function until(done: () => boolean, timeoutMs: number, what = ''): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (now() > deadline) throw new Error(`bench timed out ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function summary(samples: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2));
  return { p50: at(0.5), p99: at(0.99), max: Number(sorted.at(-1)!.toFixed(2)) };
}
