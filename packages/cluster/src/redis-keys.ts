/**
 * Key and channel names. Everything of one room carries the hash tag `{room}` so a room's keys
 * share a Redis Cluster slot and its Lua scripts stay single-slot.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  roomLog(room: string): string {
    return `${this.prefix}{${room}}:log`;
  }

  /** Id of the newest message trimmed from the room log. */
  roomTrimmed(room: string): string {
    return `${this.prefix}{${room}}:trimmed`;
  }

  roomChannel(room: string): string {
    return `${this.prefix}{${room}}`;
  }

  roomMembers(room: string): string {
    return `${this.prefix}{${room}}:members`;
  }

  /** Prefix of the per-user node sets, completed with the user name inside the presence scripts. */
  roomMemberNodes(room: string): string {
    return `${this.prefix}{${room}}:m:`;
  }

  userChannel(user: string): string {
    return `${this.prefix}user:${user}`;
  }
}
