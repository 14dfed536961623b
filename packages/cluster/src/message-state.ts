/**
 * The latest state of a changed message, as kept beside a room's stream (a hash `{room}:state` on
 * Redis, a map in memory): what the room's changes so far made of it, so history can show messages
 * as they are now without replaying the stream. The Lua script `chatChange` (redis-scripts.ts) and
 * applyChange below are the two writers and must agree; the contract suite runs both.
 *
 * Stored form, JSON: `{"t":text,"e":editedTs,"d":1,"r":{emoji:[users]},"v":lastChangeId}`, every
 * field optional (`t` and `e` after an edit, `d` after a delete, `r` while anyone reacts).
 */
import type { MessageChange, MessageState } from '@chat/protocol';
import type { ChangeRefusal } from './bus.js';

export interface StoredState {
  t?: string;
  e?: number;
  d?: 1;
  r?: Record<string, string[]>;
  /** Id of the newest change stored for the message. */
  v?: string;
}

/** The state as history readers hand it on; undefined for text that is not a stored state. */
export function parseState(json: string | null | undefined): StoredState | undefined {
  if (json === null || json === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as StoredState) : undefined;
  } catch {
    return undefined;
  }
}

/** The state history readers attach to a message; `target` is the message's id (the rev of a state written before `v` was). */
export function toMessageState(stored: StoredState, target: string): MessageState {
  const state: MessageState = { rev: typeof stored.v === 'string' ? stored.v : target };
  if (stored.d === 1) state.deleted = true;
  if (typeof stored.t === 'string') state.text = stored.t;
  if (typeof stored.e === 'number') state.edited = stored.e;
  // Lua's cjson writes an empty table as {}, never an empty list: only lists are reactions.
  const reactions = Object.entries(stored.r ?? {}).filter((entry): entry is [string, string[]] => Array.isArray(entry[1]) && entry[1].length > 0);
  if (reactions.length > 0) state.reactions = Object.fromEntries(reactions);
  return state;
}

export type ChangeResult =
  | { kind: 'apply'; state: StoredState }
  | { kind: 'unchanged'; id: string }
  | { kind: 'refused'; refusal: ChangeRefusal };

export interface ChangeRequest {
  change: MessageChange;
  user: string;
  moderator: boolean;
  maxReactions: number;
  ts: number;
}

/**
 * Checks a change against its target (`author` of the stored message, its id `target`) and current
 * state, and gives the state after it. Edits and deletes are the author's (or a moderator's); nothing
 * changes a deleted message; a reaction already as asked changes nothing.
 */
export function applyChange(current: StoredState | undefined, author: string, target: string, request: ChangeRequest): ChangeResult {
  const state: StoredState = structuredClone(current ?? {});
  if (state.d === 1) return { kind: 'refused', refusal: 'not_found' };
  const { change, user } = request;
  if (change.kind !== 'reaction' && author !== user && !request.moderator) return { kind: 'refused', refusal: 'forbidden' };
  if (change.kind === 'edit') return { kind: 'apply', state: { ...state, t: change.text, e: request.ts } };
  if (change.kind === 'delete') return { kind: 'apply', state: state.v === undefined ? { d: 1 } : { d: 1, v: state.v } };
  const reactions = state.r ?? {};
  const users = reactions[change.emoji] ?? [];
  if (users.includes(user) === change.on) return { kind: 'unchanged', id: state.v ?? target };
  if (change.on && users.length === 0 && Object.keys(reactions).length >= request.maxReactions) {
    return { kind: 'refused', refusal: 'too_many_reactions' };
  }
  const next = change.on ? [...users, user] : users.filter((u) => u !== user);
  if (next.length > 0) reactions[change.emoji] = next;
  else delete reactions[change.emoji];
  if (Object.keys(reactions).length > 0) state.r = reactions;
  else delete state.r;
  return { kind: 'apply', state };
}
