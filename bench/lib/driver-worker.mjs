// A load-driver process, forked by driver.mjs and commanded over IPC. It holds connections,
// joins rooms, sends at a paced rate from its sender connections, and records the delivery
// latency of every message it receives from the send time embedded in the text, and on request
// the latency of the server's acceptance (ack) of every message it sends. Times come from
// performance.timeOrigin + now(), which agree across processes on one machine to well under 10 µs.
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.mjs';
import { clientClasses } from './clients.mjs';

const clock = () => performance.timeOrigin + performance.now();
const TEXT_PADDING = 'x'.repeat(40);
const STEP_TIMEOUT_MS = 20_000;

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** @type {{client: any, node: number, rooms: string[], sender: boolean}[]} */
let connections = [];
let latency = newLatencyRecord();

function newLatencyRecord() {
  return {
    sameNode: new Histogram(), crossNode: new Histogram(), ack: new Histogram(), ackErrors: 0, firstAckError: null,
    cpuStart: process.cpuUsage(), startMs: clock(),
  };
}

/** Text layout: "<send time ms, 3 decimals> <sender's node index> <padding>". */
function onText(receiverNode, text) {
  const latencyMs = clock() - parseFloat(text);
  const senderNode = text.charCodeAt(text.indexOf(' ') + 1) - 48;
  (senderNode === receiverNode ? latency.sameNode : latency.crossNode).record(latencyMs);
}

async function open({ protocol, specs, concurrency, localAddresses }) {
  const Client = clientClasses[protocol];
  const started = clock();
  let failed = 0;
  let firstError = null;
  let next = 0;
  async function openLoop() {
    while (next < specs.length) {
      const index = next++;
      const spec = specs[index];
      const client = new Client({ url: spec.url, user: spec.user, localAddress: localAddresses[index % localAddresses.length] });
      client.onText = (text) => onText(spec.node, text);
      // A spec names one `room` or several `rooms`; a sender sends to its rooms in turn.
      const rooms = spec.rooms ?? (spec.room ? [spec.room] : []);
      try {
        await withTimeout(client.open(), 'open');
        for (const room of rooms) await withTimeout(client.join(room), 'join');
        connections.push({ client, node: spec.node, rooms, sender: spec.sender });
      } catch (error) {
        failed++;
        firstError ??= String(error?.message ?? error);
        client.close();
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, openLoop));
  return { opened: specs.length - failed, failed, firstError, ms: clock() - started };
}

/** Records the server's answer to a message sent at `sentAt`: its latency, or the refusal. */
function onAck(sentAt, error) {
  if (error) {
    latency.ackErrors++;
    latency.firstAckError ??= String(error.message ?? error);
  } else latency.ack.record(clock() - sentAt);
}

/**
 * Every sender connection sends `ratePerSender` messages/s for `durationMs`, phases spread, to its
 * rooms in turn. With `acked` each send asks for the server's answer and its latency is recorded.
 */
function send({ ratePerSender, durationMs, acked = false }) {
  const senders = connections.filter((c) => c.sender);
  const sent = new Array(senders.length).fill(0);
  const phase = senders.map(() => Math.random());
  const started = clock();
  return new Promise((resolve) => {
    const tick = () => {
      const elapsedMs = clock() - started;
      for (let i = 0; i < senders.length; i++) {
        const due = Math.floor((Math.min(elapsedMs, durationMs) / 1000) * ratePerSender + phase[i]);
        while (sent[i] < due) {
          const { client, node, rooms } = senders[i];
          const now = clock();
          client.send(rooms[sent[i] % rooms.length], `${now.toFixed(3)} ${node} ${TEXT_PADDING}`, acked ? (error) => onAck(now, error) : undefined);
          sent[i]++;
        }
      }
      if (elapsedMs < durationMs) setTimeout(tick, 1);
      else resolve({ sent: sent.reduce((a, b) => a + b, 0) });
    };
    tick();
  });
}

function report() {
  const cpu = process.cpuUsage(latency.cpuStart);
  return {
    sameNode: latency.sameNode.toJSON(),
    crossNode: latency.crossNode.toJSON(),
    ack: latency.ack.toJSON(),
    ackErrors: latency.ackErrors,
    firstAckError: latency.firstAckError,
    windowMs: clock() - latency.startMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

function closeAll() {
  for (const { client } of connections) client.close();
  connections = [];
  return {};
}

const commands = {
  open,
  send,
  reset: () => { latency = newLatencyRecord(); return {}; },
  report,
  close: closeAll,
};

process.on('message', async ({ id, cmd, args }) => {
  try {
    process.send({ id, ok: true, result: await commands[cmd](args) });
  } catch (error) {
    process.send({ id, ok: false, error: String(error?.stack ?? error) });
  }
});
