import type { MemoryBus } from './memory-bus.js';
import { DEFAULT_PRESENCE_TTL_MS, presenceJson, type PresenceStore } from './presence-store.js';

/** Presence for the embedded bus, with the same expiry rules as Redis so both pass one contract. */
export class MemoryPresence implements PresenceStore {
  /** room -> user -> node -> expiry (epoch ms) */
  private readonly rooms = new Map<string, Map<string, Map<string, number>>>();

  constructor(private readonly bus: MemoryBus, private readonly ttlMs = DEFAULT_PRESENCE_TTL_MS) {}

  async join(room: string, user: string, node: string): Promise<boolean> {
    const nodes = this.nodesOf(room, user);
    this.dropExpired(nodes);
    const first = nodes.size === 0;
    nodes.set(node, Date.now() + this.ttlMs);
    if (first) this.announce(room, user, 'join');
    return first;
  }

  async leave(room: string, user: string, node: string): Promise<boolean> {
    const users = this.rooms.get(room);
    const nodes = users?.get(user);
    if (users === undefined || nodes === undefined) return false;
    nodes.delete(node);
    this.dropExpired(nodes);
    if (nodes.size > 0) return false;
    this.forget(room, user);
    return true;
  }

  async members(room: string): Promise<string[]> {
    const now = Date.now();
    const users = this.rooms.get(room) ?? new Map<string, Map<string, number>>();
    return [...users].filter(([, nodes]) => [...nodes.values()].some((expiry) => expiry > now)).map(([user]) => user);
  }

  async refresh(node: string, entries: Iterable<{ room: string; user: string }>): Promise<void> {
    for (const { room, user } of entries) await this.join(room, user, node);
  }

  async sweep(rooms: Iterable<string>): Promise<void> {
    for (const room of rooms) {
      for (const [user, nodes] of this.rooms.get(room) ?? []) {
        this.dropExpired(nodes);
        if (nodes.size === 0) this.forget(room, user);
      }
    }
  }

  private forget(room: string, user: string): void {
    const users = this.rooms.get(room);
    users?.delete(user);
    if (users?.size === 0) this.rooms.delete(room);
    this.announce(room, user, 'leave');
  }

  private announce(room: string, user: string, state: 'join' | 'leave'): void {
    this.bus.emitRoom({ kind: 'presence', room, event: { type: 'presence', room, user, state }, json: presenceJson(room, user, state) });
  }

  private dropExpired(nodes: Map<string, number>): void {
    const now = Date.now();
    for (const [node, expiry] of nodes) if (expiry <= now) nodes.delete(node);
  }

  private nodesOf(room: string, user: string): Map<string, number> {
    let users = this.rooms.get(room);
    if (users === undefined) this.rooms.set(room, (users = new Map()));
    let nodes = users.get(user);
    if (nodes === undefined) users.set(user, (nodes = new Map()));
    return nodes;
  }
}
