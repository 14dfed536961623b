import type { Redis } from 'ioredis';
import { compareIds } from '@chat/protocol';
import { messageEvent, type RoomMessage } from './bus.js';
import type { HistoryRead, HistoryStore } from './history-store.js';
import { guarded } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { StreamEntry } from './redis-scripts.js';

/** History read from the room streams RedisBus appends to. */
export class RedisHistory implements HistoryStore {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

  async latest(room: string, count: number): Promise<RoomMessage[]> {
    if (count <= 0) return [];
    const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), '+', '-', 'COUNT', count));
    return toMessages(room, entries.reverse());
  }

  async after(room: string, since: string, max: number): Promise<HistoryRead> {
    const [deleted, entries] = await guarded(this.redis.chatAfter(this.keys.roomLog(room), this.keys.roomTrimmed(room), since, max));
    // No log at all: anything the client saw before is gone (expired, or Redis lost its data).
    const gap = since !== '' && (deleted === '' || compareIds(since, deleted) < 0);
    return { messages: toMessages(room, entries), gap };
  }

  async before(room: string, before: string | undefined, limit: number): Promise<RoomMessage[]> {
    const end = before === undefined ? '+' : `(${before}`;
    const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), end, '-', 'COUNT', limit));
    return toMessages(room, entries.reverse());
  }

  async tip(room: string): Promise<string> {
    const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), '+', '-', 'COUNT', 1));
    return entries[0]?.[0] ?? '';
  }
}

function toMessages(room: string, entries: StreamEntry[]): RoomMessage[] {
  return entries.map(([id, fields]) => ({ room, id, event: messageEvent(room, id, fields[1] ?? '{}') }));
}
