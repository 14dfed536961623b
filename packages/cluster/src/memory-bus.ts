import { encodeChangeBody } from '@chat/protocol';
import type { Bus, BusListener, ChangeDraft, DirectDraft, DirectOutcome, MessageDraft, Published, RoomEvent } from './bus.js';
import type { LeftReason } from '@chat/protocol';
import type { MemoryHistory } from './memory-history.js';
import { applyChange } from './message-state.js';
import { MemoryOnce } from './memory-once.js';
import { storedBody } from './room-wire.js';

const ignore: BusListener = { room() {}, user() {}, resync() {}, status() {} };

/**
 * The embedded bus: one process, no network. Delivery is deferred to a microtask so callers see
 * the same asynchrony as with Redis (a publish resolves before, or interleaved with, delivery).
 */
export class MemoryBus implements Bus {
  readonly connected = true;
  private listener = ignore;
  private readonly rooms = new Set<string>();
  private readonly users = new Set<string>();
  private readonly taps = new Set<(event: RoomEvent) => void>();
  private readonly once: MemoryOnce;

  constructor(private readonly history: MemoryHistory, idempotencyMs: number) {
    this.once = new MemoryOnce(idempotencyMs);
  }

  listen(listener: BusListener): void {
    this.listener = listener;
  }

  async publish(draft: MessageDraft | ChangeDraft): Promise<Published> {
    const key = draft.idempotencyKey === undefined ? undefined : `room\n${draft.room}\n${draft.idempotencyKey}`;
    const first = key === undefined ? undefined : this.once.get(key);
    if (first !== undefined) return { room: draft.room, id: first, duplicate: true };
    let changed: Parameters<MemoryHistory['append']>[2];
    if ('change' in draft) {
      const { target } = draft.change;
      const found = this.history.find(draft.room, target);
      if (found === undefined) return { room: draft.room, id: '', duplicate: false, refused: 'not_found' };
      const author = (JSON.parse(found.message.event) as { from: string }).from;
      const result = applyChange(found.state, author, target, { change: draft.change, user: draft.from, moderator: draft.moderator, maxReactions: draft.maxReactions, ts: draft.ts });
      if (result.kind === 'refused') return { room: draft.room, id: '', duplicate: false, refused: result.refusal };
      if (result.kind === 'unchanged') return { room: draft.room, id: result.id, duplicate: false, unchanged: true };
      changed = { target, state: result.state };
    }
    const body = 'change' in draft ? encodeChangeBody(draft.change, draft.from, draft.ts) : storedBody(draft);
    const { message, prev } = this.history.append(draft.room, body, changed);
    if (key !== undefined) this.once.set(key, message.id);
    this.emitRoom({ kind: 'message', message, prev, receivedAt: draft.receivedAt });
    return { room: draft.room, id: message.id, duplicate: false };
  }

  async direct(draft: DirectDraft): Promise<DirectOutcome> {
    const key = draft.idempotencyKey === undefined ? undefined : `direct\n${draft.idempotencyKey}`;
    const first = key === undefined ? undefined : this.once.get(key);
    if (first !== undefined) return { reached: true, id: first, duplicate: true };
    if (!this.users.has(draft.to)) return { reached: false, id: draft.id, duplicate: false };
    if (key !== undefined) this.once.set(key, draft.id);
    const { to, from, event, originConn, receivedAt } = draft;
    queueMicrotask(() => {
      this.listener.user({ user: to, event, originConn, receivedAt });
      if (from !== to && this.users.has(from)) this.listener.user({ user: from, event, originConn, receivedAt });
    });
    return { reached: true, id: draft.id, duplicate: false };
  }

  async disconnect(user: string): Promise<number> {
    return this.listener.disconnect?.(user) ?? 0;
  }

  async evict(room: string, user: string, reason: LeftReason): Promise<void> {
    if (this.users.has(user)) queueMicrotask(() => this.listener.evict?.(room, user, reason));
  }

  async signal(room: string, json: string, exceptUser?: string): Promise<void> {
    this.emitRoom(exceptUser === undefined ? { kind: 'signal', room, json } : { kind: 'signal', room, json, exceptUser });
  }

  async sync(user: string, json: string, originConn: string): Promise<void> {
    if (!this.users.has(user)) return;
    const receivedAt = Date.now();
    queueMicrotask(() => this.listener.user({ user, event: json, originConn, receivedAt, sync: true }));
  }

  /** Room events reach the listener only while the room is subscribed, as with Redis pub/sub; taps see every message. */
  emitRoom(event: RoomEvent): void {
    const room = event.kind === 'message' ? event.message.room : event.room;
    queueMicrotask(() => {
      if (this.rooms.has(room)) this.listener.room(event);
      if (event.kind === 'message') for (const tap of this.taps) tap(event);
    });
  }

  /** Every room event, subscribed or not (MemoryRoomTap); returns the call that stops it. */
  tap(listener: (event: RoomEvent) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  async subscribeRoom(room: string): Promise<void> {
    this.rooms.add(room);
  }

  async unsubscribeRoom(room: string): Promise<void> {
    this.rooms.delete(room);
  }

  async subscribeUser(user: string): Promise<void> {
    this.users.add(user);
  }

  async unsubscribeUser(user: string): Promise<void> {
    this.users.delete(user);
  }

  async close(): Promise<void> {
    this.rooms.clear();
    this.users.clear();
    this.taps.clear();
  }
}
