// A driver thread of bench/chat-costs.mjs (worker_threads): holds its share of one room's members,
// alternating the gateways, and on command makes some of them type or react while all of them count
// what they receive. Typing frames carry no time, so a typist writes the time of each `typing` it
// sends into a buffer shared by all threads, and a receiver reads its latency as now minus the last
// send of that user: exact while a relay arrives before the typist's next frame (TYPING_EVERY_MS).
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Histogram } from './histogram.mjs';

const clock = () => performance.timeOrigin + performance.now();
const TYPING = Buffer.from('"type":"typing"');
const REACTION = Buffer.from('"type":"reaction"');
const USER_FIELD = Buffer.from('"user":"m');
const EMOJI = ['👍', '🎉', '👀'];
const STEP_TIMEOUT_MS = 20_000;

const { urls, first, count, room, sentAt } = workerData;
/** Time of each member's last `typing` frame, indexed by member number, written by its own thread. */
const lastTyping = new Float64Array(sentAt);
/** @type {{n: number, ws: WebSocket, onReply: Map<string, (frame: object) => void>}[]} */
const members = [];
let tally = newTally();

function newTally() {
  return { typingFrames: 0, reactionFrames: 0, typingLatency: new Histogram(), ackLatency: new Histogram(), acked: 0, unchanged: 0, refused: 0, firstRefusal: null };
}

function request(member, frame) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${frame.type} of m${member.n}: no answer in ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
    member.onReply.set(frame.ref, (reply) => { clearTimeout(timer); resolve(reply); });
    member.ws.send(JSON.stringify(frame));
  });
}

function onFrame(member, data) {
  if (data.indexOf(TYPING) !== -1) {
    tally.typingFrames++;
    const at = data.indexOf(USER_FIELD) + USER_FIELD.length;
    const typist = parseInt(data.toString('latin1', at, at + 8), 10);
    tally.typingLatency.record(clock() - lastTyping[typist]);
    return;
  }
  if (data.indexOf(REACTION) !== -1) {
    tally.reactionFrames++;
    return;
  }
  const frame = JSON.parse(data.toString());
  if (frame.ref !== undefined) {
    const settle = member.onReply.get(frame.ref);
    member.onReply.delete(frame.ref);
    settle?.(frame);
  }
}

async function open() {
  for (let i = 0; i < count; i++) {
    const n = first + i;
    const ws = new WebSocket(`${urls[n % urls.length]}?user=m${n}`, { perMessageDeflate: false });
    const member = { n, ws, onReply: new Map() };
    await new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', resolve);
    });
    ws.on('message', (data) => onFrame(member, data));
    const joined = await request(member, { type: 'join', room, ref: 'join' });
    if (joined.type !== 'joined') throw new Error(`m${n} could not join ${room}: ${JSON.stringify(joined)}`);
    members.push(member);
  }
  return { opened: members.length };
}

/** Member `n` sends `texts` messages and answers their ids (the targets of the reactions). */
async function seed({ n, texts }) {
  const member = members.find((m) => m.n === n);
  const ids = [];
  for (let i = 0; i < texts; i++) {
    const reply = await request(member, { type: 'send', room, text: `target ${i}`, ref: `seed${i}` });
    if (reply.type !== 'ack') throw new Error(`seed message refused: ${JSON.stringify(reply)}`);
    ids.push(reply.id);
  }
  return { ids };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Each typist sends `typing` every `everyMs` and a stop every `stopEveryMs` (phases spread), for `durationMs`. */
async function type({ typists, durationMs, everyMs, stopEveryMs }) {
  const mine = members.filter((m) => typists.includes(m.n));
  const end = Date.now() + durationMs;
  await Promise.all(mine.map(async (m) => {
    await sleep(Math.random() * everyMs);
    let nextStop = Date.now() + Math.random() * stopEveryMs;
    while (Date.now() < end) {
      const stop = Date.now() >= nextStop;
      if (stop) nextStop += stopEveryMs;
      lastTyping[m.n] = clock();
      m.ws.send(stop ? `{"type":"typing","room":"${room}","state":"stop"}` : `{"type":"typing","room":"${room}"}`);
      await sleep(everyMs);
    }
  }));
  return {};
}

/**
 * Each reactor toggles one of EMOJI on the target messages in turn, `ratePerSec` a second, waiting
 * for each ack: it remembers what it set, so every toggle changes something and is stored.
 */
async function react({ reactors, ids, durationMs, ratePerSec }) {
  const mine = members.filter((m) => reactors.includes(m.n));
  const end = Date.now() + durationMs;
  const everyMs = 1000 / ratePerSec;
  await Promise.all(mine.map(async (m) => {
    const on = new Set();
    let k = 0;
    let due = Date.now() + Math.random() * everyMs;
    while (due < end) {
      await sleep(due - Date.now());
      due += everyMs;
      const id = ids[k % ids.length];
      const emoji = EMOJI[Math.floor(k / ids.length) % EMOJI.length];
      const key = `${id} ${emoji}`;
      const want = !on.has(key);
      const ref = `r${k++}`;
      const sent = clock();
      const reply = await request(m, { type: 'react', room, id, emoji, on: want, ref });
      if (reply.type === 'ack') {
        tally.ackLatency.record(clock() - sent);
        if (reply.unchanged) tally.unchanged++;
        else tally.acked++;
        if (want) on.add(key);
        else on.delete(key);
      } else {
        tally.refused++;
        tally.firstRefusal ??= JSON.stringify(reply);
      }
    }
  }));
  return {};
}

function report() {
  const { typingLatency, ackLatency, ...counts } = tally;
  return { ...counts, typingLatency: typingLatency.toJSON(), ackLatency: ackLatency.toJSON() };
}

function close() {
  for (const m of members) m.ws.terminate();
  return {};
}

const commands = { open, seed, type, react, report, close, reset: () => { tally = newTally(); return {}; } };

parentPort.on('message', async ({ id, cmd, args }) => {
  try {
    parentPort.postMessage({ id, ok: true, result: await commands[cmd](args) });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: String(error?.stack ?? error) });
  }
});
