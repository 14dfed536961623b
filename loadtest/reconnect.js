// Reconnect storm: in each of ROOMS rooms, MOVERS members sit on node VICTIM and one sender, who
// also witnesses every id, sits on another node. At STORM_AT_S all movers of every room drop their
// connections at once (as when their node dies) and reconnect to the other nodes, resuming with
// join + since = the last id they saw. When the sending stops, each mover's ids are compared with
// the witness's: any id missing is lost, any id received twice is a duplicate.
import exec from 'k6/execution';
import { TARGETS, RUN_ID, setting, targetFor, openChat, sendFrame, timedText, every } from './lib/chat.js';
import { Counter, Rate, Trend } from 'k6/metrics';
import { joinOk, errors, JOIN_TIMEOUT_MS } from './lib/room.js';

const ROOMS = setting('ROOMS', 2, 10);
const MOVERS = setting('MOVERS', 5, 50);
const RATE = setting('RATE', 10, 20);
const DURATION_S = setting('DURATION_S', 6, 40);
const STORM_AT_S = setting('STORM_AT_S', 2, 15);
const VICTIM = setting('VICTIM', 0, 0);
const GRACE_MS = 3000;

const lost = new Counter('chat_resume_lost');
const duplicates = new Counter('chat_resume_duplicates');
const gaps = new Rate('chat_resume_gap');
const reconnectMs = new Trend('chat_reconnect_ms', true);

export const options = {
  scenarios: {
    reconnect: { executor: 'per-vu-iterations', vus: ROOMS, iterations: 1, maxDuration: `${DURATION_S + 60}s` },
  },
  thresholds: {
    chat_join_ok: ['rate>0.99'],
    chat_resume_lost: ['count<1'],
    chat_resume_duplicates: ['count<1'],
    chat_resume_gap: ['rate<0.001'],
    chat_reconnect_ms: ['p(95)<2000'],
    chat_errors: ['count<1'],
  },
};

/** A node other than the victim for the m-th mover, or the victim itself when it is the only one. */
function survivorFor(m) {
  return TARGETS.length > 1 ? targetFor(VICTIM + 1 + (m % (TARGETS.length - 1))) : targetFor(VICTIM);
}

/** One mover: a connection that can be replaced, and every id it has seen across connections. */
function mover(room, user, onReady) {
  const state = { ids: new Set(), lastId: undefined, ws: null, duplicates: 0 };
  const see = (id) => {
    if (state.ids.has(id)) state.duplicates += 1;
    state.ids.add(id);
    state.lastId = id;
  };
  state.connect = (url, onJoined) => {
    let isJoined = false;
    const ws = openChat(url, user, {
      open() { sendFrame(ws, state.lastId ? { type: 'join', room, since: state.lastId } : { type: 'join', room }); },
      joined(frame) {
        isJoined = true;
        joinOk.add(true);
        if (state.lastId) gaps.add(frame.gap);
        frame.history.forEach((m) => see(m.id));
        onJoined();
      },
      // A dropped connection may still hand over frames after close(): only the current one counts.
      message(frame) { if (frame.room === room && state.ws === ws) see(frame.id); },
      error(frame) { errors.add(1, { code: String(frame.code) }); },
      close() { if (!isJoined) joinOk.add(false); },
    });
    state.ws = ws;
  };
  state.connect(targetFor(VICTIM), onReady);
  return state;
}

export default function () {
  const roomIndex = exec.vu.idInTest - 1;
  const room = `s${RUN_ID}_${roomIndex}`;
  const witnessIds = new Set();
  const count = Math.round(RATE * DURATION_S);
  let ready = 0;
  const movers = [];

  const start = () => {
    every(1000 / RATE, count, (seq) => sendFrame(sender, { type: 'send', room, text: timedText(seq) }), () => {
      setTimeout(finish, GRACE_MS);
    });
    setTimeout(storm, STORM_AT_S * 1000);
  };
  let started = false;
  const startOnce = () => {
    if (started) return;
    started = true;
    clearTimeout(joinTimeout);
    start();
  };
  const onReady = () => { ready += 1; if (ready === MOVERS + 1) startOnce(); };
  // A member never joined counts as a failed join; a mover among them then loses every id.
  const joinTimeout = setTimeout(() => {
    for (let i = ready; i < MOVERS + 1; i++) joinOk.add(false);
    startOnce();
  }, JOIN_TIMEOUT_MS);

  function storm() {
    movers.forEach((m, i) => {
      const droppedAt = Date.now();
      m.ws.close();
      m.connect(survivorFor(i), () => reconnectMs.add(Date.now() - droppedAt));
    });
  }

  function finish() {
    for (const m of movers) {
      let missing = 0;
      for (const id of witnessIds) if (!m.ids.has(id)) missing += 1;
      lost.add(missing);
      duplicates.add(m.duplicates);
      m.ws.close();
    }
    sender.close();
  }

  const sender = openChat(survivorFor(roomIndex), `sw${RUN_ID}_${roomIndex}`, {
    open() { sendFrame(sender, { type: 'join', room }); },
    joined() { joinOk.add(true); onReady(); },
    message(frame) { if (frame.room === room) witnessIds.add(frame.id); },
    error(frame) { errors.add(1, { code: String(frame.code) }); },
  });
  for (let i = 0; i < MOVERS; i++) movers.push(mover(room, `sm${RUN_ID}_${roomIndex}_${i}`, onReady));
}
