// Row 11 (docs/protocol.md#connect, docs/protocol.md#faults): hostile frames of any shape, seeded (printed, --seed to replay).
// After each frame the driver sends a `ping` with its own ref: every frame must be answered (an
// `error`, or the reply of a frame that happened to be valid) before that pong, or close the
// connection with a documented code (docs/protocol.md#connect, or RFC 6455 for invalid UTF-8). Never
// `unavailable`, never a crash, the gateway stays ready, and its RSS after a settle stays within a
// stated bound of where it started.
import WebSocket from 'ws';
import { RedisNode, ready, sleep, startGateways, totalRss } from '../lib/cluster.mjs';
import { hostileFrames } from '../lib/hostile.mjs';
import { check, rowResult } from '../lib/row.mjs';

/** docs/protocol.md: 1009 over MAX_PAYLOAD; RFC 6455: 1007 invalid UTF-8 in a text frame, 1003 a binary frame. */
const DOCUMENTED_CLOSES = new Set([1003, 1007, 1009]);
/**
 * Invalid UTF-8 in a text frame: RFC 6455 section 8.1 says the endpoint MUST "Fail the WebSocket
 * Connection", which (section 7.1.7) may close TCP without a Close frame: the client then sees 1006.
 * uWebSockets.js does exactly that before the gateway ever sees the frame, so it is allowed there only.
 */
const documented = (kind, code) => DOCUMENTED_CLOSES.has(code) || (kind === 'invalid-utf8' && code === 1006);
const ANSWERS = new Set(['error', 'joined', 'left', 'ack', 'history', 'pong']);
const RSS_GROWTH_MB = 40;

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}?user=fuzzer`, { perMessageDeflate: false, maxPayload: 1 << 24 });
    const frames = [];
    ws.wake = () => {};
    ws.frames = frames;
    ws.on('message', (data) => { try { frames.push(JSON.parse(String(data))); } catch { frames.push({ type: 'unparsable' }); } ws.wake(); });
    ws.on('close', (code) => { ws.closeCode = code; ws.wake(); });
    ws.on('error', reject); // a later error is followed by 'close', which the probe sees
    // Joined before the first probe, so the join's reply is not taken for a probe's answer.
    ws.once('open', () => {
      ws.wake = () => { if (frames.some((f) => f.type === 'joined')) { ws.wake = () => {}; frames.length = 0; resolve(ws); } };
      ws.send('{"type":"join","room":"fuzz"}');
    });
  });
}

/**
 * Sends one frame and its sentinel ping; resolves once the sentinel's pong and an answer to the
 * frame have both come (a reply that needs Redis may come after the pong), on a close, or after 5 s.
 */
function probe(ws, frame, i) {
  ws.frames.length = 0;
  const ref = `sentinel-${i}`;
  const isSentinel = (f) => f.type === 'pong' && f.ref === ref;
  return new Promise((resolve) => {
    const finish = (outcome) => { clearTimeout(timer); ws.wake = () => {}; resolve({ outcome, frames: ws.frames.filter((f) => !isSentinel(f)), code: ws.closeCode }); };
    const timer = setTimeout(() => finish('silent'), 5000);
    ws.wake = () => {
      if (ws.closeCode !== undefined) return finish('closed');
      if (ws.frames.some(isSentinel) && ws.frames.some((f) => !isSentinel(f) && ANSWERS.has(f.type))) finish('answered');
    };
    ws.send(frame.data, { binary: frame.binary });
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping', ref }));
  });
}

export async function hostileFramesRow(opts) {
  const startedAt = Date.now();
  const redis = await new RedisNode().start();
  const [gateway] = await startGateways(redis, 1, { RATE_LIMIT: '100000' });
  const frames = hostileFrames(opts.seed, opts.fuzzFrames);
  const tally = { answered: 0, closes: {}, errors: {}, silent: [], badCloses: [], unavailableFrames: [] };
  let ws;
  try {
    ws = await open(gateway.wsUrl);
    await sleep(500);
    const rssBefore = totalRss([gateway]);
    for (const [i, frame] of frames.entries()) {
      if (ws.readyState !== WebSocket.OPEN) ws = await open(gateway.wsUrl);
      const { outcome, frames: mine, code } = await probe(ws, frame, i);
      for (const f of mine) if (f.type === 'error') tally.errors[f.code] = (tally.errors[f.code] ?? 0) + 1;
      if (mine.some((f) => f.type === 'error' && f.code === 'unavailable')) tally.unavailableFrames.push(`${i}:${frame.kind}`);
      if (outcome === 'closed') {
        tally.closes[code] = (tally.closes[code] ?? 0) + 1;
        if (!documented(frame.kind, code)) tally.badCloses.push(`${i}:${frame.kind}:${code}`);
      } else if (outcome === 'silent') tally.silent.push(`${i}:${frame.kind}`);
      else tally.answered += 1;
    }
    ws.terminate();
    await sleep(3000);
    const rssAfter = totalRss([gateway]);
    const alive = (await ready(gateway)) && gateway.output().match(/FATAL|Uncaught|RangeError/) === null;
    const checks = [
      check('every frame answered or closed with a documented code', tally.silent.length === 0 && tally.badCloses.length === 0, `silent ${tally.silent.slice(0, 5)}; closes ${tally.badCloses.slice(0, 5)}`),
      check('never unavailable', tally.unavailableFrames.length === 0, tally.unavailableFrames.slice(0, 5)),
      check('the gateway stays ready, no crash', alive, gateway.output().slice(-300)),
      check(`gateway RSS within +${RSS_GROWTH_MB} MB after a settle`, rssAfter - rssBefore < RSS_GROWTH_MB, `${rssBefore} -> ${rssAfter} MB`),
    ];
    const summary = { sent: frames.length, acked: tally.answered, unavailable: tally.errors.unavailable ?? 0, recoverMs: -1 };
    return rowResult('hostile-frames', summary, {
      rssBefore, rssAfter, checks, startedAt, extra: { seed: opts.seed, ...tally },
      note: `seed ${opts.seed}; ${frames.length} frames: ${tally.answered} answered, closes ${JSON.stringify(tally.closes)}, errors ${JSON.stringify(tally.errors)}`,
    });
  } finally {
    ws?.terminate();
    await gateway.kill();
    await redis.kill();
  }
}

export { hostileFramesRow as hostileFrames };
