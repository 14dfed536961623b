import type { HistoryStore } from '@chat/cluster';
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

interface RoomState {
  /** Id of the newest message handed to the broker. */
  sent: string;
  /** Id of the newest message the broker acknowledged. */
  acked: string;
  pumping: boolean;
  again: boolean;
}

const BATCH = 500;

/**
 * Chat to MQTT, on the leader only: every room message goes to `chat/rooms/{room}/messages` once,
 * in room order. Live traffic comes from the room tap; each message names the one before it, so a
 * message that follows what was sent goes straight out, and anything else (a hole, a new leader, a
 * broker outage) is read from the room's log starting at the room's cursor.
 *
 * Exactly once across a change of leader and a broker reconnection: every room message is published
 * retained, so the broker itself holds, per room, the last message it accepted (it handles one
 * connection's publishes in order, and the leader's connection is the only writer: a new leader's
 * connection on the same client id ends the old one at the broker). Before sending anything on a
 * connection, the feed is given those retained ids (sync) and resumes each room after
 * max(retained, saved cursor). Publishes still unacknowledged when a connection ends are never
 * resent as such (MqttLink rejects them): the next sync decides. The saved cursors (newest id the
 * broker acknowledged, fenced by the term's token) are the floor when the broker lost its retained
 * messages (a crash without persistence): then what was sent after the floor goes out again.
 */
export class OutboundFeed {
  private readonly rooms = new Map<string, RoomState>();
  private origin = '0-0';
  private saved = new Map<string, string>();
  private token: string | undefined;
  private inflight = 0;
  private readonly waiting = new Set<() => void>();
  private dirty = new Map<string, string>();
  private saving: Promise<void> | undefined;
  private saveAgain = false;
  /** The retained ids of the current connection were applied: sending may begin. */
  private synced = false;

  /** Sending: a term has started and the broker's retained ids of this connection were applied. */
  get sending(): boolean {
    return this.token !== undefined && this.synced;
  }

  constructor(private readonly deps: OutboundFeedDeps) {}

  /** Starts a term: loads where the previous leader stopped. Live messages count from here on. */
  async start(token: string): Promise<void> {
    const { origin, cursors } = await this.deps.cursors.loadCursors();
    this.origin = origin;
    this.saved = cursors;
    this.rooms.clear();
    this.synced = false;
    this.token = token;
  }

  /**
   * The leader's connection ended: nothing more is sent until the next sync, and rooms restart from
   * their cursors then (what was in flight is judged by the retained ids, not resent blindly).
   */
  unsync(): void {
    this.synced = false;
    this.rooms.clear();
  }

  /**
   * The broker's retained latest message per room, read after the leader's connection was
   * established and before anything was sent on it: each room resumes after the newer of it and its
   * saved cursor. Then call catchUp() with every room.
   */
  sync(retained: Map<string, string>): void {
    if (this.token === undefined) return;
    for (const [room, id] of retained) advance(this.saved, room, id);
    this.rooms.clear();
    this.synced = true;
  }

  /** Ends the term: waits (bounded) for the broker to acknowledge what was sent, then saves. */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.saveAll(deadline);
    this.token = undefined;
    this.synced = false;
    this.rooms.clear();
    this.dirty.clear();
  }

  /** Reads every given room from its cursor: after taking the lead, or when live traffic was lost. */
  async catchUp(rooms: Iterable<string>): Promise<void> {
    for (const room of rooms) {
      if (this.token === undefined) return;
      if (isValidName(room)) await this.pump(room, this.state(room));
    }
  }

  message(room: string, prev: string, id: string, event: string): void {
    // Before a sync the cursors are not known yet; the catch-up after it reads the logs.
    if (this.token === undefined || !this.synced) return;
    if (!isValidName(room)) {
      this.deps.metrics.dropped(DropReason.InvalidName);
      this.deps.log.warn('not forwarding a message of a room whose name is not a topic level', { room: String(room).slice(0, 100) });
      return;
    }
    const state = this.state(room);
    if (!state.pumping && prev === state.sent && this.canSend() && this.inflight < this.deps.maxInflight) this.send(room, state, id, event);
    else void this.pump(room, state);
  }

  private state(room: string): RoomState {
    let state = this.rooms.get(room);
    if (state === undefined) {
      const saved = this.saved.get(room);
      const cursor = saved !== undefined && compareIds(saved, this.origin) > 0 ? saved : this.origin;
      state = { sent: cursor, acked: cursor, pumping: false, again: false };
      this.rooms.set(room, state);
    }
    return state;
  }

  private canSend(): boolean {
    return this.token !== undefined && this.synced && this.deps.leading() && this.deps.link.connected;
  }

  private async pump(room: string, state: RoomState): Promise<void> {
    if (state.pumping) {
      state.again = true;
      return;
    }
    state.pumping = true;
    try {
      do {
        state.again = false;
        while (this.canSend()) {
          // Until a room's first message goes out its cursor is the origin, a bound rather than a sent id.
          const read = await this.deps.history.after(room, state.sent, BATCH, { bound: state.sent === this.origin });
          if (this.rooms.get(room) !== state) return; // the term ended meanwhile
          if (read.gap) {
            this.deps.metrics.dropped(DropReason.HistoryTrimmed);
            this.deps.log.warn('messages were trimmed from history before they could be forwarded', { room, after: state.sent });
          }
          for (const message of read.messages) {
            if (compareIds(message.id, state.sent) > 0) this.send(room, state, message.id, message.event);
          }
          if (read.messages.length < BATCH) break;
          await this.room();
        }
      } while (state.again && this.canSend());
    } catch (error) {
      this.deps.log.warn('reading a room log failed; retrying', { room, error });
      setTimeout(() => { if (this.rooms.get(room) === state) void this.pump(room, state); }, 1_000);
    } finally {
      state.pumping = false;
    }
  }

  private send(room: string, state: RoomState, id: string, event: string): void {
    state.sent = id;
    this.inflight++;
    // Retained: the broker keeps this room's last accepted message, the cursor a successor trusts.
    this.deps.link.publish(roomMessagesTopic(room)!, event, { retain: true }).then(
      () => {
        this.deps.metrics.crossed('to_mqtt');
        if (this.rooms.get(room) !== state || compareIds(id, state.acked) <= 0) return;
        state.acked = id;
        advance(this.saved, room, id);
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

  /** Waits until fewer than maxInflight messages await the broker's acknowledgement. */
  private async room(): Promise<void> {
    while (this.inflight >= this.deps.maxInflight) {
      await new Promise<void>((resolve) => {
        const wake = () => { this.waiting.delete(wake); resolve(); };
        this.waiting.add(wake);
      });
    }
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

/** Sets `cursors[room]` to `id` unless it already holds a later id. */
function advance(cursors: Map<string, string>, room: string, id: string): void {
  const current = cursors.get(room);
  if (current === undefined || compareIds(id, current) > 0) cursors.set(room, id);
}
