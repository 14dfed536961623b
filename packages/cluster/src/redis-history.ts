import { compareIds, messageJson } from '@chat/protocol';
import type { RoomMessage } from './bus.js';
import { MAX_ID, firstRooms, type AfterOptions, type HistoryRead, type HistoryStore, type RoomPage } from './history-store.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { StreamEntry } from './redis-scripts.js';
import { entryBody } from './room-wire.js';

/** History read from the room streams RedisBus appends to. */
export class RedisHistory implements HistoryStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  async latest(room: string, count: number): Promise<RoomMessage[]> {
    if (count <= 0) return [];
    const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), '+', '-', 'COUNT', count));
    return toMessages(room, entries.reverse());
  }

  async after(room: string, since: string, max: number, options: AfterOptions = {}): Promise<HistoryRead> {
    const flag = (on: boolean | undefined) => (on === true ? '1' : '0');
    const [held, tip, entries] = await guarded(this.redis.chatAfter(
      this.keys.roomLog(room), this.keys.roomLost(room), since, max, flag(since === MAX_ID), flag(options.recordLoss), flag(options.bound),
    ));
    return { messages: toMessages(room, entries), gap: held !== 1, tip };
  }

  async before(room: string, before: string | undefined, limit: number): Promise<RoomMessage[]> {
    // Redis refuses an exclusive range that ends before the smallest id.
    if (before !== undefined && compareIds(before, '0-1') < 0) return [];
    const end = before === undefined ? '+' : `(${before}`;
    const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), end, '-', 'COUNT', limit));
    return toMessages(room, entries.reverse());
  }

  async tip(room: string): Promise<string> {
    const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), '+', '-', 'COUNT', 1));
    return entries[0]?.[0] ?? '';
  }

  /**
   * From the room index (RoomLister), one set in a slot of its own: one SMEMBERS on one shard, sorted
   * here, as Redis has no ordered read of a set. A room is listed once a message was stored there.
   */
  async rooms(limit: number): Promise<RoomPage> {
    return firstRooms(await guarded(this.redis.smembers(this.keys.roomIndex())), limit);
  }
}

function toMessages(room: string, entries: StreamEntry[]): RoomMessage[] {
  return entries.map(([id, fields]) => ({ room, id, event: messageJson(room, id, entryBody(fields)) }));
}
