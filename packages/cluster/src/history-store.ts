import type { RoomMessage } from './bus.js';

export interface HistoryRead {
  /** Oldest first. */
  messages: RoomMessage[];
  /** True when messages after the requested id were trimmed away and cannot be replayed. */
  gap: boolean;
}

/** Per-room message history, the same log the bus appends to. Bounded by the configured limit. */
export interface HistoryStore {
  /** The newest `count` messages, oldest first. */
  latest(room: string, count: number): Promise<RoomMessage[]>;
  /** Messages with an id greater than `since` ('' for all), oldest first, at most `max`. */
  after(room: string, since: string, max: number): Promise<HistoryRead>;
  /** Up to `limit` messages older than `before` (the newest when absent), oldest first. */
  before(room: string, before: string | undefined, limit: number): Promise<RoomMessage[]>;
  /** Id of the newest stored message, '' when the room has none. */
  tip(room: string): Promise<string>;
}
