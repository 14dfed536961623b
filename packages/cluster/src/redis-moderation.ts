import { isActive, type ModerationStore, type Restriction, type RestrictionKind, type RoomRules } from './moderation-store.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * Moderation on Redis, every key in the room's slot: bans and mutes in a hash each (user ->
 * `<until> <reason>`, until 0 for no end), slow mode in a string, the granted moderators in a set,
 * and per member a key with a ttl for slow mode's clock (SET NX PX). Expired bans and mutes are
 * dropped from their hash whenever one is written, so a hash holds at most the live ones and those
 * expired since its last write.
 */
export class RedisModeration implements ModerationStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  async rules(room: string): Promise<RoomRules> {
    const k = this.keys;
    const [bans, mutes, slow, moderators] = await guarded(Promise.all([
      this.redis.hgetall(k.roomBans(room)),
      this.redis.hgetall(k.roomMutes(room)),
      this.redis.get(k.roomSlowMode(room)),
      this.redis.smembers(k.roomModerators(room)),
    ]));
    return { bans: restrictions(bans), mutes: restrictions(mutes), slowSeconds: Number(slow ?? 0) || 0, moderators: new Set(moderators) };
  }

  async restrict(room: string, kind: RestrictionKind, user: string, until: number, reason: string): Promise<void> {
    const key = this.hash(room, kind);
    await guarded(this.redis.hset(key, user, `${until} ${reason}`));
    const now = Date.now();
    const expired = [...restrictions(await guarded(this.redis.hgetall(key))).values()].filter((r) => r.until !== 0 && r.until <= now).map((r) => r.user);
    if (expired.length > 0) await guarded(this.redis.hdel(key, ...expired));
  }

  async lift(room: string, kind: RestrictionKind, user: string): Promise<boolean> {
    const key = this.hash(room, kind);
    const held = isActive(restrictions({ [user]: (await guarded(this.redis.hget(key, user))) ?? '' }).get(user), Date.now());
    await guarded(this.redis.hdel(key, user));
    return held;
  }

  async list(room: string, kind: RestrictionKind): Promise<Restriction[]> {
    const now = Date.now();
    const all = [...restrictions(await guarded(this.redis.hgetall(this.hash(room, kind)))).values()];
    return all.filter((r) => isActive(r, now)).sort((a, b) => (a.user < b.user ? -1 : 1));
  }

  async setSlowMode(room: string, seconds: number): Promise<void> {
    const key = this.keys.roomSlowMode(room);
    await guarded<unknown>(seconds === 0 ? this.redis.del(key) : this.redis.set(key, String(seconds)));
  }

  async takeSlot(room: string, user: string, intervalMs: number): Promise<number> {
    const key = this.keys.roomSlowSlot(room, user);
    if ((await guarded(this.redis.set(key, '1', 'PX', intervalMs, 'NX'))) === 'OK') return 0;
    // The key may expire between the two calls: then the member is simply told to retry at once.
    return Math.max(0, await guarded(this.redis.pttl(key)));
  }

  async isModerator(room: string, user: string): Promise<boolean> {
    return (await guarded(this.redis.sismember(this.keys.roomModerators(room), user))) === 1;
  }

  async setModerator(room: string, user: string, granted: boolean): Promise<boolean> {
    const key = this.keys.roomModerators(room);
    return (await guarded(granted ? this.redis.sadd(key, user) : this.redis.srem(key, user))) === 1;
  }

  private hash(room: string, kind: RestrictionKind): string {
    return kind === 'bans' ? this.keys.roomBans(room) : this.keys.roomMutes(room);
  }
}

/** Parses a hash of `<until> <reason>` values; a value that does not parse is not a restriction. */
function restrictions(hash: Record<string, string>): Map<string, Restriction> {
  const out = new Map<string, Restriction>();
  for (const [user, value] of Object.entries(hash)) {
    const cut = value.indexOf(' ');
    const until = Number(cut < 0 ? value : value.slice(0, cut));
    if (value === '' || !Number.isFinite(until)) continue;
    out.set(user, { user, until, reason: cut < 0 ? '' : value.slice(cut + 1) });
  }
  return out;
}
