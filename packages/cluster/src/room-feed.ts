import { compareIds } from '@chat/protocol';
import type { PresenceEvent } from '@chat/protocol';
import type { Bus, RoomEvent, RoomMessage } from './bus.js';
import type { HistoryRead, HistoryStore } from './history-store.js';

/** Where a feed hands what it delivers, in room order. */
export interface FeedSink {
  /** Messages of one room, in id order, each exactly once. `receivedAt` is set for live traffic only. */
  messages(room: string, messages: RoomMessage[], receivedAt?: number): void;
  presence(room: string, event: PresenceEvent, json: string): void;
  /** An ephemeral room event (Bus.signal), handed on as it arrives. */
  signal(room: string, json: string): void;
  /**
   * Messages of `room` were lost for good: trimmed from history before this node could backfill,
   * or lost by the log itself (Redis restarted empty, failed over to a lagging replica).
   */
  gap(room: string): Promise<void>;
}

export interface FeedOptions {
  /** How many recently delivered messages a room keeps in memory, to make join snapshots exact. */
  recentSize: number;
  /** The most a backfill reads at once; the history limit is the natural value. */
  backfillMax: number;
  /** How long a join whose `since` is ahead of this node waits for the node to catch up. */
  catchUpMs: number;
  /** Called with the reason when a backfill fails and will be retried. */
  onError?: (room: string, error: unknown) => void;
  /**
   * Told of the room's bus subscription, backfills and gaps, for debug logs. When it is absent the
   * events are not even built: the arguments of an optional call are evaluated only if it is made.
   */
  trace?: (room: string, event: FeedTrace) => void;
}

/** What a feed reports to `FeedOptions.trace`. */
export type FeedTrace =
  | { kind: 'subscribed' }
  | { kind: 'unsubscribed' }
  | { kind: 'backfill'; after: string; messages: number }
  | { kind: 'gap'; tip: string };

interface RoomState {
  /** Id of the last message delivered ('' before any); undefined until the room is open. */
  cursor: string | undefined;
  /** Events held while the room opens or backfills, applied in order afterwards. */
  held: RoomEvent[];
  busy: boolean;
  opened: Promise<void>;
  recent: RoomMessage[];
  /** Newest id pushed out of `recent`, '' while nothing was. */
  evicted: string;
  waiters: Set<() => void>;
  retry?: NodeJS.Timeout;
  closed: boolean;
}

export interface Snapshot {
  history: RoomMessage[];
  gap: boolean;
}

/**
 * Turns the bus's at-most-once room traffic into an ordered, gap-free feed per open room. Each
 * published message names the id before it; a node that sees a hole (lost pub/sub traffic, a
 * reconnect, a Redis restart) backfills the hole from history before delivering anything newer.
 * What history no longer holds is reported as a gap, once, before anything that follows it.
 */
