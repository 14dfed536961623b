/**
 * Who is in a room, across the cluster. An entry is (room, user, node) and lives `ttlMs` unless
 * refreshed, so the users of a node that dies leave within ttl + sweep interval. A `presence`
 * event goes out on the room's channel when a user's first entry appears and when the last goes.
 */
export interface PresenceStore {
  /** Resolves true when this was the user's first entry in the room (a join event went out). */
  join(room: string, user: string, node: string): Promise<boolean>;
  /** Resolves true when this was the user's last entry in the room (a leave event went out). */
  leave(room: string, user: string, node: string): Promise<boolean>;
  members(room: string): Promise<string[]>;
  /** Extends the life of this node's entries; call more often than ttlMs. */
  refresh(node: string, entries: Iterable<{ room: string; user: string }>): Promise<void>;
  /** Removes expired entries in these rooms, sending the leave events they owe. */
  sweep(rooms: Iterable<string>): Promise<void>;
}

export const DEFAULT_PRESENCE_TTL_MS = 20_000;

export function presenceJson(room: string, user: string, state: 'join' | 'leave'): string {
  return JSON.stringify({ type: 'presence', room, user, state });
}
