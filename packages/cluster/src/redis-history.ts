import { compareIds, messageJson } from '@chat/protocol';
import { isChange, type RoomMessage } from './bus.js';
import { parseState, toMessageState } from './message-state.js';
import { MAX_ID, firstRooms, type AfterOptions, type HistoryRead, type HistoryStore, type RoomPage } from './history-store.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { StreamEntry } from './redis-scripts.js';
import { entryBody } from './room-wire.js';

/** History read from the room streams RedisBus appends to. */
export class RedisHistory implements HistoryStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  async latest(room: string, count: number): Promise<RoomMessage[]> {
    return count <= 0 ? [] : this.postsBefore(room, '+', count);
  }

  async after(room: string, since: string, max: number, options: AfterOptions = {}): Promise<HistoryRead> {
    const flag = (on: boolean | undefined) => (on === true ? '1' : '0');
    const [held, tip, entries] = await guarded(this.redis.chatAfter(
      this.keys.roomLog(room), this.keys.roomLost(room), since, max, flag(since === MAX_ID), flag(options.recordLoss), flag(options.bound),
    ));
    return { messages: await this.withStates(room, toMessages(room, entries)), gap: held !== 1, tip };
  }

  async before(room: string, before: string | undefined, limit: number): Promise<RoomMessage[]> {
    // Redis refuses an exclusive range that ends before the smallest id.
    if (before !== undefined && compareIds(before, '0-1') < 0) return [];
    return this.postsBefore(room, before === undefined ? '+' : `(${before}`, limit);
  }

  async tip(room: string): Promise<string> {
    const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), '+', '-', 'COUNT', 1));
    return entries[0]?.[0] ?? '';
  }

  /**
   * Up to `limit` messages before `end` (an XREVRANGE bound), oldest first, in their latest state.
   * Changes are skipped, so the stream is read a page at a time until enough messages are found.
   */
  private async postsBefore(room: string, end: string, limit: number): Promise<RoomMessage[]> {
    const newestFirst: RoomMessage[] = [];
    for (let from = end; newestFirst.length < limit;) {
      const entries = await guarded(this.redis.xrevrange(this.keys.roomLog(room), from, '-', 'COUNT', limit));
      for (const message of toMessages(room, entries)) if (!isChange(message)) newestFirst.push(message);
      if (entries.length < limit) break;
      from = `(${entries.at(-1)![0]}`;
    }
    return this.withStates(room, newestFirst.slice(0, limit).reverse());
  }

  /** Adds their latest state to the messages that were changed (one HMGET in the room's slot). */
  private async withStates(room: string, messages: RoomMessage[]): Promise<RoomMessage[]> {
    const posts = messages.filter((m) => !isChange(m));
    if (posts.length === 0) return messages;
    const states = await guarded(this.redis.hmget(this.keys.roomState(room), ...posts.map((m) => m.id)));
    const byId = new Map(posts.map((m, i) => [m.id, parseState(states[i])]));
    return messages.map((m) => {
      const stored = byId.get(m.id);
      return stored === undefined ? m : { ...m, state: toMessageState(stored, m.id) };
    });
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
