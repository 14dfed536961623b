import { ErrorCode, readJson, receiptJson, typingJson, type ReadFrame, type TypingFrame } from '@chat/protocol';
import type { Core } from './core.js';
import type { Session } from './session.js';

/**
 * Typing indicators: relayed through the bus to the room's other members on every node, never
 * stored. At most one per connection and room within TYPING_INTERVAL_MS goes out (the rest are
 * dropped without a reply: the client repeats them anyway); a stop always goes, as ttl 0.
 */
export async function typing(gw: Core, s: Session, f: TypingFrame): Promise<void> {
  if (!s.rooms.has(f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before typing in it` }, f.ref);
    return;
  }
  const stop = f.state === 'stop';
  if (stop) s.typingStopped(f.room);
  else if (!s.typingDue(f.room, Date.now(), gw.config.typingIntervalMs)) return;
  await gw.bus.signal(f.room, typingJson(f.room, s.user, stop ? 0 : gw.config.typingTtlMs), s.user);
  gw.metrics.typing();
}

/**
 * Moves the user's read marker forward and answers where it stands. When it moved, the user's other
 * connections on every node get the same `read` (so all tabs agree), and with READ_RECEIPTS the
 * room's other members a `receipt`.
 */
export async function read(gw: Core, s: Session, f: ReadFrame): Promise<void> {
  if (!s.rooms.has(f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before marking it read` }, f.ref);
    return;
  }
  const { id, unread, moved } = await gw.markers.mark(f.room, s.user, f.id);
  gw.reply(s, { type: 'read', room: f.room, id, unread }, f.ref);
  if (!moved || id === null) return;
  gw.metrics.readMarker();
  // The marker is stored and the reader answered: a failed fan-out is logged, not an error of this
  // frame. The other connections read the marker at their next join.
  const spread = [gw.bus.sync(s.user, readJson(f.room, { id, unread }), s.conn.id)];
  if (gw.config.readReceipts) spread.push(gw.bus.signal(f.room, receiptJson(f.room, s.user, id), s.user));
  for (const outcome of await Promise.allSettled(spread)) {
    if (outcome.status === 'rejected') gw.log.warn('a read marker moved but could not be passed on', { room: f.room, error: outcome.reason });
  }
}
