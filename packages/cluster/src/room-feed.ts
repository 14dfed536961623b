import { compareIds } from '@chat/protocol';
import type { PresenceEvent } from '@chat/protocol';
import type { Bus, RoomEvent, RoomMessage } from './bus.js';
import type { HistoryRead, HistoryStore } from './history-store.js';

/** Where a feed hands what it delivers, in room order. */
export interface FeedSink {
  /**
   * Messages of one room, and the changes to them (edits, deletes, reactions: stored events that share
   * the messages' ids and order), in id order, each exactly once. `receivedAt` is set for live traffic only.
   * A sink that cannot take more yet returns a promise: the room then holds what follows until it
   * settles (flow control, e.g. a broker's unacknowledged publishes), and reads no history meanwhile.
   */
  messages(room: string, messages: RoomMessage[], receivedAt?: number): void | Promise<void>;
  presence(room: string, event: PresenceEvent, json: string): void;
  /** An ephemeral room event (Bus.signal), handed on as it arrives; not for `exceptUser`'s connections. */
  signal(room: string, json: string, exceptUser?: string): void;
  /**
   * Messages of `room` were lost for good: trimmed from history before this node could backfill,
   * or lost by the log itself (Redis restarted empty, failed over to a lagging replica).
   */
  gap(room: string): Promise<void>;
}

/**
 * How a feed follows a room's live traffic: a gateway subscribes on the bus while it has members
 * there; a service that taps every room (the bridge) is subscribed already and passes no-ops.
 */
export type RoomSubscriptions = Pick<Bus, 'subscribeRoom' | 'unsubscribeRoom'>;

/** Where a room opened at a known point starts: a delivered id, or only a lower bound. */
export interface FeedStart {
  /** Id of the last message already handed on ('' for none). */
  cursor: string;
  /**
   * `cursor` is a lower bound, not an id that was delivered (see AfterOptions.bound): whatever the log
   * holds after it is delivered, and only a loss known after it is a gap. Holds until the first delivery.
   */
  bound?: boolean;
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
  /** The cursor is a lower bound until the first delivery (FeedStart.bound). */
  bound: boolean;
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
 *
 * A gateway opens the rooms its members are in, at the log's tip, and delivers to its connections;
 * the MQTT bridge opens every room from the room tap, at the cursor where forwarding stopped, and
 * publishes to the broker at the pace the broker acknowledges (its sink asks for time).
 */
export class RoomFeed {
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly bus: RoomSubscriptions,
    private readonly history: HistoryStore,
    private readonly sink: FeedSink,
    private readonly options: FeedOptions,
  ) {}

  /**
   * Subscribes to a room and sets its cursor to the newest stored message, or, given `start`, reads
   * the room's log from there first (a service that resumes where it stopped). Idempotent.
   */
  open(room: string, start?: FeedStart): Promise<void> {
    const existing = this.rooms.get(room);
    if (existing !== undefined) return existing.opened;
    const state: RoomState = {
      cursor: undefined, bound: false, held: [], busy: true, opened: Promise.resolve(), recent: [], evicted: '', waiters: new Set(), closed: false,
    };
    state.opened = (async () => {
      try {
        await this.bus.subscribeRoom(room);
        this.options.trace?.(room, { kind: 'subscribed' });
        if (start === undefined) state.cursor = await this.history.tip(room);
      } catch (error) {
        if (this.rooms.get(room) === state) this.rooms.delete(room);
        void this.bus.unsubscribeRoom(room).catch(() => undefined);
        throw error;
      }
      if (start === undefined) {
        this.release(room, state);
        return;
      }
      state.cursor = start.cursor;
      state.bound = start.bound === true;
      await this.readLog(room, state);
    })();
    this.rooms.set(room, state);
    return state.opened;
  }

  isOpen(room: string): boolean {
    return this.rooms.has(room);
  }

  /** Closes every room: a service whose reader stops (a bridge leader's term or connection ended). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.rooms.keys()].map((room) => this.close(room)));
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
      this.sink.signal(room, event.json, event.exceptUser);
      return;
    }
    if (state.busy) state.held.push(event);
    else this.apply(room, state, event);
  }

  /** Live traffic may have been lost: check every open room against history. */
  resync(): void {
    for (const room of this.rooms.keys()) this.check(room);
  }

  /** Live traffic of one room may have been lost: check it against history (unless it is reading already). */
  check(room: string): void {
    const state = this.rooms.get(room);
    if (state !== undefined && !state.busy) this.backfill(room, state);
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
      this.sink.signal(room, event.json, event.exceptUser);
      return;
    }
    const cursor = state.cursor ?? '';
    const { message } = event;
    if (cursor !== '' && compareIds(message.id, cursor) <= 0) return; // already delivered
    if (event.prev === cursor && !state.bound) {
      const pending = this.deliver(room, state, [message], event.receivedAt);
      if (pending !== undefined) this.hold(room, state, pending);
      return;
    }
    state.held.unshift(event);
    this.backfill(room, state);
  }

  private backfill(room: string, state: RoomState): void {
    void this.readLog(room, state);
  }

  /** Reads the room's log from its cursor until caught up, then applies what was held meanwhile. */
  private async readLog(room: string, state: RoomState): Promise<void> {
    state.busy = true;
    clearTimeout(state.retry);
    for (;;) {
      let read: HistoryRead;
      try {
        // A delivered cursor comes from the log: if the log lost it, this records the loss for resuming clients.
        const options = state.bound ? { bound: true } : { recordLoss: true };
        read = await this.history.after(room, state.cursor ?? '', this.options.backfillMax, options);
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
      if (read.messages.length > 0) await this.deliver(room, state, read.messages, undefined);
      if (state.closed) return;
      // A full page: the log may hold more, so read on before anything live.
      if (read.messages.length < this.options.backfillMax) break;
    }
    this.release(room, state);
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

  /** The sink asked for time: hold what follows until it is ready, then go on. */
  private hold(room: string, state: RoomState, pending: Promise<void>): void {
    state.busy = true;
    void pending.then(() => { if (!state.closed) this.release(room, state); });
  }

  /** Hands messages to the sink; returns the sink's promise when it asked for time. */
  private deliver(room: string, state: RoomState, messages: RoomMessage[], receivedAt: number | undefined): Promise<void> | undefined {
    state.cursor = messages.at(-1)!.id;
    state.bound = false;
    state.recent.push(...messages);
    const excess = state.recent.length - this.options.recentSize;
    if (excess > 0) state.evicted = state.recent.splice(0, excess).at(-1)!.id;
    const pending = this.sink.messages(room, messages, receivedAt);
    for (const wake of state.waiters) wake();
    return pending === undefined ? undefined : pending.catch((error: unknown) => this.options.onError?.(room, error));
  }
}
