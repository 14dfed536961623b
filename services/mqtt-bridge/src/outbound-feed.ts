import type { HistoryStore } from '@chat/cluster';
import { compareIds, isValidName } from '@chat/protocol';
import type { BridgeMetrics, Logger } from '@chat/runtime';
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
 * broker outage) is read from the room's log starting at the room's cursor. The newest id the broker
 * acknowledged is saved per room, fenced by the term's token: a successor starts from there.
 *
 * Exactly once, except across a change of leader: messages sent but not yet saved as acknowledged
 * (at most `maxInflight`, plus one save round trip) may go out again. Devices can drop those by id.
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

  constructor(private readonly deps: OutboundFeedDeps) {}

  /** Starts a term: loads where the previous leader stopped. Live messages count from here on. */
  async start(token: string): Promise<void> {
    const { origin, cursors } = await this.deps.cursors.loadCursors();
    this.origin = origin;
    this.saved = cursors;
    this.rooms.clear();
    this.token = token;
  }

  /** Ends the term: waits (bounded) for the broker to acknowledge what was sent, then saves. */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.saveAll(deadline);
    this.token = undefined;
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

  /** The broker is back: send what piled up in the logs meanwhile. */
  resume(): void {
    for (const [room, state] of this.rooms) void this.pump(room, state);
  }

  message(room: string, prev: string, id: string, event: string): void {
    if (this.token === undefined) return;
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
      const cursor = this.saved.get(room) ?? this.origin;
      state = { sent: cursor, acked: cursor, pumping: false, again: false };
      this.rooms.set(room, state);
    }
    return state;
  }

  private canSend(): boolean {
    return this.token !== undefined && this.deps.leading() && this.deps.link.connected;
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
          const read = await this.deps.history.after(room, state.sent, BATCH);
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
    this.deps.link.publish(roomMessagesTopic(room)!, event).then(
      () => {
        this.deps.metrics.crossed('to_mqtt');
        if (this.rooms.get(room) !== state || compareIds(id, state.acked) <= 0) return;
        state.acked = id;
        this.dirty.set(room, id);
        void this.save();
      },
      (error: unknown) => {
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
