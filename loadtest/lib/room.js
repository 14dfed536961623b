// A room load that the fan-out, cross-node and reconnect scenarios share: open members on
// given nodes, join them all, then run a body once every member has joined.
import { Counter, Rate } from 'k6/metrics';
import { openChat, sendFrame } from './chat.js';

export const joinOk = new Rate('chat_join_ok');
export const errors = new Counter('chat_errors');

/** How long every member of a room gets to be welcomed and joined before the load starts. */
export const JOIN_TIMEOUT_MS = 15000;

/**
 * Opens one connection per entry of `members` ({url, user, onMessage}) and joins `room` on each.
 * Calls `ready(sockets)` once all joined, or after JOIN_TIMEOUT_MS with whoever did: a connect or
 * join that failed or never answered counts false in chat_join_ok, and its member then misses
 * every message, which the delivery rates count.
 */
export function joinRoom(room, members, ready) {
  const sockets = [];
  const state = members.map(() => ({ welcomed: false, joined: false, closed: false }));
  let joined = 0;
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    clearTimeout(timeout);
    ready(sockets);
  };
  const timeout = setTimeout(() => {
    state.forEach((s, i) => {
      if (s.joined || s.closed) return;
      joinOk.add(false);
      console.warn(`${members[i].user}: no joined in ${JOIN_TIMEOUT_MS} ms (${s.welcomed ? 'welcomed' : 'no welcome'})`);
    });
    start();
  }, JOIN_TIMEOUT_MS);
  members.forEach((member, i) => {
    const ws = openChat(member.url, member.user, {
      open() {
        state[i].welcomed = true;
        sendFrame(ws, { type: 'join', room });
      },
      joined() {
        state[i].joined = true;
        joinOk.add(true);
        joined += 1;
        if (joined === members.length) start();
      },
      message(frame) { if (frame.room === room && member.onMessage) member.onMessage(frame); },
      error(frame) { errors.add(1, { code: String(frame.code) }); },
      close() {
        if (!state[i].joined && !state[i].closed && !started) joinOk.add(false);
        state[i].closed = true;
      },
    });
    sockets[i] = ws;
  });
  return sockets;
}

/**
 * Per member, one chat_delivered sample per message sent: did it arrive? `received` is a list
 * of Sets of the sequence numbers each member saw.
 */
export function recordDeliveries(rate, sentCount, received) {
  for (const seen of received) {
    for (let seq = 0; seq < sentCount; seq++) rate.add(seen.has(seq));
  }
}
