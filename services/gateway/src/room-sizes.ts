import { MEMBERS_PAGE_DEFAULT, presenceCountJson, type PresenceState } from '@chat/protocol';
import type { PresenceStore } from '@chat/cluster';

interface Size {
  /** Members cluster-wide as this node knows it: read from the store, moved by each presence event since. */
  count: number;
  /** The count last written to the members here, while the room is (or just stopped being) large. */
  told: number | undefined;
}

/**
 * Large rooms: above `largeRoom` members (cluster-wide) a room's presence is counts only. Each node
 * drops the per-user `presence` frames of such a room and, every PRESENCE_COUNT_INTERVAL_MS, tells its
 * own members the room's count when it changed, so a room of any size costs each member at most one
 * presence frame per interval. Every node reads the same count from the presence store, so members on
 * different nodes agree within one interval.
 *
 * Per room with members here, the count is read once when the room opens here and moved by each
 * presence event; each tick reads it again for the rooms at or above half the threshold (the only
 * ones where a drift could matter), so the store is not read for every small room.
 */
export class RoomSizes {
  private readonly rooms = new Map<string, Size>();

  constructor(
    private readonly presence: PresenceStore,
    readonly largeRoom: number,
    private readonly publish: (room: string, json: string) => void,
  ) {}

  /** The room opened here (its first member); the count is read after this node hears its events. */
  async open(room: string): Promise<void> {
    const count = await this.presence.count(room);
    if (!this.rooms.has(room)) this.rooms.set(room, { count, told: undefined });
  }

  close(room: string): void {
    this.rooms.delete(room);
  }

  /** A per-user presence event of the room: false when the room is large and the frame is not written. */
  admit(room: string, state: PresenceState): boolean {
    const size = this.rooms.get(room);
    if (size === undefined) return true;
    size.count = Math.max(0, size.count + (state === 'join' ? 1 : -1));
    return size.count <= this.largeRoom && size.told === undefined;
  }

  /** What `joined.members` holds: every name, sorted, or in a large room the first `largeRoom` of them with the count. */
  joined(members: string[]): { members: string[]; count?: number } {
    members.sort();
    if (members.length <= this.largeRoom) return { members };
    return { members: members.slice(0, this.largeRoom), count: members.length };
  }

  /** A page of members, sorted by name, those after `after`; `next` is the `after` of the next page. */
  async page(room: string, after: string | undefined, limit = MEMBERS_PAGE_DEFAULT): Promise<{ members: string[]; next?: string }> {
    const all = (await this.presence.members(room)).sort();
    const from = after === undefined ? 0 : sortedIndexAfter(all, after);
    const members = all.slice(from, from + limit);
    return from + limit < all.length ? { members, next: members[members.length - 1]! } : { members };
  }

  /** One interval: refresh the counts that matter and tell each large room's members here its count, if it changed. */
  async tick(): Promise<void> {
    const due = [...this.rooms].filter(([, size]) => size.told !== undefined || size.count * 2 >= this.largeRoom);
    const counts = await Promise.allSettled(due.map(([room]) => this.presence.count(room)));
    due.forEach(([room, size], i) => {
      const read = counts[i]!;
      if (read.status === 'fulfilled' && this.rooms.get(room) === size) size.count = read.value;
      const large = size.count > this.largeRoom;
      if (!large && size.told === undefined) return;
      if (size.count !== size.told) this.publish(room, presenceCountJson(room, size.count));
      // Back at or below the threshold: the count just written was the last; per-user events resume.
      size.told = large ? size.count : undefined;
    });
  }
}

/** The index of the first name after `after` in a sorted list. */
function sortedIndexAfter(sorted: string[], after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
