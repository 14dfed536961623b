import { compareIds, type ChangeEvent, type ChatMessage, type JoinFrame, type JoinedFrame, type PresenceEvent } from '@chat/protocol';
import { TimeoutError } from './errors.js';
import { asItem } from './server-frames.js';

/** What the application learns when a room is joined, first or again after a reconnect. */
export interface RoomJoined {
  room: string;
  members: string[];
  /**
   * Messages the application has not been handed yet, oldest first: the room's recent history on
   * a first join; on a resume, exactly the messages missed while disconnected. Each in its latest
   * state (edited, a tombstone, reactions).
   */
  history: ChatMessage[];
  /**
   * Edits, deletes and reactions the application has not been handed yet, oldest first: on a
   * resume, those made while disconnected (to messages it has, or to ones in `history`). Apply them
   * after `history` with applyChange, which skips what a message's state already shows.
   */
  changes: ChangeEvent[];
  /** The server no longer keeps everything after the last id seen: some messages are lost to this client. */
  gap: boolean;
  /** A rejoin with `since` = the last id seen: after a reconnect, or from an id the application kept (`join(room, { since })`). */
  resumed: boolean;
  /**
   * This user's read marker of the room (null: none yet) and how many messages follow it (with no
   * marker, how many the room's history holds). Absent when the server did not say: the `joined`
   * it sends unsolicited after a loss of history, or a server without read markers.
   */
  read?: string | null;
  unread?: number;
  /** Set for a large room (counts-only presence): how many members it has; `members` then lists only the first names. */
  count?: number;
}

interface Waiter {
  resolve(joined: RoomJoined): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Room {
  lastId: string | undefined;
  members: Set<string>;
  /** Joined on the current connection. Until then, live messages wait in `early`. */
  joined: boolean;
  everJoined: boolean;
  joinRef: string | undefined;
  early: Array<ChatMessage | ChangeEvent>;
  waiters: Waiter[];
}

/**
 * The rooms the application wants to be in, with what the client has seen of each.
 *
 * Guarantee: per room, messages reach the application in increasing id order and each id at most
 * once while the room stays joined, across any number of reconnects. Ids increase per room
 * (docs/protocol.md#connect), so remembering the last id delivered is enough to drop replays. A message that
 * arrives live before the `joined` reply of a rejoin is held back and merged with the replayed
 * history, so that neither can hide the other. leave() forgets the room: a later join starts afresh.
 */
export class RoomSet {
  readonly #rooms = new Map<string, Room>();

  /**
   * Adds the room; false when it was already there. `since`, an id the application saw before (kept
   * across a page reload), makes the first join a resume: only messages after it are handed over.
   */
  add(name: string, since?: string): boolean {
    if (this.#rooms.has(name)) return false;
    this.#rooms.set(name, {
      lastId: since, members: new Set(), joined: false, everJoined: since !== undefined,
      joinRef: undefined, early: [], waiters: [],
    });
    return true;
  }

  has(name: string): boolean {
    return this.#rooms.has(name);
  }

  isJoined(name: string): boolean {
    return this.#rooms.get(name)?.joined === true;
  }

  names(): string[] {
    return [...this.#rooms.keys()];
  }

  members(name: string): string[] {
    return [...(this.#rooms.get(name)?.members ?? [])].sort();
  }

  lastId(name: string): string | undefined {
    return this.#rooms.get(name)?.lastId;
  }

  /** Resolves at the room's next `joined`; rejects after timeoutMs, but the room stays wanted. */
  waitJoined(name: string, timeoutMs: number): Promise<RoomJoined> {
    const room = this.#rooms.get(name);
    if (room === undefined) return Promise.reject(new Error(`room ${name} is not in the set`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve, reject,
        timer: setTimeout(() => {
          room.waiters = room.waiters.filter((w) => w !== waiter);
          reject(new TimeoutError(`no "joined" for room ${name} within ${timeoutMs} ms; the client keeps trying`));
        }, timeoutMs),
      };
      room.waiters.push(waiter);
    });
  }

  /** The `join` frame for this room now: with `since` once anything was seen, so nothing is replayed twice. */
  joinFrame(name: string, ref: string): JoinFrame {
    const room = this.#require(name);
    room.joinRef = ref;
    return room.lastId === undefined ? { type: 'join', room: name, ref } : { type: 'join', room: name, since: room.lastId, ref };
  }

  /** The connection dropped: every room must be joined again on the next one. */
  disconnected(): void {
    for (const room of this.#rooms.values()) {
      room.joined = false;
      room.joinRef = undefined;
      room.early = [];
    }
  }

  /** Applies a `joined` reply; undefined when the room was left meanwhile. */
  onJoined(frame: JoinedFrame): RoomJoined | undefined {
    const room = this.#rooms.get(frame.room);
    if (room === undefined) return undefined;
    const candidates = [...frame.history.map(asItem), ...room.early].sort((a, b) => compareIds(a.id, b.id));
    const fresh = candidates.filter((m) => advance(room, m));
    const history = fresh.filter((m): m is ChatMessage => m.type === 'message');
    const changes = fresh.filter((m): m is ChangeEvent => m.type !== 'message');
    room.early = [];
    room.joined = true;
    room.joinRef = undefined;
    room.members = new Set(frame.members);
    const joined: RoomJoined = {
      room: frame.room, members: this.members(frame.room), history, changes, gap: frame.gap, resumed: room.everJoined,
      ...(frame.unread === undefined ? {} : { read: frame.read ?? null, unread: frame.unread }),
      ...(frame.count === undefined ? {} : { count: frame.count }),
    };
    room.everJoined = true;
    for (const waiter of room.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(joined);
    }
    return joined;
  }

  /** True when the application should get this message (or change, which shares its ids) now. */
  accept(message: ChatMessage | ChangeEvent): boolean {
    const room = this.#rooms.get(message.room);
    if (room === undefined) return false;
    if (!room.joined) {
      room.early.push(message);
      return false;
    }
    return advance(room, message);
  }

  /** Applies a presence event to the member list; false when the room is not in the set. */
  onPresence(event: PresenceEvent): boolean {
    const room = this.#rooms.get(event.room);
    if (room === undefined) return false;
    if (event.state === 'join') room.members.add(event.user);
    else room.members.delete(event.user);
    return true;
  }

  /** The room whose join in flight has this ref; that join is over (it was answered with an error). */
  takeJoin(ref: string): string | undefined {
    for (const [name, room] of this.#rooms) {
      if (room.joinRef === ref) {
        room.joinRef = undefined;
        return name;
      }
    }
    return undefined;
  }

  /** A join frame is out for this room on the current connection, not yet answered. */
  isJoining(name: string): boolean {
    return this.#rooms.get(name)?.joinRef !== undefined;
  }

  remove(name: string, reason: Error): void {
    const room = this.#rooms.get(name);
    if (room === undefined) return;
    this.#rooms.delete(name);
    for (const waiter of room.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(reason);
    }
  }

  clear(reason: Error): void {
    for (const name of this.names()) this.remove(name, reason);
  }

  #require(name: string): Room {
    const room = this.#rooms.get(name);
    if (room === undefined) throw new Error(`room ${name} is not in the set`);
    return room;
  }
}

/** Moves the room's high-water mark past this message; false for a replay (id <= last seen). */
function advance(room: Room, message: ChatMessage | ChangeEvent): boolean {
  if (room.lastId !== undefined && compareIds(message.id, room.lastId) <= 0) return false;
  room.lastId = message.id;
  return true;
}
