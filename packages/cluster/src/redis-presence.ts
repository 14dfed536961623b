import { DEFAULT_PRESENCE_TTL_MS, type PresenceStore } from './presence-store.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { PublishCommand } from './redis-scripts.js';

/** Entries of one dead node handled per round, so a reap never holds Redis for long. */
const REAP_BATCH = 500;

/**
 * Presence on Redis: per room a set of present users and, per (room, user), the set of nodes
 * holding it, both in the room's hash slot, changed with their event by one script; per node the
 * set of its entries and, for all nodes, a sorted set of heartbeats scored by Redis's clock (TIME),
 * so nodes with skewed clocks agree.
 *
 * No script spans two slots (so this runs unchanged on a Redis Cluster): a node's entry is listed
 * before its room script runs, and unlisted after, so a crash in between leaves at worst an entry
 * whose removal changes nothing. Reaping a dead node is idempotent: every live node may do it at once.
 */
export class RedisPresence implements PresenceStore {
  /** Nodes this process has heartbeaten once: a node must be in the heartbeats before its entries exist. */
  private readonly known = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly publishCommand: PublishCommand,
    private readonly ttlMs = DEFAULT_PRESENCE_TTL_MS,
  ) {}

  async join(room: string, user: string, node: string): Promise<boolean> {
    if (!this.known.has(node)) await this.heartbeat(node);
    await guarded(this.redis.sadd(this.keys.presenceEntries(node), entry(room, user)));
    return (await guarded(this.redis.chatPresenceJoin(...this.roomArgs(room, user, node)))) === 1;
  }

  async leave(room: string, user: string, node: string): Promise<boolean> {
    const last = (await guarded(this.redis.chatPresenceLeave(...this.roomArgs(room, user, node)))) === 1;
    await guarded(this.redis.srem(this.keys.presenceEntries(node), entry(room, user)));
    return last;
  }

  async members(room: string): Promise<string[]> {
    return guarded(this.redis.smembers(this.keys.roomMembers(room)));
  }

  async count(room: string): Promise<number> {
    return guarded(this.redis.scard(this.keys.roomMembers(room)));
  }

  async heartbeat(node: string): Promise<void> {
    await guarded(this.redis.chatPresenceHeartbeat(this.keys.presenceHeartbeats(), node));
    this.known.add(node);
  }

  async reap(): Promise<void> {
    for (const node of await guarded(this.redis.chatPresenceDead(this.keys.presenceHeartbeats(), this.ttlMs))) {
      const entries = this.keys.presenceEntries(node);
      for (;;) {
        const batch = await guarded(this.redis.srandmember(entries, REAP_BATCH));
        if (batch.length === 0) break;
        await Promise.all(batch.map((e) => {
          const cut = e.indexOf('\n');
          return guarded(this.redis.chatPresenceLeave(...this.roomArgs(e.slice(0, cut), e.slice(cut + 1), node)));
        }));
        await guarded(this.redis.srem(entries, ...batch));
      }
      await guarded(this.redis.zrem(this.keys.presenceHeartbeats(), node));
    }
  }

  private roomArgs(room: string, user: string, node: string) {
    const k = this.keys;
    return [k.roomMembers(room), k.roomHolders(room, user), room, user, node, k.roomChannel(room), this.publishCommand] as const;
  }
}

function entry(room: string, user: string): string {
  return `${room}\n${user}`;
}
