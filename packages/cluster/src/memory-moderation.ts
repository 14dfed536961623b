import { isActive, type ModerationStore, type Restriction, type RestrictionKind, type RoomRules } from './moderation-store.js';

interface RoomState {
  bans: Map<string, Restriction>;
  mutes: Map<string, Restriction>;
  slowSeconds: number;
  moderators: Set<string>;
  /** user -> when its slow-mode interval ends (epoch ms) */
  slots: Map<string, number>;
}

/** The moderation store of the embedded backend: one process, lost with it. */
export class MemoryModeration implements ModerationStore {
  private readonly rooms = new Map<string, RoomState>();

  async rules(room: string): Promise<RoomRules> {
    const state = this.rooms.get(room);
    if (state === undefined) return { bans: new Map(), mutes: new Map(), slowSeconds: 0, moderators: new Set() };
    // Copies: a caller's cache must not change under it.
    return { bans: new Map(state.bans), mutes: new Map(state.mutes), slowSeconds: state.slowSeconds, moderators: new Set(state.moderators) };
  }

  async restrict(room: string, kind: RestrictionKind, user: string, until: number, reason: string): Promise<void> {
    this.state(room)[kind].set(user, { user, until, reason });
  }

  async lift(room: string, kind: RestrictionKind, user: string): Promise<boolean> {
    const entries = this.rooms.get(room)?.[kind];
    const held = isActive(entries?.get(user), Date.now());
    entries?.delete(user);
    return held;
  }

  async list(room: string, kind: RestrictionKind): Promise<Restriction[]> {
    const now = Date.now();
    const entries = [...(this.rooms.get(room)?.[kind].values() ?? [])].filter((r) => isActive(r, now));
    return entries.sort((a, b) => (a.user < b.user ? -1 : 1));
  }

  async setSlowMode(room: string, seconds: number): Promise<void> {
    this.state(room).slowSeconds = seconds;
  }

  async takeSlot(room: string, user: string, intervalMs: number): Promise<number> {
    const slots = this.state(room).slots;
    const now = Date.now();
    const end = slots.get(user) ?? 0;
    if (end > now) return end - now;
    slots.set(user, now + intervalMs);
    return 0;
  }

  async isModerator(room: string, user: string): Promise<boolean> {
    return this.rooms.get(room)?.moderators.has(user) ?? false;
  }

  async setModerator(room: string, user: string, granted: boolean): Promise<boolean> {
    const moderators = this.state(room).moderators;
    const had = moderators.has(user);
    if (granted) moderators.add(user);
    else moderators.delete(user);
    return had !== granted;
  }

  private state(room: string): RoomState {
    let state = this.rooms.get(room);
    if (state === undefined) this.rooms.set(room, (state = { bans: new Map(), mutes: new Map(), slowSeconds: 0, moderators: new Set(), slots: new Map() }));
    return state;
  }
}
