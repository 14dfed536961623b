import { RoomFeed, type FeedStart, type HistoryStore, type RoomMessage } from '@chat/cluster';
import { compareIds, isValidName } from '@chat/protocol';
import type { BridgeMetrics, Logger } from '@chat/runtime';
import { LinkLostError } from './mqtt-link.js';
import type { CursorStore, Publisher } from './ports.js';
import { DropReason, roomMessagesTopic } from './topics.js';

export interface OutboundFeedDeps {
  history: HistoryStore;
  cursors: CursorStore;
  link: Publisher;
  /** True while this replica may publish: it leads, and its term cannot have expired. */
  leading(): boolean;
  /** The cursor store refused our token: another replica leads now. */
  fenced(): void;
  metrics: BridgeMetrics;
  log: Logger;
  /** Most messages published and not yet acknowledged by the broker. */
  maxInflight: number;
}

/** The most a room reads from its log at once. */
const BATCH = 500;

/** Rooms are never subscribed one by one: the tap brings every room's traffic. */
const TAPPED = { subscribeRoom: async () => {}, unsubscribeRoom: async () => {} };

/**
 * Chat to MQTT, on the leader only: every room message goes to `chat/rooms/{room}/messages` once,
 * in room order. Ordering, hole repair and gap reports are the cluster's RoomFeed, the same one a
 * gateway delivers with: live traffic comes from the room tap, each message names the one before it,
 * and a room opens at its cursor by reading its log from there. This class adds what is the
 * bridge's own: where each room starts, the broker's flow control, and the saved cursors.
 *
 * Exactly once across a change of leader and a broker reconnection: every room message is published
 * retained, so the broker itself holds, per room, the last message it accepted (it handles one
 * connection's publishes in order, and the leader's connection is the only writer: a new leader's
 * connection on the same client id ends the old one at the broker). Before sending anything on a
 * connection, the feed is given those retained ids (sync) and resumes each room after
 * max(retained, saved cursor). Publishes still unacknowledged when a connection ends are never
 * resent as such (MqttLink rejects them): the next sync decides, with a new RoomFeed. The saved
 * cursors (newest id the broker acknowledged, fenced by the term's token) are the floor when the
 * broker lost its retained messages (a crash without persistence): then what was sent after the
 * floor goes out again.
 */
export class OutboundFeed {
  private origin = '0-0';
  private saved = new Map<string, string>();
  private token: string | undefined;
  private inflight = 0;
  private readonly waiting = new Set<() => void>();
  private dirty = new Map<string, string>();
  private saving: Promise<void> | undefined;
  private saveAgain = false;
  /** The feed of the current connection, from its sync until it ends; undefined meanwhile. */
  private feed: RoomFeed | undefined;

  /** Sending: a term has started and the broker's retained ids of this connection were applied. */
  get sending(): boolean {
    return this.token !== undefined && this.feed !== undefined;
  }

  constructor(private readonly deps: OutboundFeedDeps) {}

  /** Starts a term: loads where the previous leader stopped. Live messages count from here on. */
  async start(token: string): Promise<void> {
    const { origin, cursors } = await this.deps.cursors.loadCursors();
    this.origin = origin;
    this.saved = cursors;
    this.drop();
    this.token = token;
  }

  /**
   * The leader's connection ended: nothing more is sent until the next sync, and rooms restart from
   * their cursors then (what was in flight is judged by the retained ids, not resent blindly).
   */
  unsync(): void {
    this.drop();
  }

  /**
   * The broker's retained latest message per room, read after the leader's connection was
   * established and before anything was sent on it: each room resumes after the newer of it and its
   * saved cursor. Then call catchUp() with every room.
   */
  sync(retained: Map<string, string>): void {
    if (this.token === undefined) return;
    for (const [room, id] of retained) advance(this.saved, room, id);
    this.drop();
    const feed: RoomFeed = new RoomFeed(TAPPED, this.deps.history, {
      messages: (room, messages) => this.send(feed, room, messages),
      presence() {},
      signal() {},
      gap: async (room) => {
        this.deps.metrics.dropped(DropReason.HistoryTrimmed);
        this.deps.log.warn('messages left the room log before they could be forwarded', { room });
      },
    }, {
      recentSize: 0,
      backfillMax: BATCH,
      catchUpMs: 0,
      onError: (room, error) => this.deps.log.warn('reading a room log failed; retrying', { room, error }),
    });
    this.feed = feed;
  }

