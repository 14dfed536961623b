/**
 * Who is in a room, across the cluster. An entry is (room, user, node). A user is present in a room
 * while any node holds an entry for it; a `presence` event goes out on the room's channel when the
 * first entry appears and when the last one goes.
 *
 * Liveness is per node, not per entry: a node heartbeats about every ttl/4, and the entries of a
 * node silent for ttlMs are reaped by any live node, sending the leave events they owe. So a dead
 * node's users leave within ttl + one reap interval, at a cost that does not grow with entries.
 */
export interface PresenceStore {
  /** Resolves true when this made the user present in the room (a join event went out). */
  join(room: string, user: string, node: string): Promise<boolean>;
  /** Resolves true when this was the user's last entry in the room (a leave event went out). */
  leave(room: string, user: string, node: string): Promise<boolean>;
  members(room: string): Promise<string[]>;
  /** How many users are present in the room, without listing them. */
  count(room: string): Promise<number>;
  /** Marks `node` alive for another ttlMs. */
  heartbeat(node: string): Promise<void>;
  /** Removes the entries of nodes silent for ttlMs. Safe to call from every node at once. */
  reap(): Promise<void>;
}

export const DEFAULT_PRESENCE_TTL_MS = 20_000;
