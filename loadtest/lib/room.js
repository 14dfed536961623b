// A room load that the fan-out, cross-node and reconnect scenarios share: open members on
// given nodes, join them all, then run a body once every member has joined.
import { Counter, Rate } from 'k6/metrics';
import { openChat, sendFrame } from './chat.js';

export const joinOk = new Rate('chat_join_ok');
export const errors = new Counter('chat_errors');

/**
 * Opens one connection per entry of `members` ({url, user, onMessage}) and joins `room` on each.
 * Calls `ready(sockets)` once all joined; a failed connect or join counts in chat_join_ok.
 */
export function joinRoom(room, members, ready) {
  const sockets = [];
  let joined = 0;
  members.forEach((member, i) => {
    let isJoined = false;
    const ws = openChat(member.url, member.user, {
      open() { sendFrame(ws, { type: 'join', room }); },
      joined(frame) {
        isJoined = true;
        joinOk.add(true);
        if (member.onJoined) member.onJoined(frame);
        joined += 1;
        if (joined === members.length) ready(sockets);
      },
      message(frame) { if (frame.room === room && member.onMessage) member.onMessage(frame); },
      direct(frame) { if (member.onDirect) member.onDirect(frame); },
      error(frame) { errors.add(1, { code: String(frame.code) }); },
      close() { if (!isJoined) joinOk.add(false); if (member.onClose) member.onClose(); },
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
