// Shared by the k6 scenarios: targets, sizes, and a chat.v1 connection (docs/protocol.md#connect) that
// dispatches frames by type. Latency everywhere is measured from a send time the sender writes
// at the start of the text ("<Date.now()> ..."), read by a receiver in the same VU, so one clock.
import { WebSocket } from 'k6/websockets';

export const TARGETS = (__ENV.TARGET || 'ws://127.0.0.1:8081/ws,ws://127.0.0.1:8082/ws,ws://127.0.0.1:8083/ws')
  .split(',').map((s) => s.trim()).filter(Boolean);

/** SMOKE=1: seconds, not minutes, and a handful of connections; the same thresholds apply. */
export const SMOKE = __ENV.SMOKE === '1';

/** Names unique to this run, so rooms do not replay another run's history. */
export const RUN_ID = __ENV.RUN_ID || 'k6';

/** A number from the environment, or the smoke or full default. */
export function setting(name, smokeDefault, fullDefault) {
  const value = __ENV[name];
  if (value !== undefined && value !== '') return Number(value);
  return SMOKE ? smokeDefault : fullDefault;
}

export function targetFor(index) {
  return TARGETS[index % TARGETS.length];
}

/**
 * Opens a chat.v1 connection as `user`. `handlers` maps a frame type to a callback; `open`
 * (called with the welcome frame), `close` and `error` are the socket's own events.
 */
export function openChat(url, user, handlers) {
  const ws = new WebSocket(`${url}?user=${user}`);
  ws.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    const handler = frame.type === 'welcome' ? handlers.open : handlers[frame.type];
    if (handler) handler(frame);
  };
  ws.onclose = () => handlers.close && handlers.close();
  ws.onerror = (event) => handlers.error && handlers.error(event);
  return ws;
}

export function sendFrame(ws, frame) {
  ws.send(JSON.stringify(frame));
}

/** A text that carries its send time, for latency at the receiver. */
export function timedText(label) {
  return `${Date.now()} ${label}`;
}

export function latencyOf(text) {
  return Date.now() - parseInt(text, 10);
}

/** Runs `fn` every `intervalMs`, `count` times, then `done`. */
export function every(intervalMs, count, fn, done) {
  let runs = 0;
  const timer = setInterval(() => {
    fn(runs);
    runs += 1;
    if (runs >= count) {
      clearInterval(timer);
      if (done) done();
    }
  }, intervalMs);
  return timer;
}
