import type { ReadPosition } from '@chat/protocol';

/** What `mark` resolves with: where the marker stands now, and whether this call moved it. */
export interface Marked extends ReadPosition {
  moved: boolean;
}

/**
 * Each user's read marker per room, kept beside the room's history (in the room's hash slot), so
 * every node reads the same. `unread` is counted from a running number every stored message gets,
 * so reading it costs the same whatever the room's size.
 */
export interface ReadMarkers {
  /**
   * The user's marker in `room` (null: never marked) and how many messages were stored after it;
   * with no marker, how many the room's history holds. Rejects with BusUnavailableError.
   */
  position(room: string, user: string): Promise<ReadPosition>;
  /**
   * Moves the user's marker to the newest stored message at or before `id`, never backwards: an id
   * newer than the newest message marks the newest, an id between two messages the older one, and an
   * id older than everything the history still holds (trimmed) leaves the marker where it is.
   * Rejects with BusUnavailableError.
   */
  mark(room: string, user: string, id: string): Promise<Marked>;
}
