// Device load over MQTT (docs/protocol.md#mqtt), run with Node because mqtt.js is already a dependency
// and no xk6-mqtt build is needed: DEVICES mqtt.js clients post into ROOMS rooms through
// chat/rooms/{room}/send/{device}; MEMBERS WebSocket members per room, spread over the TARGET
// nodes, measure the latency of each device message from the send time in its text and check
// that every member got every message, marked via "mqtt". Writes a k6-style summary export
// (--summary-export PATH) so run.sh reports it like the k6 scenarios; exits 99 when a threshold
// fails, as k6 does.
//
//   MQTT_URL=mqtt://127.0.0.1:1883 TARGET=ws://127.0.0.1:8081/ws node loadtest/devices.mjs
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import mqtt from 'mqtt';

const { values: args } = parseArgs({ options: { 'summary-export': { type: 'string' } } });
const smoke = process.env.SMOKE === '1';
const setting = (name, smokeDefault, fullDefault) => Number(process.env[name] || (smoke ? smokeDefault : fullDefault));
const targets = (process.env.TARGET || 'ws://127.0.0.1:8081/ws,ws://127.0.0.1:8082/ws,ws://127.0.0.1:8083/ws').split(',');
const mqttUrl = process.env.MQTT_URL;
const runId = process.env.RUN_ID || 'dev';
const DEVICES = setting('DEVICES', 4, 200);
const ROOMS = setting('ROOMS', 2, 20);
const MEMBERS = setting('MEMBERS', 4, 10);
const RATE = setting('RATE', 2, 1);
const DURATION_S = setting('DURATION_S', 4, 60);
const GRACE_MS = 2000;
const THRESHOLDS = {
  chat_device_delivered: [['rate>0.999', (m) => m.value > 0.999]],
  chat_device_delivery_ms: [['p(95)<100', (m) => m['p(95)'] < 100], ['p(99)<250', (m) => m['p(99)'] < 250]],
  chat_device_connect_ok: [['rate>0.99', (m) => m.value > 0.99]],
};

if (!mqttUrl) {
  console.error('devices: set MQTT_URL to the broker the bridge uses (npm run cluster prints it)');
  process.exit(2);
}

const roomName = (r) => `d${runId}_${r}`;
const latencies = [];
/** received[room][member] = Set of "device:seq" seen. */
const received = Array.from({ length: ROOMS }, () => Array.from({ length: MEMBERS }, () => new Set()));
let connectOk = 0;
let connectFailed = 0;

function openMember(room, m) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${targets[(room + m) % targets.length]}?user=dm${runId}_${room}_${m}`);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room: roomName(room) }));
      else if (frame.type === 'joined') { connectOk++; resolve(ws); }
      else if (frame.type === 'message' && frame.via === 'mqtt' && frame.room === roomName(room)) {
        const [sentMs, seq] = frame.text.split(' ');
        latencies.push(Date.now() - Number(sentMs));
        received[room][m].add(`${frame.from}:${seq}`);
      }
    });
    ws.on('error', () => { connectFailed++; resolve(null); });
  });
}

function openDevice(d) {
  const device = `dev${runId}_${d}`;
  const client = mqtt.connect(mqttUrl, { clientId: device, clean: true, reconnectPeriod: 0 });
  return new Promise((resolve) => {
    client.once('connect', () => { connectOk++; resolve({ client, device, room: d % ROOMS, sent: 0 }); });
    client.once('error', () => { connectFailed++; client.end(true); resolve(null); });
  });
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null;
}

const members = (await Promise.all(Array.from({ length: ROOMS * MEMBERS }, (_, i) => openMember(i % ROOMS, Math.floor(i / ROOMS))))).filter(Boolean);
const devices = (await Promise.all(Array.from({ length: DEVICES }, (_, d) => openDevice(d)))).filter(Boolean);

const started = Date.now();
// Progress every PROGRESS_S seconds (10), as run.sh reports the k6 scenarios'.
const progressMs = 1000 * Number(process.env.PROGRESS_S || 10);
const progress = setInterval(() => {
  const sent = devices.reduce((sum, dev) => sum + dev.sent, 0);
  const seen = received.flat().reduce((sum, set) => sum + set.size, 0);
  console.log(`devices: ${Math.round((Date.now() - started) / 1000)} s, ${devices.length} devices and ${members.length} members connected, ${sent} posts sent, ${seen} deliveries received`);
}, progressMs);
const timers = devices.map((dev) => setInterval(() => {
  const text = `${Date.now()} ${dev.sent++}`;
  dev.client.publish(`chat/rooms/${roomName(dev.room)}/send/${dev.device}`, JSON.stringify({ text }), { qos: 1 });
}, 1000 / RATE));
await sleep(DURATION_S * 1000);
timers.forEach(clearInterval);
await sleep(GRACE_MS);
clearInterval(progress);

let delivered = 0;
let expected = 0;
for (const dev of devices) {
  for (const seen of received[dev.room]) {
    for (let seq = 0; seq < dev.sent; seq++) {
      expected++;
      if (seen.has(`${dev.device}:${seq}`)) delivered++;
    }
  }
}
// Members that never joined miss every message of their room.
expected += (ROOMS * MEMBERS - members.length) * devices.reduce((a, d) => a + d.sent, 0) / ROOMS;
members.forEach((ws) => ws.close());
devices.forEach((dev) => dev.client.end(true));

latencies.sort((a, b) => a - b);
const metrics = {
  chat_device_delivered: { value: expected ? delivered / expected : 0, passes: delivered, fails: expected - delivered },
  chat_device_delivery_ms: {
    med: percentile(latencies, 50), 'p(95)': percentile(latencies, 95), 'p(99)': percentile(latencies, 99), max: latencies.at(-1) ?? null,
  },
  chat_device_connect_ok: { value: connectOk / (connectOk + connectFailed), passes: connectOk, fails: connectFailed },
};
let failed = false;
for (const [name, checks] of Object.entries(THRESHOLDS)) {
  metrics[name].thresholds = {};
  for (const [expr, ok] of checks) {
    const crossed = !ok(metrics[name]);
    metrics[name].thresholds[expr] = crossed;
    failed ||= crossed;
  }
}
console.log(`devices: ${devices.length} devices, ${members.length} members, ${delivered}/${expected} delivered in ${((Date.now() - started) / 1000).toFixed(1)} s, p99 ${metrics.chat_device_delivery_ms['p(99)']} ms`);
if (args['summary-export']) writeFileSync(args['summary-export'], JSON.stringify({ metrics }, null, 2));
process.exit(failed ? 99 : 0);