export class RoomFeed {
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly bus: Bus,
    private readonly history: HistoryStore,
    private readonly sink: FeedSink,
    private readonly options: FeedOptions,
  ) {}

  /** Subscribes to a room and sets its cursor to the newest stored message. Idempotent. */
  open(room: string): Promise<void> {
    const existing = this.rooms.get(room);
    if (existing !== undefined) return existing.opened;
    const state: RoomState = { cursor: undefined, held: [], busy: true, opened: Promise.resolve(), recent: [], evicted: '', waiters: new Set(), closed: false };
    state.opened = (async () => {
      try {
        await this.bus.subscribeRoom(room);
        this.options.trace?.(room, { kind: 'subscribed' });
        state.cursor = await this.history.tip(room);
      } catch (error) {
        if (this.rooms.get(room) === state) this.rooms.delete(room);
        void this.bus.unsubscribeRoom(room).catch(() => undefined);
        throw error;
      }
      this.release(room, state);
    })();
    this.rooms.set(room, state);
    return state.opened;
  }

  async close(room: string): Promise<void> {
    const state = this.rooms.get(room);
    if (state === undefined) return;
    this.rooms.delete(room);
    state.closed = true;
    clearTimeout(state.retry);
    for (const wake of state.waiters) wake();
    await this.bus.unsubscribeRoom(room);
    this.options.trace?.(room, { kind: 'unsubscribed' });
  }

  /** Entry point for the bus listener. */
  onRoomEvent(event: RoomEvent): void {
    const room = event.kind === 'message' ? event.message.room : event.room;
    const state = this.rooms.get(room);
    if (state === undefined) return;
    if (event.kind === 'signal') {
      // Ephemeral: not ordered with the room's messages, so never held behind a backfill.
      this.sink.signal(room, event.json);
      return;
    }
    if (state.busy) state.held.push(event);
    else this.apply(room, state, event);
  }

  /** Live traffic may have been lost: check every open room against history. */
  resync(): void {
    for (const [room, state] of this.rooms) {
      if (!state.busy) this.backfill(room, state);
    }
  }

  /**
   * Reads what a joining connection must be sent, and calls `attach` (which subscribes the
   * connection to live delivery) in the same turn as the final read, so that every message is
   * either in the snapshot or delivered live, never both and never neither.
   */
  async snapshot(room: string, since: string | undefined, count: number, attach: () => void): Promise<Snapshot> {
    await this.open(room);
    const state = this.rooms.get(room);
    if (state === undefined) throw new Error(`room ${room} closed while joining`);
    if (since !== undefined) await this.catchUp(state, since);
    for (let attempt = 0; ; attempt++) {
      const read: Pick<HistoryRead, 'messages' | 'gap'> = since === undefined
        ? { messages: await this.history.latest(room, count), gap: false }
        : await this.history.after(room, since, this.options.backfillMax);
      // From here to the return there is no await: live delivery cannot interleave.
      const cursor = state.cursor ?? '';
      const stored = read.messages.filter((m) => compareIds(m.id, cursor) <= 0);
      const newest = stored.at(-1)?.id ?? since ?? '';
      const covered = state.evicted === '' || (newest !== '' && compareIds(state.evicted, newest) <= 0);
      if (!covered && attempt < 3) continue;
      const later = newest === '' ? state.recent : state.recent.filter((m) => compareIds(m.id, newest) > 0);
      let history = stored.concat(later);
      if (since === undefined && history.length > count) history = history.slice(history.length - count);
      attach();
      return { history, gap: read.gap };
    }
  }

  /** Waits (bounded) until this node has delivered `since`, when a client arrives from a node that was ahead. */
  private async catchUp(state: RoomState, since: string): Promise<void> {
    const ahead = () => !state.closed && compareIds(since, state.cursor ?? '0-0') > 0;
    if (!ahead()) return;
    const deadline = Date.now() + this.options.catchUpMs;
    while (ahead() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          state.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
        state.waiters.add(wake);
      });
    }
  }

  private apply(room: string, state: RoomState, event: RoomEvent): void {
    if (event.kind === 'presence') {
      this.sink.presence(room, event.event, event.json);
      return;
    }
    if (event.kind === 'signal') {
      this.sink.signal(room, event.json);
      return;
    }
    const cursor = state.cursor ?? '';
    const { message } = event;
    if (cursor !== '' && compareIds(message.id, cursor) <= 0) return; // already delivered
    if (event.prev === cursor) {
      this.deliver(room, state, [message], event.receivedAt);
      return;
    }
    state.held.unshift(event);
    this.backfill(room, state);
  }

  private backfill(room: string, state: RoomState): void {
    state.busy = true;
    clearTimeout(state.retry);
    void (async () => {
      let read: HistoryRead;
      try {
        // The cursor was delivered from the log: if the log lost it, this records the loss for resuming clients.
        read = await this.history.after(room, state.cursor ?? '', this.options.backfillMax, { recordLoss: true });
      } catch (error) {
        this.options.onError?.(room, error);
        if (!state.closed) state.retry = setTimeout(() => this.backfill(room, state), 1_000);
        return;
      }
      if (state.closed) return;
      this.options.trace?.(room, { kind: 'backfill', after: state.cursor ?? '', messages: read.messages.length });
      // Members hear of the loss before anything that follows it: nothing is delivered until then.
      if (read.gap) await this.restart(room, state, read.tip);
      if (state.closed) return;
      if (read.messages.length > 0) this.deliver(room, state, read.messages, undefined);
      this.release(room, state);
    })();
  }

  /**
   * History lost what this node had delivered (trimmed, or Redis lost it). Members are told first,
   * so nothing after the loss is presented as following on from what came before it; then the feed
   * starts over from where the log stands now, with nothing of before the loss kept for joins.
   */
  private async restart(room: string, state: RoomState, tip: string): Promise<void> {
    this.options.trace?.(room, { kind: 'gap', tip });
    await this.sink.gap(room).catch((error: unknown) => this.options.onError?.(room, error));
    state.cursor = tip;
    state.recent = [];
    state.evicted = '';
  }

  /** Leaves the busy state and applies what was held, which may start another backfill. */
  private release(room: string, state: RoomState): void {
    state.busy = false;
    while (!state.busy && state.held.length > 0) this.apply(room, state, state.held.shift()!);
  }

  private deliver(room: string, state: RoomState, messages: RoomMessage[], receivedAt: number | undefined): void {
    state.cursor = messages.at(-1)!.id;
    state.recent.push(...messages);
    const excess = state.recent.length - this.options.recentSize;
    if (excess > 0) state.evicted = state.recent.splice(0, excess).at(-1)!.id;
    this.sink.messages(room, messages, receivedAt);
    for (const wake of state.waiters) wake();
  }
}
