import type { Result } from 'ioredis';
import { guarded, type RedisClient } from './redis-connection.js';

/**
 * The MQTT bridge's own keys, beside the cluster's under the same prefix. The ones its scripts use
 * together (lease, epoch, cursors, origin) share the hash tag `{bridge}`, so they share a Redis
 * Cluster slot.
 */
export class BridgeKeys {
  /** The outbound leader's lease and its epoch counter (fencing tokens). */
  readonly leader: string;
  readonly epoch: string;
  /** Hash room -> id of the newest message the broker acknowledged. */
  readonly cursors: string;
  /** Id before which no message is forwarded: set once, when the first leader ever started. */
  readonly origin: string;
  /** Hash MQTT session (client id) -> last heartbeat, Redis time in ms. */
  readonly sessions: string;

  constructor(readonly prefix: string) {
    this.leader = `${prefix}{bridge}:leader`;
    this.epoch = `${prefix}{bridge}:epoch`;
    this.cursors = `${prefix}{bridge}:cursors`;
    this.origin = `${prefix}{bridge}:origin`;
    this.sessions = `${prefix}{bridge}:sessions`;
  }

  adoption(session: string): string {
    return `${this.prefix}bridge:adopt:${session}`;
  }
  deviceRooms(device: string): string {
    return `${this.prefix}bridge:device:${device}:rooms`;
  }
}

const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] origin, KEYS[2] cursors ('' for none). Returns {origin, flat hash}; sets origin to now on first use. */
const load = `${now}
local origin = redis.call('GET', KEYS[1])
if not origin then
  origin = now .. '-0'
  redis.call('SET', KEYS[1], origin)
end
if KEYS[2] == '' then return {origin, {}} end
return {origin, redis.call('HGETALL', KEYS[2])}`;

/** KEYS[1] lease, KEYS[2] cursors. ARGV: token, then room, id pairs. Returns 0 when the token no longer holds the lease. */
const save = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
return 1`;

/** KEYS[1] sessions. ARGV: session. */
const heartbeat = `${now}
redis.call('HSET', KEYS[1], ARGV[1], now)
return now`;

/** KEYS[1] sessions. Returns {now, flat hash}. */
const sessions = `${now}
return {now, redis.call('HGETALL', KEYS[1])}`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chatBridgeLoad(origin: string, cursors: string): Result<[string, string[]], Context>;
    chatBridgeSave(lease: string, cursors: string, token: string, ...pairs: string[]): Result<number, Context>;
    chatBridgeHeartbeat(sessions: string, session: string): Result<number, Context>;
    chatBridgeSessions(sessions: string): Result<[number, string[]], Context>;
  }
}

/** Connections the scripts below are registered on. */
const defined = new WeakSet<RedisClient>();

/** How long a device's list of rooms is kept after its last post. */
const DEVICE_ROOMS_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * What the MQTT bridge replicas share: the outbound cursors (fenced by the leader's lease token),
 * the rooms each device posted to (for its presence), and a heartbeat per MQTT session, so that a
 * dead replica's persistent session can be found and drained by a live one.
 */
export class RedisBridgeState {
  constructor(private readonly redis: RedisClient, readonly keys: BridgeKeys) {
    if (!defined.has(redis)) {
      defined.add(redis);
      redis.defineCommand('chatBridgeLoad', { numberOfKeys: 2, lua: load });
      redis.defineCommand('chatBridgeSave', { numberOfKeys: 2, lua: save });
      redis.defineCommand('chatBridgeHeartbeat', { numberOfKeys: 1, lua: heartbeat });
      redis.defineCommand('chatBridgeSessions', { numberOfKeys: 1, lua: sessions });
    }
  }

  /**
   * Sets the origin to now unless it is set: every replica calls this before it reports ready, so
   * whatever is posted after the first replica came up is forwarded, even before a leader exists.
   */
  async ensureOrigin(): Promise<string> {
    const [origin] = await guarded(this.redis.chatBridgeLoad(this.keys.origin, ''));
    return origin;
  }

  async loadCursors(): Promise<{ origin: string; cursors: Map<string, string> }> {
    const [origin, flat] = await guarded(this.redis.chatBridgeLoad(this.keys.origin, this.keys.cursors));
    return { origin, cursors: pairs(flat) };
  }

  /** Writes cursors only while `token` holds the leader lease; false when it does not. */
  async saveCursors(token: string, cursors: Map<string, string>): Promise<boolean> {
    if (cursors.size === 0) return true;
    const flat = [...cursors].flat();
    return (await guarded(this.redis.chatBridgeSave(this.keys.leader, this.keys.cursors, token, ...flat))) === 1;
  }

  async addDeviceRoom(device: string, room: string): Promise<void> {
    const key = this.keys.deviceRooms(device);
    await guarded(this.redis.multi().sadd(key, room).pexpire(key, DEVICE_ROOMS_TTL_MS).exec());
  }

  async deviceRooms(devices: readonly string[]): Promise<Map<string, string[]>> {
    const rooms = new Map<string, string[]>();
    if (devices.length === 0) return rooms;
    const batch = this.redis.pipeline();
    for (const device of devices) batch.smembers(this.keys.deviceRooms(device));
    const results = (await guarded(batch.exec())) ?? [];
    devices.forEach((device, i) => {
      const [error, members] = results[i] ?? [null, []];
      if (error !== null) throw error;
      rooms.set(device, members as string[]);
    });
    return rooms;
  }

  async heartbeat(session: string): Promise<void> {
    await guarded(this.redis.chatBridgeHeartbeat(this.keys.sessions, session));
  }

  /** Every known session and how long ago (ms, on Redis's clock) it last beat. */
  async sessionAges(): Promise<Map<string, number>> {
    const [t, flat] = await guarded(this.redis.chatBridgeSessions(this.keys.sessions));
    const ages = new Map<string, number>();
    for (const [session, beat] of pairs(flat)) ages.set(session, t - Number(beat));
    return ages;
  }

  async forgetSession(session: string): Promise<void> {
    await guarded(this.redis.hdel(this.keys.sessions, session));
  }

  /** Claims the right to drain a dead replica's session for ttlMs; false when another replica has it. */
  async claimAdoption(session: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await guarded(this.redis.set(this.keys.adoption(session), holder, 'PX', ttlMs, 'NX'))) === 'OK';
  }
}

function pairs(flat: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
}
