import type { Redis } from 'ioredis';
import { DEFAULT_PRESENCE_TTL_MS, type PresenceStore } from './presence-store.js';
import { guarded } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * Presence on Redis: per room a sorted set of users scored by their newest expiry, and per
 * (room, user) a sorted set of nodes scored by expiry. Expiry uses Redis's clock (TIME), so nodes
 * with skewed clocks agree. Events go out on the room channel from inside the scripts.
 */
export class RedisPresence implements PresenceStore {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys, private readonly ttlMs = DEFAULT_PRESENCE_TTL_MS) {}

  async join(room: string, user: string, node: string): Promise<boolean> {
    const k = this.keys;
    const first = await guarded(
      this.redis.chatPresenceJoin(k.roomMembers(room), k.roomMemberNodes(room) + user, room, user, node, this.ttlMs, k.roomChannel(room)),
    );
    return first === 1;
  }

  async leave(room: string, user: string, node: string): Promise<boolean> {
    const k = this.keys;
    const last = await guarded(
      this.redis.chatPresenceLeave(k.roomMembers(room), k.roomMemberNodes(room) + user, room, user, node, k.roomChannel(room)),
    );
    return last === 1;
  }

  async members(room: string): Promise<string[]> {
    return guarded(this.redis.chatPresenceMembers(this.keys.roomMembers(room)));
  }

  async refresh(node: string, entries: Iterable<{ room: string; user: string }>): Promise<void> {
    const k = this.keys;
    const batch = this.redis.pipeline();
    for (const { room, user } of entries) {
      batch.chatPresenceJoin(k.roomMembers(room), k.roomMemberNodes(room) + user, room, user, node, this.ttlMs, k.roomChannel(room));
    }
    if (batch.length > 0) await guarded(batch.exec());
  }

  async sweep(rooms: Iterable<string>): Promise<void> {
    const k = this.keys;
    const batch = this.redis.pipeline();
    for (const room of rooms) batch.chatPresenceSweep(k.roomMembers(room), room, k.roomMemberNodes(room), k.roomChannel(room));
    if (batch.length > 0) await guarded(batch.exec());
  }
}
