// Connections: ramp to CONNECTIONS concurrent chat.v1 connections, SOCKETS_PER_VU per VU, spread
// over every TARGET node, hold them with heartbeats, then close. run.sh starts several k6
// processes (SHARD of SHARDS), each with its own loopback source addresses (--local-ips), so that
// no process nears its open-file limit and no source address runs out of ports.
import { Counter, Rate, Trend } from 'k6/metrics';
import exec from 'k6/execution';
import { RUN_ID, setting, targetFor, openChat, sendFrame } from './lib/chat.js';

const SHARD = setting('SHARD', 0, 0);
const SHARDS = setting('SHARDS', 1, 1);
const CONNECTIONS = Math.ceil(setting('CONNECTIONS', 300, 10000) / SHARDS);
const SOCKETS_PER_VU = setting('SOCKETS_PER_VU', 10, 50);
const RAMP_S = setting('RAMP_S', 3, 30);
const HOLD_S = setting('HOLD_S', 4, 60);
const HEARTBEAT_S = setting('HEARTBEAT_S', 1, 20);
const VUS = Math.ceil(CONNECTIONS / SOCKETS_PER_VU);

const connectOk = new Rate('chat_connect_ok');
const welcomeMs = new Trend('chat_welcome_ms', true);
const pongMs = new Trend('chat_pong_ms', true);
const opened = new Counter('chat_connections_opened');
const dropped = new Counter('chat_connections_dropped');

export const options = {
  scenarios: {
    connections: {
      executor: 'per-vu-iterations', vus: VUS, iterations: 1, maxDuration: `${RAMP_S + HOLD_S + 30}s`,
    },
  },
  thresholds: {
    chat_connect_ok: ['rate>0.99'],
    chat_welcome_ms: ['p(95)<1000'],
    chat_pong_ms: ['p(99)<250'],
    chat_connections_dropped: ['count<1'],
  },
};

function holdOne(index, closeAtMs) {
  const user = `c${RUN_ID}_${SHARD}_${index}`;
  const startedMs = Date.now();
  let welcomed = false;
  let closing = false;
  let heartbeat = null;
  const ws = openChat(targetFor(index), user, {
    open() {
      welcomed = true;
      connectOk.add(true);
      opened.add(1);
      welcomeMs.add(Date.now() - startedMs);
      heartbeat = setInterval(() => sendFrame(ws, { type: 'ping', ref: String(Date.now()) }), HEARTBEAT_S * 1000);
      setTimeout(() => { closing = true; clearInterval(heartbeat); ws.close(); }, Math.max(0, closeAtMs - Date.now()));
    },
    pong(frame) {
      pongMs.add(Date.now() - Number(frame.ref));
    },
    close() {
      clearInterval(heartbeat);
      if (!welcomed) connectOk.add(false);
      else if (!closing) dropped.add(1);
    },
  });
}

export default function () {
  const vuIndex = exec.vu.idInTest - 1;
  const testStartMs = exec.scenario.startTime;
  const openAtMs = testStartMs + (vuIndex / VUS) * RAMP_S * 1000;
  const closeAtMs = testStartMs + (RAMP_S + HOLD_S) * 1000;
  setTimeout(() => {
    for (let s = 0; s < SOCKETS_PER_VU; s++) {
      const index = vuIndex * SOCKETS_PER_VU + s;
      if (index < CONNECTIONS) holdOne(index, closeAtMs);
    }
  }, Math.max(0, openAtMs - Date.now()));
}
