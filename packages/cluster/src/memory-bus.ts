import { storedBody, type Bus, type BusListener, type MessageDraft, type RoomEvent, type RoomMessage } from './bus.js';
import type { MemoryHistory } from './memory-history.js';

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

  constructor(private readonly history: MemoryHistory) {}

  listen(listener: BusListener): void {
    this.listener = listener;
  }

  async publish(draft: MessageDraft): Promise<RoomMessage> {
    const { message, prev } = this.history.append(draft.room, storedBody(draft));
    this.emitRoom({ kind: 'message', message, prev, receivedAt: draft.receivedAt });
    return message;
  }

  async direct(to: string, from: string, event: string, originConn: string, receivedAt: number): Promise<boolean> {
    if (!this.users.has(to)) return false;
    queueMicrotask(() => {
      this.listener.user({ user: to, event, originConn, receivedAt });
      if (from !== to && this.users.has(from)) this.listener.user({ user: from, event, originConn, receivedAt });
    });
    return true;
  }

  /** Room events reach the listener only while the room is subscribed, as with Redis pub/sub. */
  emitRoom(event: RoomEvent): void {
    const room = event.kind === 'message' ? event.message.room : event.room;
    queueMicrotask(() => {
      if (this.rooms.has(room)) this.listener.room(event);
    });
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
  }
}
