import type { Session } from './session.js';

interface LocalRoom {
  sessions: Set<Session>;
  /** user -> how many of its connections on this node are in the room */
  users: Map<string, number>;
}

/** Which local connections are in which rooms; tells the core when a room or a user's presence starts and ends here. */
export class LocalRooms {
  private readonly rooms = new Map<string, LocalRoom>();

  add(room: string, session: Session): { firstOfUser: boolean } {
    let local = this.rooms.get(room);
    if (local === undefined) this.rooms.set(room, (local = { sessions: new Set(), users: new Map() }));
    local.sessions.add(session);
    const count = local.users.get(session.user) ?? 0;
    local.users.set(session.user, count + 1);
    return { firstOfUser: count === 0 };
  }

  remove(room: string, session: Session): { lastInRoom: boolean; lastOfUser: boolean } {
    const local = this.rooms.get(room);
    if (local === undefined || !local.sessions.delete(session)) return { lastInRoom: false, lastOfUser: false };
    const count = (local.users.get(session.user) ?? 1) - 1;
    if (count === 0) local.users.delete(session.user);
    else local.users.set(session.user, count);
    const lastInRoom = local.sessions.size === 0;
    if (lastInRoom) this.rooms.delete(room);
    return { lastInRoom, lastOfUser: count === 0 };
  }

  get size(): number {
    return this.rooms.size;
  }
}
