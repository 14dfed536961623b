import { ErrorCode, historyJson, joinedJson, type HistoryFrame, type JoinFrame, type LeaveFrame } from '@chat/protocol';
import { roomAllowed } from '@chat/runtime';
import type { Core } from './core.js';
import type { Session } from './session.js';

const DEFAULT_HISTORY_PAGE = 50;

export async function join(gw: Core, s: Session, f: JoinFrame): Promise<void> {
  if (!roomAllowed(s.identity.claims?.rooms, f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.Forbidden, message: `your token does not allow room ${f.room}` }, f.ref);
    return;
  }
  // Rooms being joined count too, so a burst of concurrent joins cannot pass the limit.
  // A re-join of a room already joined (a resume with `since`) takes no new place.
  if (!s.rooms.has(f.room) && s.rooms.size >= gw.config.maxRooms) {
    gw.reply(s, { type: 'error', code: ErrorCode.TooManyRooms, message: `at most ${gw.config.maxRooms} rooms per connection; leave one first` }, f.ref);
    return;
  }
  const refusal = await gw.moderation.refuseJoin(s, f.room);
  if (refusal !== undefined) {
    gw.reply(s, { type: 'error', ...refusal }, f.ref);
    return;
  }
  try {
    if (!s.rooms.has(f.room)) await gw.enterRoom(s, f.room);
    // The room's moderation rules are read (and cached here) now, so the member's sends are checked at once.
    const [everyone, read] = await Promise.all([gw.presence.members(f.room), gw.markers.position(f.room, s.user), gw.moderation.rules(f.room)]);
    const { members, count } = gw.roomSizes.joined(everyone);
    // A `leave` may arrive while history is read: attach only if the room is still joined.
    const snapshot = await gw.feed.snapshot(f.room, f.since, gw.config.historyJoin, () => gw.membership.attach(s, f.room));
    if (s.closed || !s.rooms.has(f.room)) return;
    s.write(joinedJson(f.room, members, snapshot.history.map((m) => m.event), snapshot.gap, f.ref, read, count));
  } catch (error) {
    // Not joined after all; the caller tells the client (unavailable) or closes the connection.
    gw.leaveRoom(s, f.room);
    throw error;
  }
}

export function leave(gw: Core, s: Session, f: LeaveFrame): void {
  gw.leaveRoom(s, f.room);
  gw.reply(s, { type: 'left', room: f.room }, f.ref);
}

export async function history(gw: Core, s: Session, f: HistoryFrame): Promise<void> {
  if (!s.rooms.has(f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before reading its history` }, f.ref);
    return;
  }
  // The decoder has already capped `limit` at HISTORY_PAGE_MAX.
  const messages = await gw.history.before(f.room, f.before, f.limit ?? DEFAULT_HISTORY_PAGE);
  s.write(historyJson(f.room, messages.map((m) => m.event), f.ref));
}
