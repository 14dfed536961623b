import type { MemoryBus } from './memory-bus.js';
import type { MemoryHistory } from './memory-history.js';

export interface RoomTapListener {
  /** A message stored in `room` with `id`, right after `prev` ('' for the room's first). */
  message(room: string, prev: string, id: string, event: string): void;
  /** A room appeared after the tap started: its first messages may have gone by before it was subscribed. */
  room(room: string): void;
  /** The subscriptions were lost and are back: messages of any room may have been missed meanwhile. */
  resync(): void;
}

/**
 * Every room's messages at once, for a service that must see all rooms (the MQTT bridge's outbound
 * leader) rather than the rooms its members are in. Delivery is at-most-once, as on the bus: each
 * message names the one before it, and `rooms()` lists every room, so a reader that lost traffic
 * compares each log with where it stands (RoomFeed does).
 */
export interface RoomTap {
  start(listener: RoomTapListener): Promise<void>;
  stop(): Promise<void>;
  /** Every room that has a log. */
  rooms(): Promise<string[]>;
  close(): Promise<void>;
}

/** The in-process bus's tap: every message the bus appends, whether or not the room is subscribed. */
export class MemoryRoomTap implements RoomTap {
  private unlisten: (() => void) | undefined;

  constructor(private readonly bus: MemoryBus, private readonly history: MemoryHistory) {}

  async start(listener: RoomTapListener): Promise<void> {
    this.unlisten?.();
    const known = new Set(this.history.roomNames());
    this.unlisten = this.bus.tap((event) => {
      if (event.kind !== 'message') return;
      const { room, id, event: json } = event.message;
      listener.message(room, event.prev, id, json);
      // Announced as the Redis tap does, though nothing can have gone by here.
      if (!known.has(room)) {
        known.add(room);
        listener.room(room);
      }
    });
  }

  async stop(): Promise<void> {
    this.unlisten?.();
    this.unlisten = undefined;
  }

  async rooms(): Promise<string[]> {
    return this.history.roomNames();
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
