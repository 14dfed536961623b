/** A ban or a mute of one user in one room. `until` is epoch ms, 0 for one with no end. */
export interface Restriction {
  user: string;
  until: number;
  /** Why, as the moderator said (bans); '' when none was given. */
  reason: string;
}

export type RestrictionKind = 'bans' | 'mutes';

/** Everything a node checks a join or a send against, read in one go and cached until a moderation signal. */
export interface RoomRules {
  /** user -> its ban; expired ones may still be listed: compare `until` with the clock (see isActive). */
  bans: ReadonlyMap<string, Restriction>;
  mutes: ReadonlyMap<string, Restriction>;
  /** One message per this many seconds per member; 0: slow mode is off. */
  slowSeconds: number;
  /** The users granted moderation of the room through the admin API (the token claim `mod` is the other way). */
  moderators: ReadonlySet<string>;
}

/** True while a restriction holds at `now`. */
export function isActive(restriction: Restriction | undefined, now: number): restriction is Restriction {
  return restriction !== undefined && (restriction.until === 0 || restriction.until > now);
}

/**
 * A room's moderation state, kept beside its history (in the room's hash slot on Redis), so every node
 * and every restart sees the same. Each call rejects with BusUnavailableError when the store is unreachable.
 */
export interface ModerationStore {
  rules(room: string): Promise<RoomRules>;
  /** Bans or mutes `user` until `until` (epoch ms, 0: no end), replacing an earlier one. */
  restrict(room: string, kind: RestrictionKind, user: string, until: number, reason: string): Promise<void>;
  /** Lifts a ban or mute; resolves false when there was none in force. */
  lift(room: string, kind: RestrictionKind, user: string): Promise<boolean>;
  /** The bans or mutes in force, sorted by user. */
  list(room: string, kind: RestrictionKind): Promise<Restriction[]>;
  setSlowMode(room: string, seconds: number): Promise<void>;
  /**
   * Slow mode's clock for one member: resolves 0 and starts a new interval of `intervalMs` when none
   * is running, else how many ms remain of the running one (nothing changes then).
   */
  takeSlot(room: string, user: string, intervalMs: number): Promise<number>;
  /** True when the admin API granted `user` moderation of the room (one read, for checks that must not be stale). */
  isModerator(room: string, user: string): Promise<boolean>;
  /** Grants (true) or revokes (false) moderation of the room; resolves whether anything changed. */
  setModerator(room: string, user: string, granted: boolean): Promise<boolean>;
}
