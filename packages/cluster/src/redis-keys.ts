/**
 * Key and channel names. Each carries a hash tag naming what it belongs to, so that everything a
 * script touches shares one Redis Cluster slot: every key of one room (`{room}`: its log, presence,
 * idempotency keys and channel), the directory entry of one user (`{user}`), the channel of one node.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  roomLog(room: string): string {
    return `${this.prefix}{${room}}:log`;
  }

  /** The id of the log's newest message, written with every append (see the chatPublish script). */
  roomTip(room: string): string {
    return `${this.prefix}{${room}}:tip`;
  }

  /** The newest id that survived a loss of the log's later messages (a failover to a lagging replica). */
  roomLost(room: string): string {
    return `${this.prefix}{${room}}:lost`;
  }

  /** The id first stored under an idempotency key in `room` (a string with a ttl), in the room's slot. */
  roomOnce(room: string, key: string): string {
    return `${this.prefix}{${room}}:once:${key}`;
  }

  /** The running number of the room's messages (a counter the append script INCRs), never trimmed. */
  roomSerial(room: string): string {
    return `${this.prefix}{${room}}:serial`;
  }

  /** The users' read markers in `room` (a hash: user -> `<id> <n>`, n the message's running number). */
  roomRead(room: string): string {
    return `${this.prefix}{${room}}:read`;
  }

  /** The latest state of the room's changed messages (a hash: message id -> JSON, see message-state.ts). */
  roomState(room: string): string {
    return `${this.prefix}{${room}}:state`;
  }

  // ---- moderation (redis-moderation.ts) ----

  /** The room's bans (a hash: user -> `<until> <reason>`, until epoch ms or 0 for no end). */
  roomBans(room: string): string {
    return `${this.prefix}{${room}}:bans`;
  }

  /** The room's mutes, as its bans. */
  roomMutes(room: string): string {
    return `${this.prefix}{${room}}:mutes`;
  }

  /** The room's slow-mode interval in seconds (a string; absent: off). */
  roomSlowMode(room: string): string {
    return `${this.prefix}{${room}}:slow`;
  }

  /** A member's running slow-mode interval (a string with a ttl). */
  roomSlowSlot(room: string, user: string): string {
    return `${this.prefix}{${room}}:slow:${user}`;
  }

  /** The users granted moderation of the room by the admin API (a set). */
  roomModerators(room: string): string {
    return `${this.prefix}{${room}}:mods`;
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

  /** The nodes holding a connection of `user` (a set): where a direct message to it goes. */
  userNodes(user: string): string {
    return `${this.prefix}directory:{${user}}`;
  }

  /** Each gateway's last report of itself (a hash: node -> JSON), for GET /api/nodes. */
  nodeReports(): string {
    return `${this.prefix}{nodes}:reports`;
  }

  /** A node's own channel: direct messages for the users it holds. */
  nodeChannel(node: string): string {
    return `${this.prefix}node:{${node}}`;
  }

  /** Every room that has a log (a set), for the bridge's tap and GET /api/rooms: rooms are found here, not by a key scan. */
  roomIndex(): string {
    return `${this.prefix}{rooms}:index`;
  }

  /** Where a room's first message announces the room to the tap. */
  roomIndexChannel(): string {
    return `${this.prefix}{rooms}:new`;
  }

  /** Set once every log that predates the index has been added to it. */
  roomIndexComplete(): string {
    return `${this.prefix}{rooms}:complete`;
  }

  /** The id of the first direct message sent under an idempotency key. */
  directOnce(key: string): string {
    return `${this.prefix}once:${key}`;
  }
}
