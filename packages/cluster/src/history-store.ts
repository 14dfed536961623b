import type { RoomMessage } from './bus.js';

export interface HistoryRead {
  /** Oldest first. */
  messages: RoomMessage[];
  /**
   * True when messages after the requested id cannot all be replayed: they were trimmed away, or the
   * log lost them (Redis restarted empty, failed over to a replica that lagged, was flushed). The
   * test is exact: `since` must still be in the log, or be the id right before its oldest entry.
   */
  gap: boolean;
  /** Id of the newest stored message ('' when none): where a reader stands after a gap. */
  tip: string;
}

export interface AfterOptions {
  /**
   * `since` was delivered from this log (a node's feed cursor): if the log no longer holds it, the
   * loss is recorded, so that every later `since` from before it is a gap too (a client that was
   * away through a failover to a lagging replica).
   */
  recordLoss?: boolean;
  /**
   * `since` is a lower bound, not an id that was delivered (the bridge's starting point): the gap is
   * then only what the log is known to have lost after it, trimmed or recorded; a log that begins
   * after the bound, or has none, is whole.
   */
  bound?: boolean;
}

/** Per-room message history, the same log the bus appends to. Bounded by the configured limit. */
export interface HistoryStore {
  /** The newest `count` messages, oldest first. */
  latest(room: string, count: number): Promise<RoomMessage[]>;
  /** Messages with an id greater than `since` ('' for all), oldest first, at most `max`. */
  after(room: string, since: string, max: number, options?: AfterOptions): Promise<HistoryRead>;
  /** Up to `limit` messages older than `before` (the newest when absent), oldest first. */
  before(room: string, before: string | undefined, limit: number): Promise<RoomMessage[]>;
  /** Id of the newest stored message, '' when the room has none. */
  tip(room: string): Promise<string>;
  /**
   * The first `limit` rooms by name that ever stored a message, and whether there are more. For
   * operators (GET /api/rooms): it reads the whole list of rooms, so it is not for the message path.
   */
  rooms(limit: number): Promise<RoomPage>;
}

/** A page of room names, sorted by code unit (names are ASCII), and whether more follow. */
export interface RoomPage {
  rooms: string[];
  more: boolean;
}

/** The first `limit` names of `all` in order, and whether there were more. */
export function firstRooms(all: Iterable<string>, limit: number): RoomPage {
  const sorted = [...all].sort();
  return { rooms: sorted.slice(0, Math.max(0, limit)), more: sorted.length > limit };
}

/** The largest stream id: nothing can come after it. */
export const MAX_ID = '18446744073709551615-18446744073709551615';
