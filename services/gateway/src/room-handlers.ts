import { ErrorCode, compareIds, historyJson, joinedJson, latestMessageJson, type HistoryFrame, type JoinFrame, type LeaveFrame } from '@chat/protocol';
import { isChange, type RoomMessage } from '@chat/cluster';
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
    // A resume hands over the changes themselves; a first join only those its messages do not show yet.
    const items = f.since === undefined ? unapplied(snapshot.history) : snapshot.history;
    s.write(joinedJson(f.room, members, items.map((m) => latestJson(m, s.user)), snapshot.gap, f.ref, read, count));
    if (gw.log.debugEnabled) {
      gw.log.debug('joined room', { room: f.room, user: s.user, conn: s.conn.id, since: f.since ?? null, history: snapshot.history.length, gap: snapshot.gap });
    }
  } catch (error) {
    // Not joined after all; the caller tells the client (unavailable) or closes the connection.
    gw.leaveRoom(s, f.room, 'join_failed');
    throw error;
  }
}

export function leave(gw: Core, s: Session, f: LeaveFrame): void {
  gw.leaveRoom(s, f.room, 'leave');
  gw.reply(s, { type: 'left', room: f.room }, f.ref);
}

export async function history(gw: Core, s: Session, f: HistoryFrame): Promise<void> {
  if (!s.rooms.has(f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before reading its history` }, f.ref);
    return;
  }
  // The decoder has already capped `limit` at HISTORY_PAGE_MAX.
  const messages = await gw.history.before(f.room, f.before, f.limit ?? DEFAULT_HISTORY_PAGE);
  s.write(historyJson(f.room, messages.map((m) => latestJson(m, s.user)), f.ref));
}

/**
 * A stored event as a history reply shows it to `viewer`: a message that was changed in its latest
 * state (with `me` on each reaction for the viewer; '' for nobody), anything else as it was stored.
 * Built per reader, so only for replies to one connection, never for live fan-out.
 */
export function latestJson(message: RoomMessage, viewer: string): string {
  return message.state === undefined ? message.event : latestMessageJson(message.event, message.state, viewer);
}

/**
 * The items without the changes that a message among them already shows (its state's rev is at or
 * after the change): a join's history may end with changes delivered live meanwhile.
 */
function unapplied(items: readonly RoomMessage[]): RoomMessage[] {
  const revs = new Map(items.flatMap((m) => (m.state === undefined ? [] : [[m.id, m.state.rev] as const])));
  return items.filter((m) => {
    if (!isChange(m)) return true;
    const rev = revs.get((JSON.parse(m.event) as { target: string }).target);
    return rev === undefined || compareIds(m.id, rev) > 0;
  });
}
