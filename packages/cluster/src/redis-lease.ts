import type { Result } from 'ioredis';
import type { Lease } from './bridge-stores.js';
import { guarded, type RedisClient } from './redis-connection.js';

/** KEYS[1] lease, KEYS[2] epoch counter. ARGV: holder, ttlMs. Returns the fencing token, or false when held. */
const acquire = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = ARGV[1] .. '#' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token`;

/** KEYS[1] lease. ARGV: token, ttlMs. Returns 1 when still held by token (and extended). */
const renew = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS[1] lease. ARGV: token. */
const release = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chatLeaseAcquire(lease: string, epoch: string, holder: string, ttlMs: number): Result<string | null, Context>;
    chatLeaseRenew(lease: string, token: string, ttlMs: number): Result<number, Context>;
    chatLeaseRelease(lease: string, token: string): Result<number, Context>;
  }
}

/** Connections the scripts below are registered on. */
const defined = new WeakSet<RedisClient>();

/**
 * A lease in Redis that at most one holder has at a time: SET NX PX on `key`, renewed by its holder
 * with compare-and-PEXPIRE. Each acquisition gets a fencing token (`holder#epoch`, the epoch from an
 * INCR that never goes back), which writes made on behalf of the leader check in the same script
 * (see RedisBridgeState.saveCursors), so a deposed holder cannot overwrite its successor's work.
 *
 * What Redis cannot fence (writes to another system, such as an MQTT broker) the holder must stop
 * by itself before its lease can have expired: `ttlMs` counted from when it sent the renewal.
 */
export class RedisLease implements Lease {
  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly epochKey: string,
    readonly ttlMs: number,
  ) {
    if (!defined.has(redis)) {
      defined.add(redis);
      redis.defineCommand('chatLeaseAcquire', { numberOfKeys: 2, lua: acquire });
      redis.defineCommand('chatLeaseRenew', { numberOfKeys: 1, lua: renew });
      redis.defineCommand('chatLeaseRelease', { numberOfKeys: 1, lua: release });
    }
  }

  /** The fencing token when the lease was free and is now ours, undefined when someone holds it. */
  async acquire(holder: string): Promise<string | undefined> {
    return (await guarded(this.redis.chatLeaseAcquire(this.key, this.epochKey, holder, this.ttlMs))) ?? undefined;
  }

  /** True when the lease is still ours and was extended by ttlMs. */
  async renew(token: string): Promise<boolean> {
    return (await guarded(this.redis.chatLeaseRenew(this.key, token, this.ttlMs))) === 1;
  }

  async release(token: string): Promise<void> {
    await guarded(this.redis.chatLeaseRelease(this.key, token));
  }
}
