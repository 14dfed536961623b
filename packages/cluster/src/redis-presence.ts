import type { Redis } from 'ioredis';
import { DEFAULT_PRESENCE_TTL_MS, type PresenceStore } from './presence-store.js';
import { guarded } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Entries of one dead node handled per script call, so a reap never blocks Redis for long. */
const REAP_BATCH = 500;

/**
 * Presence on Redis: per room a set of present users and, per (room, user), the set of nodes
 * holding it; per node the set of its entries and, for all nodes, a sorted set of heartbeats scored
 * by Redis's clock (TIME), so nodes with skewed clocks agree. Events go out from inside the scripts.
 */
export class RedisPresence implements PresenceStore {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys, private readonly ttlMs = DEFAULT_PRESENCE_TTL_MS) {}

  async join(room: string, user: string, node: string): Promise<boolean> {
    const k = this.keys;
    const first = await guarded(this.redis.chatPresenceJoin(
      k.roomMembers(room), k.roomHolders(room, user), k.presenceEntries(node), k.presenceHeartbeats(), room, user, node, k.roomChannel(room),
    ));
    return first === 1;
  }

  async leave(room: string, user: string, node: string): Promise<boolean> {
    const k = this.keys;
    const last = await guarded(this.redis.chatPresenceLeave(
      k.roomMembers(room), k.roomHolders(room, user), k.presenceEntries(node), room, user, node, k.roomChannel(room),
    ));
    return last === 1;
  }

  async members(room: string): Promise<string[]> {
    return guarded(this.redis.smembers(this.keys.roomMembers(room)));
  }

  async heartbeat(node: string): Promise<void> {
    await guarded(this.redis.chatPresenceHeartbeat(this.keys.presenceHeartbeats(), node));
  }

  async reap(): Promise<void> {
    const k = this.keys;
    for (const node of await guarded(this.redis.chatPresenceDead(k.presenceHeartbeats(), this.ttlMs))) {
      while ((await guarded(this.redis.chatPresenceReap(k.presenceHeartbeats(), k.presenceEntries(node), node, k.prefix, REAP_BATCH))) > 0);
    }
  }
}
