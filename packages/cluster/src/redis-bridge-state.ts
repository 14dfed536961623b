import type { Result } from 'ioredis';
import type { CursorStore, DeviceRoomStore } from './bridge-stores.js';
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

  constructor(readonly prefix: string) {
    this.leader = `${prefix}{bridge}:leader`;
    this.epoch = `${prefix}{bridge}:epoch`;
    this.cursors = `${prefix}{bridge}:cursors`;
    this.origin = `${prefix}{bridge}:origin`;
  }

  deviceRooms(device: string): string {
    return `${this.prefix}bridge:device:${device}:rooms`;
  }
}

const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] origin, KEYS[2] cursors. ARGV: '1' to read the cursors too. Returns {origin, flat hash}; sets origin to now on first use. */
const load = `${now}
local origin = redis.call('GET', KEYS[1])
if not origin then
  origin = now .. '-0'
  redis.call('SET', KEYS[1], origin)
end
if ARGV[1] ~= '1' then return {origin, {}} end
return {origin, redis.call('HGETALL', KEYS[2])}`;

/** KEYS[1] lease, KEYS[2] cursors. ARGV: token, then room, id pairs. Returns 0 when the token no longer holds the lease. */
const save = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
return 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chatBridgeLoad(origin: string, cursors: string, withCursors: '0' | '1'): Result<[string, string[]], Context>;
    chatBridgeSave(lease: string, cursors: string, token: string, ...pairs: string[]): Result<number, Context>;
  }
}

/** Connections the scripts below are registered on. */
const defined = new WeakSet<RedisClient>();

/** How long a device's list of rooms is kept after its last post. */
const DEVICE_ROOMS_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * What the MQTT bridge replicas share: the outbound origin and cursors (fenced by the leader's
 * lease token) and the rooms each device posted to (for its presence).
 */
export class RedisBridgeState implements CursorStore, DeviceRoomStore {
  constructor(private readonly redis: RedisClient, readonly keys: BridgeKeys) {
    if (!defined.has(redis)) {
      defined.add(redis);
      redis.defineCommand('chatBridgeLoad', { numberOfKeys: 2, lua: load });
      redis.defineCommand('chatBridgeSave', { numberOfKeys: 2, lua: save });
    }
  }

  /**
   * Sets the origin to now unless it is set: every replica calls this before it reports ready, so
   * whatever is posted after the first replica came up is forwarded, even before a leader exists.
   */
  async ensureOrigin(): Promise<string> {
    const [origin] = await guarded(this.redis.chatBridgeLoad(this.keys.origin, this.keys.cursors, '0'));
    return origin;
  }

  async loadCursors(): Promise<{ origin: string; cursors: Map<string, string> }> {
    const [origin, flat] = await guarded(this.redis.chatBridgeLoad(this.keys.origin, this.keys.cursors, '1'));
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
    // One command per device, all sent at once: on a Redis Cluster each device's set has a slot of its own.
    const lists = await guarded(Promise.all(devices.map((device) => this.redis.smembers(this.keys.deviceRooms(device)))));
    return new Map(devices.map((device, i) => [device, lists[i]!]));
  }
}

function pairs(flat: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
}