  /** Ends the term: waits (bounded) for the broker to acknowledge what was sent, then saves. */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.drop();
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.saveAll(deadline);
    this.token = undefined;
    this.dirty.clear();
  }

  /**
   * Reads every given room from its cursor (after taking the lead), or checks it against its log
   * when live traffic was lost. Rooms are read one at a time.
   */
  async catchUp(rooms: Iterable<string>): Promise<void> {
    for (const room of rooms) {
      const feed = this.feed;
      if (feed === undefined || this.token === undefined) return;
      if (!isValidName(room)) continue;
      if (feed.isOpen(room)) feed.check(room);
      else await feed.open(room, this.startOf(room));
    }
  }

  message(room: string, prev: string, id: string, event: string): void {
    // Before a sync the cursors are not known yet; the catch-up after it reads the logs.
    const feed = this.feed;
    if (feed === undefined || this.token === undefined) return;
    if (!isValidName(room)) {
      this.deps.metrics.dropped(DropReason.InvalidName);
      this.deps.log.warn('not forwarding a message of a room whose name is not a topic level', { room: String(room).slice(0, 100) });
      return;
    }
    if (!feed.isOpen(room)) {
      feed.open(room, this.startOf(room)).catch((error: unknown) => this.deps.log.warn('opening a room failed; the next catch-up retries', { room, error }));
    }
    feed.onRoomEvent({ kind: 'message', message: { room, id, event }, prev, receivedAt: 0 });
  }

  /** Where a room starts in this connection: after its cursor, or after the origin (a bound) if it has none. */
  private startOf(room: string): FeedStart {
    const saved = this.saved.get(room);
    return saved !== undefined && compareIds(saved, this.origin) > 0 ? { cursor: saved } : { cursor: this.origin, bound: true };
  }

  private drop(): void {
    const feed = this.feed;
    this.feed = undefined;
    void feed?.closeAll();
    for (const wake of this.waiting) wake();
  }

  private canSend(feed: RoomFeed): boolean {
    return this.feed === feed && this.deps.leading() && this.deps.link.connected;
  }

  /**
   * The RoomFeed's sink: publishes in order, and while the broker holds maxInflight unacknowledged
   * messages, or this replica may not publish right now, makes the room wait (nothing is skipped:
   * the feed holds what follows). A feed that ended meanwhile sends nothing more.
   */
  private send(feed: RoomFeed, room: string, messages: RoomMessage[]): void | Promise<void> {
    if (this.canSend(feed) && this.inflight + messages.length <= this.deps.maxInflight) {
      for (const message of messages) this.publish(room, message);
      return undefined;
    }
    return (async () => {
      for (const message of messages) {
        while (!this.canSend(feed) || this.inflight >= this.deps.maxInflight) {
          if (this.feed !== feed) return;
          await this.ready();
        }
        this.publish(room, message);
      }
    })();
  }

  private publish(room: string, { id, event }: RoomMessage): void {
    this.inflight++;
    // Retained: the broker keeps this room's last accepted message, the cursor a successor trusts.
    this.deps.link.publish(roomMessagesTopic(room)!, event, { retain: true }).then(
      () => {
        this.deps.metrics.crossed('to_mqtt');
        if (this.token === undefined) return;
        if (!advance(this.saved, room, id)) return;
        this.dirty.set(room, id);
        void this.save();
      },
      (error: unknown) => {
        // The connection ended first: the sync on the next connection decides whether it went out.
        if (error instanceof LinkLostError) return;
        this.deps.metrics.dropped(DropReason.PublishFailed);
        this.deps.log.error('the broker refused a room message', { room, id, error });
      },
    ).finally(() => {
      this.inflight--;
      for (const wake of this.waiting) wake();
    });
  }

  /** Waits until a publish settles, the feed ends, or a moment passes (the lead or the link may come back). */
  private ready(): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, 100);
      this.waiting.add(wake);
    });
  }

  /** One save at a time; what is acknowledged meanwhile goes in the next. Failed saves retry. */
  private save(): Promise<void> {
    if (this.saving !== undefined) {
      this.saveAgain = true;
      return this.saving;
    }
    if (this.dirty.size === 0 || this.token === undefined) return Promise.resolve();
    const batch = this.dirty;
    const token = this.token;
    this.dirty = new Map();
    this.saving = this.deps.cursors.saveCursors(token, batch).then(
      (held) => { if (!held) this.deps.fenced(); },
      (error: unknown) => {
        for (const [room, id] of batch) if (!this.dirty.has(room)) this.dirty.set(room, id);
        this.deps.log.warn('saving outbound cursors failed; will retry', { error });
        setTimeout(() => void this.save(), 500);
      },
    ).finally(() => {
      this.saving = undefined;
      if (this.saveAgain) {
        this.saveAgain = false;
        void this.save();
      }
    });
    return this.saving;
  }

  /** Resolves once everything acknowledged so far is saved, or the deadline passed. */
  private async saveAll(deadline: number): Promise<void> {
    while ((this.saving !== undefined || this.dirty.size > 0) && this.token !== undefined && Date.now() < deadline) {
      await (this.saving ?? this.save());
      if (this.dirty.size > 0 && this.saving === undefined) await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Sets `cursors[room]` to `id` unless it already holds that id or a later one; true when it moved. */
function advance(cursors: Map<string, string>, room: string, id: string): boolean {
  const current = cursors.get(room);
  if (current !== undefined && compareIds(id, current) <= 0) return false;
  cursors.set(room, id);
  return true;
}
