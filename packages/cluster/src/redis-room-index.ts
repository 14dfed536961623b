import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { PublishCommand } from './redis-scripts.js';

/** Rooms a process remembers having listed; past this it forgets them all and lists again as it goes. */
const MEMO_MAX = 100_000;

/**
 * The list of rooms, for the one reader that follows every room (the MQTT bridge's tap), which on a
 * Redis Cluster cannot pattern-subscribe, and for operators (GET /api/rooms, RedisHistory.rooms). Each process that stores messages lists a room the first
 * time it stores one there (one SADD per room and process, not per message) and announces a room
 * new to the list on the index channel, so the tap subscribes to it at once. The list has a slot of
 * its own, so this is not part of the append's script: a process that dies in between leaves a room
 * unlisted until someone stores in it again; the tap also lists every log by a key scan once, when
 * it first meets an index (a deployment that predates it).
 */
export class RoomLister {
  private readonly listed = new Set<string>();

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly publishCommand: PublishCommand) {}

  /** Lists `room` unless this process did already. A failure is forgotten, so the next store retries. */
  async list(room: string): Promise<void> {
    if (this.listed.has(room)) return;
    if (this.listed.size >= MEMO_MAX) this.listed.clear();
    this.listed.add(room);
    try {
      if ((await guarded(this.redis.sadd(this.keys.roomIndex(), room))) === 1) {
        await guarded(this.redis.call(this.publishCommand, this.keys.roomIndexChannel(), room));
      }
    } catch (error) {
      this.listed.delete(room);
      throw error;
    }
  }
}
