import type { MemoryBus } from './memory-bus.js';
import { DEFAULT_PRESENCE_TTL_MS, type PresenceStore } from './presence-store.js';
import { presenceEvent } from './room-wire.js';

/** Presence for the embedded bus, with the same rules as Redis so both pass one contract. */
export class MemoryPresence implements PresenceStore {
  /** room -> user -> nodes holding it */
  private readonly rooms = new Map<string, Map<string, Set<string>>>();
  /** node -> its entries, as [room, user] */
  private readonly entries = new Map<string, Map<string, [string, string]>>();
  /** node -> last heartbeat (epoch ms) */
  private readonly heartbeats = new Map<string, number>();

  constructor(private readonly bus: MemoryBus, private readonly ttlMs = DEFAULT_PRESENCE_TTL_MS) {}

  async join(room: string, user: string, node: string): Promise<boolean> {
    this.entriesOf(node).set(`${room}\n${user}`, [room, user]);
    this.heartbeats.set(node, Math.max(Date.now(), this.heartbeats.get(node) ?? 0));
    let users = this.rooms.get(room);
    if (users === undefined) this.rooms.set(room, (users = new Map()));
    let holders = users.get(user);
    if (holders === undefined) users.set(user, (holders = new Set()));
    if (holders.has(node)) return false;
    holders.add(node);
    if (holders.size > 1) return false;
    this.announce(room, user, 'join');
    return true;
  }

  async leave(room: string, user: string, node: string): Promise<boolean> {
    this.entries.get(node)?.delete(`${room}\n${user}`);
    return this.drop(room, user, node);
  }

  async members(room: string): Promise<string[]> {
    return [...(this.rooms.get(room)?.keys() ?? [])];
  }

  async count(room: string): Promise<number> {
    return this.rooms.get(room)?.size ?? 0;
  }

  async heartbeat(node: string): Promise<void> {
    this.heartbeats.set(node, Date.now());
  }

  async reap(): Promise<void> {
    const cutoff = Date.now() - this.ttlMs;
    for (const [node, last] of this.heartbeats) {
      if (last > cutoff) continue;
      for (const [room, user] of this.entries.get(node)?.values() ?? []) this.drop(room, user, node);
      this.entries.delete(node);
      this.heartbeats.delete(node);
    }
  }

  private drop(room: string, user: string, node: string): boolean {
    const users = this.rooms.get(room);
    const holders = users?.get(user);
    if (users === undefined || holders === undefined || !holders.delete(node) || holders.size > 0) return false;
    users.delete(user);
    if (users.size === 0) this.rooms.delete(room);
    this.announce(room, user, 'leave');
    return true;
  }

  private entriesOf(node: string): Map<string, [string, string]> {
    let mine = this.entries.get(node);
    if (mine === undefined) this.entries.set(node, (mine = new Map()));
    return mine;
  }

  private announce(room: string, user: string, state: 'join' | 'leave'): void {
    this.bus.emitRoom(presenceEvent(room, user, state));
  }
}
