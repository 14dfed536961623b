import { compareIds } from '@chat/protocol';
import { messageEvent, type RoomMessage } from './bus.js';
import type { HistoryRead, HistoryStore } from './history-store.js';

interface RoomLog {
  messages: RoomMessage[];
  lastMs: number;
  lastSeq: number;
  /** Newest id trimmed away; '0-0' while nothing was. */
  maxDeleted: string;
}

/** In-process history with Redis stream semantics: `<ms>-<seq>` ids, trimmed to `limit` per room. */
export class MemoryHistory implements HistoryStore {
  private readonly rooms = new Map<string, RoomLog>();

  constructor(private readonly limit: number) {}

  /** Stores a message and returns it with the id of the one before. Used by MemoryBus only. */
  append(room: string, body: string): { message: RoomMessage; prev: string } {
    const log = this.log(room);
    const now = Date.now();
    if (now > log.lastMs) {
      log.lastMs = now;
      log.lastSeq = 0;
    } else {
      log.lastSeq += 1;
    }
    const id = `${log.lastMs}-${log.lastSeq}`;
    const prev = log.messages.at(-1)?.id ?? '';
    const message = { room, id, event: messageEvent(room, id, body) };
    log.messages.push(message);
    if (log.messages.length > this.limit) {
      const trimmed = log.messages.splice(0, log.messages.length - this.limit);
      log.maxDeleted = trimmed.at(-1)!.id;
    }
    return { message, prev };
  }

  async latest(room: string, count: number): Promise<RoomMessage[]> {
    const messages = this.rooms.get(room)?.messages ?? [];
    return count <= 0 ? [] : messages.slice(-count);
  }

  async after(room: string, since: string, max: number): Promise<HistoryRead> {
    const log = this.rooms.get(room);
    if (log === undefined) return { messages: [], gap: since !== '' };
    const gap = since !== '' && compareIds(since, log.maxDeleted) < 0;
    const start = since === '' ? 0 : log.messages.findIndex((m) => compareIds(m.id, since) > 0);
    return { messages: start < 0 ? [] : log.messages.slice(start, start + max), gap };
  }

  async before(room: string, before: string | undefined, limit: number): Promise<RoomMessage[]> {
    const messages = this.rooms.get(room)?.messages ?? [];
    const end = before === undefined ? messages.length : messages.findIndex((m) => compareIds(m.id, before) >= 0);
    const stop = end < 0 ? messages.length : end;
    return messages.slice(Math.max(0, stop - limit), stop);
  }

  async tip(room: string): Promise<string> {
    return this.rooms.get(room)?.messages.at(-1)?.id ?? '';
  }

  private log(room: string): RoomLog {
    let log = this.rooms.get(room);
    if (log === undefined) {
      log = { messages: [], lastMs: 0, lastSeq: 0, maxDeleted: '0-0' };
      this.rooms.set(room, log);
    }
    return log;
  }
}
