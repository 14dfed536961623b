/**
 * Key and channel names. Everything of one room carries the hash tag `{room}` so a room's keys
 * share a Redis Cluster slot and its Lua scripts stay single-slot.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  roomLog(room: string): string {
    return `${this.prefix}{${room}}:log`;
  }

  /** The id first stored under an idempotency key in `room` (a string with a ttl), in the room's slot. */
  roomOnce(room: string, key: string): string {
    return `${this.prefix}{${room}}:once:${key}`;
  }

  /** The id of the first direct message sent under an idempotency key. */
  directOnce(key: string): string {
    return `${this.prefix}once:${key}`;
  }

  roomChannel(room: string): string {
    return `${this.prefix}{${room}}`;
  }

  roomMembers(room: string): string {
    return `${this.prefix}{${room}}:members`;
  }

  /** The nodes holding `user` in `room` (a set). */
  roomHolders(room: string, user: string): string {
    return `${this.prefix}{${room}}:m:${user}`;
  }

  /** Every node's last heartbeat (a sorted set scored by Redis time). */
  presenceHeartbeats(): string {
    return `${this.prefix}presence:nodes`;
  }

  /** The (room, user) entries a node holds, so they can be reaped when the node dies. */
  presenceEntries(node: string): string {
    return `${this.prefix}presence:node:${node}`;
  }

  /** Every node that holds users, for direct messages (a set). */
  directoryNodes(): string {
    return `${this.prefix}directory:nodes`;
  }

  /** The users with a connection on `node` (a set). */
  directoryUsers(node: string): string {
    return `${this.prefix}directory:node:${node}`;
  }

  /** A node's own channel: direct messages for the users it holds. */
  nodeChannel(node: string): string {
    return `${this.prefix}node:${node}`;
  }
}
