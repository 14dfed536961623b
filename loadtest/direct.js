// Direct messages: PAIRS pairs of users on different nodes; each sender sends RATE directs/s to
// its receiver for DURATION_S. Measures latency to the receiver and counts every direct that
// did not arrive, and every error (user_offline among them).
import exec from 'k6/execution';
import { RUN_ID, setting, targetFor, openChat, sendFrame, timedText, latencyOf, every } from './lib/chat.js';
import { Rate, Trend } from 'k6/metrics';
import { errors, recordDeliveries, JOIN_TIMEOUT_MS } from './lib/room.js';

const PAIRS = setting('PAIRS', 2, 20);
const RATE = setting('RATE', 20, 20);
const DURATION_S = setting('DURATION_S', 5, 60);
const GRACE_MS = 2000;

const directMs = new Trend('chat_direct_ms', true);
const delivered = new Rate('chat_direct_delivered');
const acked = new Rate('chat_direct_acked');

export const options = {
  scenarios: {
    direct: { executor: 'per-vu-iterations', vus: PAIRS, iterations: 1, maxDuration: `${DURATION_S + 60}s` },
  },
  thresholds: {
    chat_direct_delivered: ['rate>0.999'],
    chat_direct_acked: ['rate>0.999'],
    chat_direct_ms: ['p(95)<100', 'p(99)<250'],
    chat_errors: ['count<1'],
  },
};

export default function () {
  const pair = exec.vu.idInTest - 1;
  const receiverName = `dr${RUN_ID}_${pair}`;
  const seen = new Set();
  let acks = 0;
  let welcomed = 0;
  const count = Math.round(RATE * DURATION_S);

  let started = false;
  // Without both welcomes in time the pair sends nothing: every owed direct counts as lost.
  const welcomeTimeout = setTimeout(() => {
    if (started) return;
    for (let i = 0; i < count; i++) { delivered.add(false); acked.add(false); }
    sender.close();
    receiver.close();
  }, JOIN_TIMEOUT_MS);

  function start() {
    started = true;
    clearTimeout(welcomeTimeout);
    every(1000 / RATE, count, (seq) => sendFrame(sender, { type: 'direct', to: receiverName, text: timedText(seq) }), () => {
      setTimeout(() => {
        recordDeliveries(delivered, count, [seen]);
        for (let i = 0; i < count; i++) acked.add(i < acks);
        sender.close();
        receiver.close();
      }, GRACE_MS);
    });
  }
  const onWelcome = () => { welcomed += 1; if (welcomed === 2) start(); };
  const onError = (frame) => errors.add(1, { code: String(frame.code) });

  const receiver = openChat(targetFor(pair + 1), receiverName, {
    open: onWelcome,
    error: onError,
    direct(frame) {
      directMs.add(latencyOf(frame.text));
      seen.add(parseInt(frame.text.split(' ')[1], 10));
    },
  });
  const sender = openChat(targetFor(pair), `ds${RUN_ID}_${pair}`, {
    open: onWelcome,
    error: onError,
    ack() { acks += 1; },
  });
}
