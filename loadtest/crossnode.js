// Cross-node latency at a fixed rate: PAIRS pairs, each a sender on one node and a receiver on
// the next, in a room of their own; the sender posts RATE messages/s for DURATION_S. Needs two or
// more TARGET nodes to cross nodes (with one, it measures the same path on one node).
import exec from 'k6/execution';
import { RUN_ID, setting, targetFor, sendFrame, timedText, latencyOf, every } from './lib/chat.js';
import { Rate, Trend } from 'k6/metrics';
import { joinRoom, recordDeliveries } from './lib/room.js';

const PAIRS = setting('PAIRS', 2, 10);
const RATE = setting('RATE', 20, 50);
const DURATION_S = setting('DURATION_S', 5, 60);
const GRACE_MS = 2000;

const crossNodeMs = new Trend('chat_crossnode_ms', true);
const delivered = new Rate('chat_crossnode_delivered');

export const options = {
  scenarios: {
    crossnode: { executor: 'per-vu-iterations', vus: PAIRS, iterations: 1, maxDuration: `${DURATION_S + 60}s` },
  },
  thresholds: {
    chat_join_ok: ['rate>0.99'],
    chat_crossnode_delivered: ['rate>0.999'],
    chat_crossnode_ms: ['p(50)<10', 'p(99)<100'],
    chat_errors: ['count<1'],
  },
};

export default function () {
  const pair = exec.vu.idInTest - 1;
  const room = `x${RUN_ID}_${pair}`;
  const seen = new Set();
  const members = [
    { url: targetFor(pair), user: `xs${RUN_ID}_${pair}` },
    {
      url: targetFor(pair + 1),
      user: `xr${RUN_ID}_${pair}`,
      onMessage(frame) {
        crossNodeMs.add(latencyOf(frame.text));
        seen.add(parseInt(frame.text.split(' ')[1], 10));
      },
    },
  ];
  const count = Math.round(RATE * DURATION_S);
  joinRoom(room, members, (sockets) => {
    every(1000 / RATE, count, (seq) => sendFrame(sockets[0], { type: 'send', room, text: timedText(seq) }), () => {
      setTimeout(() => {
        recordDeliveries(delivered, count, [seen]);
        sockets.forEach((ws) => ws.close());
      }, GRACE_MS);
    });
  });
}
