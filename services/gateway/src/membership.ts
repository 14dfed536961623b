import { roomTopic } from './connection.js';
import type { Session } from './session.js';

interface LocalRoom {
  sessions: Set<Session>;
  /** user -> how many of its connections on this node are in the room */
  users: Map<string, number>;
}

/**
 * Who is connected to this node and in which rooms: the one owner of local membership (sessions,
 * users, rooms, and the uWS topic of each room a session reads). It answers the questions the core
 * turns into cluster-wide effects (first of a user anywhere here, last in a room here), and has
 * none of those effects itself.
 */
export class Membership {
  readonly sessions = new Set<Session>();
  /** user -> its connections here; a direct message is written to each (no uWS topic per user). */
  private readonly users = new Map<string, Session[]>();
  private readonly rooms = new Map<string, LocalRoom>();

  /** Adds a connection; true when it is its user's first on this node. */
  connect(session: Session): boolean {
    this.sessions.add(session);
    const mine = this.users.get(session.user);
    if (mine !== undefined) {
      mine.push(session);
      return false;
    }
    this.users.set(session.user, [session]);
    return true;
  }

  /** Removes a connection that has left its rooms; true when it was its user's last on this node. */
  disconnect(session: Session): boolean {
    this.sessions.delete(session);
    const mine = (this.users.get(session.user) ?? []).filter((other) => other !== session);
    if (mine.length > 0) {
      this.users.set(session.user, mine);
      return false;
    }
    this.users.delete(session.user);
    return true;
  }

  connectionsOf(user: string): readonly Session[] {
    return this.users.get(user) ?? [];
  }

  /** The users with a connection in `room` on this node. */
  usersIn(room: string): string[] {
    return [...(this.rooms.get(room)?.users.keys() ?? [])];
  }

  /** The connections in `room` on this node. */
  sessionsIn(room: string): ReadonlySet<Session> {
    return this.rooms.get(room)?.sessions ?? new Set();
  }

  /** Rooms with at least one member here. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Makes `session` a member of `room` here (not yet reading it: see attach); true when it is its user's first there. */
  enter(session: Session, room: string): boolean {
    session.addRoom(room);
    let local = this.rooms.get(room);
    if (local === undefined) this.rooms.set(room, (local = { sessions: new Set(), users: new Map() }));
    local.sessions.add(session);
    const count = local.users.get(session.user) ?? 0;
    local.users.set(session.user, count + 1);
    return count === 0;
  }

  /** From now on the session reads the room's live messages, unless it left the room meanwhile. */
  attach(session: Session, room: string): void {
    if (session.rooms.has(room)) session.conn.subscribe(roomTopic(room));
  }

  /** Ends a membership; undefined when there was none, else whether it was the last here and the user's last here. */
  exit(session: Session, room: string): { lastInRoom: boolean; lastOfUser: boolean } | undefined {
    if (!session.deleteRoom(room)) return undefined;
    session.conn.unsubscribe(roomTopic(room));
    const local = this.rooms.get(room);
    if (local === undefined || !local.sessions.delete(session)) return { lastInRoom: false, lastOfUser: false };
    const count = (local.users.get(session.user) ?? 1) - 1;
    if (count === 0) local.users.delete(session.user);
    else local.users.set(session.user, count);
    const lastInRoom = local.sessions.size === 0;
    if (lastInRoom) this.rooms.delete(room);
    return { lastInRoom, lastOfUser: count === 0 };
  }
}
