import { compareIds, type ReadPosition } from '@chat/protocol';
import type { MemoryHistory, Numbered } from './memory-history.js';
import type { Marked, ReadMarkers } from './read-markers.js';

/** In-process read markers over MemoryHistory's running numbers, with the Redis script's rules. */
export class MemoryReadMarkers implements ReadMarkers {
  /** room -> user -> marker */
  private readonly markers = new Map<string, Map<string, Numbered>>();

  constructor(private readonly history: MemoryHistory) {}

  async position(room: string, user: string): Promise<ReadPosition> {
    return this.positionOf(room, this.markers.get(room)?.get(user));
  }

  async mark(room: string, user: string, id: string): Promise<Marked> {
    const current = this.markers.get(room)?.get(user);
    const target = this.history.atOrBefore(room, id);
    if (target === undefined || (current !== undefined && compareIds(target.id, current.id) <= 0)) {
      return { ...this.positionOf(room, current), moved: false };
    }
    let users = this.markers.get(room);
    if (users === undefined) this.markers.set(room, (users = new Map()));
    users.set(user, target);
    return { ...this.positionOf(room, target), moved: true };
  }

  private positionOf(room: string, marker: Numbered | undefined): ReadPosition {
    const { stored, held } = this.history.counts(room);
    if (marker === undefined) return { id: null, unread: held };
    return { id: marker.id, unread: Math.max(0, stored - marker.n) };
  }
}
