import { compareIds, isChangeBody, messageJson } from '@chat/protocol';
import { isChange, type RoomMessage } from './bus.js';
import { toMessageState, type StoredState } from './message-state.js';
import { firstRooms, type AfterOptions, type HistoryRead, type HistoryStore, type RoomPage } from './history-store.js';

interface Entry {
  message: RoomMessage;
  /** Id of the message stored right before this one ('' for a log's first). */
  prev: string;
  /** The message's running number in the room (see RoomLog.count). */
  n: number;
}

interface RoomLog {
  entries: Entry[];
  /** The newest id that survived a recorded loss ('' for none): a `since` at or before it is a gap. */
  lostAfter: string;
  lastMs: number;
  lastSeq: number;
  /** Messages ever stored in the room, trimmed or not: the running number of the newest. Changes do not count. */
  count: number;
  /** The state of each changed message the log holds (see message-state.ts). */
  states: Map<string, StoredState>;
}

/** Where a message stands in its room's count of messages. */
export interface Numbered {
  id: string;
  n: number;
}

/** In-process history with Redis stream semantics: `<ms>-<seq>` ids, trimmed to `limit` per room. */
export class MemoryHistory implements HistoryStore {
  private readonly logs = new Map<string, RoomLog>();

  constructor(private readonly limit: number) {}

  /**
   * Stores a message, or a change with the state it leaves its target in, and returns it with the id
   * of the one before. Used by MemoryBus only.
   */
  append(room: string, body: string, changed?: { target: string; state: StoredState }): { message: RoomMessage; prev: string } {
    const log = this.log(room);
    const now = Date.now();
    if (now > log.lastMs) {
      log.lastMs = now;
      log.lastSeq = 0;
    } else {
      log.lastSeq += 1;
    }
    const id = `${log.lastMs}-${log.lastSeq}`;
    const prev = log.entries.at(-1)?.message.id ?? '';
    const message = { room, id, event: messageJson(room, id, body) };
    if (!isChangeBody(body)) log.count += 1;
    log.entries.push({ message, prev, n: log.count });
    if (changed !== undefined) log.states.set(changed.target, { ...changed.state, v: id });
    if (log.entries.length > this.limit) {
      for (const trimmed of log.entries.splice(0, log.entries.length - this.limit)) log.states.delete(trimmed.message.id);
    }
    return { message, prev };
  }

  /** A message the log holds (not a change), with its state; undefined when it holds none by that id. */
  find(room: string, id: string): { message: RoomMessage; state: StoredState | undefined } | undefined {
    const log = this.logs.get(room);
    const message = log?.entries.find((e) => e.message.id === id)?.message;
    if (log === undefined || message === undefined || isChange(message)) return undefined;
    return { message, state: log.states.get(id) };
  }

  /**
   * Forgets the newest `count` messages of a room (all of them: Infinity), as a Redis restarted
   * without persistence, or a replica that lagged, would. For tests of honest gaps.
   */
  loseNewest(room: string, count: number): void {
    const log = this.logs.get(room);
    if (log === undefined) return;
    if (count >= log.entries.length) this.logs.delete(room);
    else log.entries.splice(log.entries.length - count, count);
  }

  /** The newest message at or before `id`, with its running number; undefined when the log holds none. Used by MemoryReadMarkers. */
  atOrBefore(room: string, id: string): Numbered | undefined {
    const entry = this.logs.get(room)?.entries.findLast((e) => compareIds(e.message.id, id) <= 0);
    return entry === undefined ? undefined : { id: entry.message.id, n: entry.n };
  }

  /** Messages ever stored in the room, and how many the log holds now (changes are not messages). */
  counts(room: string): { stored: number; held: number } {
    const log = this.logs.get(room);
    return { stored: log?.count ?? 0, held: log?.entries.filter((e) => !isChange(e.message)).length ?? 0 };
  }

  async latest(room: string, count: number): Promise<RoomMessage[]> {
    return count <= 0 ? [] : this.posts(room).slice(-count);
  }

  async after(room: string, since: string, max: number, { recordLoss = false, bound = false }: AfterOptions = {}): Promise<HistoryRead> {
    const log = this.logs.get(room);
    const entries = log?.entries ?? [];
    const tip = entries.at(-1)?.message.id ?? '';
    if (since === '') return { messages: entries.slice(0, max).map((e) => this.withState(room, e.message)), gap: false, tip };
    const present = entries.some((e) => e.message.id === since);
    if (!present && recordLoss && log !== undefined) {
      const survivor = entries.findLast((e) => compareIds(e.message.id, since) < 0)?.message.id;
      if (survivor !== undefined && (log.lostAfter === '' || compareIds(survivor, log.lostAfter) > 0)) log.lostAfter = survivor;
    }
    const oldest = entries[0];
    const whole = bound
      ? oldest === undefined || oldest.prev === '' || compareIds(oldest.prev, since) <= 0
      : present || oldest?.prev === since;
    const held = whole && !(log !== undefined && log.lostAfter !== '' && compareIds(since, log.lostAfter) <= 0);
    const start = entries.findIndex((e) => compareIds(e.message.id, since) > 0);
    const messages = start < 0 ? [] : entries.slice(start, start + max).map((e) => this.withState(room, e.message));
    return { messages, gap: !held, tip };
  }

  async before(room: string, before: string | undefined, limit: number): Promise<RoomMessage[]> {
    const messages = this.posts(room);
    const end = before === undefined ? messages.length : messages.findIndex((m) => compareIds(m.id, before) >= 0);
    const stop = end < 0 ? messages.length : end;
    return messages.slice(Math.max(0, stop - limit), stop);
  }

  async tip(room: string): Promise<string> {
    return this.logs.get(room)?.entries.at(-1)?.message.id ?? '';
  }

  /** Rooms holding a log; a log is only ever dropped whole by loseNewest (a simulated loss). */
  async rooms(limit: number): Promise<RoomPage> {
    return firstRooms(this.logs.keys(), limit);
  }

  /** Every room that has a log, in no order (the tap's list: unbounded, in process). */
  roomNames(): string[] {
    return [...this.logs.keys()];
  }

  /** The room's messages (no changes), each in its latest state. */
  private posts(room: string): RoomMessage[] {
    return (this.logs.get(room)?.entries ?? []).filter((e) => !isChange(e.message)).map((e) => this.withState(room, e.message));
  }

  private withState(room: string, message: RoomMessage): RoomMessage {
    const stored = this.logs.get(room)?.states.get(message.id);
    return stored === undefined ? message : { ...message, state: toMessageState(stored, message.id) };
  }

  private log(room: string): RoomLog {
    let log = this.logs.get(room);
    if (log === undefined) {
      log = { entries: [], lastMs: 0, lastSeq: 0, lostAfter: '', count: 0, states: new Map() };
      this.logs.set(room, log);
    }
    return log;
  }
}
