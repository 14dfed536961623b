// Room fan-out: ROOMS rooms of MEMBERS members each, members spread over every TARGET node; one
// member per room sends RATE messages/s for DURATION_S. Every member measures the delivery
// latency of every message, and every (member, message) pair counts as delivered or not.
import exec from 'k6/execution';
import { RUN_ID, setting, targetFor, sendFrame, timedText, latencyOf, every } from './lib/chat.js';
import { Counter, Rate, Trend } from 'k6/metrics';
import { joinRoom, recordDeliveries } from './lib/room.js';

const ROOMS = setting('ROOMS', 2, 20);
const MEMBERS = setting('MEMBERS', 10, 100);
const RATE = setting('RATE', 10, 10);
const DURATION_S = setting('DURATION_S', 5, 60);
const GRACE_MS = 2000;

const deliveryMs = new Trend('chat_delivery_ms', true);
const delivered = new Rate('chat_delivered');
const deliveries = new Counter('chat_deliveries');

export const options = {
  scenarios: {
    fanout: { executor: 'per-vu-iterations', vus: ROOMS, iterations: 1, maxDuration: `${DURATION_S + 60}s` },
  },
  thresholds: {
    chat_join_ok: ['rate>0.99'],
    chat_delivered: ['rate>0.999'],
    chat_delivery_ms: ['p(95)<100', 'p(99)<250'],
    chat_errors: ['count<1'],
  },
};

export default function () {
  const roomIndex = exec.vu.idInTest - 1;
  const room = `f${RUN_ID}_${roomIndex}`;
  const received = Array.from({ length: MEMBERS }, () => new Set());
  const members = received.map((seen, m) => ({
    url: targetFor(m + roomIndex),
    user: `f${RUN_ID}_${roomIndex}_${m}`,
    onMessage(frame) {
      deliveryMs.add(latencyOf(frame.text));
      deliveries.add(1);
      seen.add(parseInt(frame.text.split(' ')[1], 10));
    },
  }));
  const count = Math.round(RATE * DURATION_S);
  joinRoom(room, members, (sockets) => {
    every(1000 / RATE, count, (seq) => sendFrame(sockets[0], { type: 'send', room, text: timedText(seq) }), () => {
      setTimeout(() => {
        recordDeliveries(delivered, count, received);
        sockets.forEach((ws) => ws.close());
      }, GRACE_MS);
    });
  });
}
