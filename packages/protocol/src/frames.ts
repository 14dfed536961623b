import type { ErrorCode } from './codes.js';

/**
 * A room message as every member sees it. `id` is unique and increasing per room. History (and a
 * join) gives it in its latest state: `edited` (when the text was last changed), `reactions`; a
 * deleted one comes as a Tombstone, which the SDK hands on as a ChatMessage with `deleted` and text ''.
 */
export interface ChatMessage {
  type: 'message';
  room: string;
  id: string;
  from: string;
  text: string;
  ts: number;
  via?: Via;
  edited?: number;
  /** Only in the SDK's form of a Tombstone (then `text` is ''). */
  deleted?: true;
  reactions?: Record<string, ReactionSummary>;
  /**
   * On a message given in its latest state: the id of the newest change that state includes. A
   * change event with an id at or below it is already applied (applyChange in the SDK skips it).
   */
  rev?: string;
}

/** A deleted message as history shows it: its place, author and time, and no text. */
export interface Tombstone { type: 'message'; room: string; id: string; from: string; deleted: true; ts: number; rev?: string }

/** How many users reacted to a message with one emoji, and whether the reader is one of them. */
export interface ReactionSummary {
  count: number;
  me: boolean;
}

/** A message's text was changed: a stored event of its own (`id`), about the message `target`. */
export interface EditEvent { type: 'edit'; room: string; id: string; target: string; from: string; text: string; ts: number }
/** A message was deleted; it stays in history as a tombstone. */
export interface DeleteEvent { type: 'delete'; room: string; id: string; target: string; from: string; ts: number }
/** `user` added (`on`) or removed a reaction to `target`. */
export interface ReactionEvent { type: 'reaction'; room: string; id: string; target: string; user: string; emoji: string; on: boolean; ts: number }
/** What a room's stream holds besides messages: changes to them, in the room's one order. */
export type ChangeEvent = EditEvent | DeleteEvent | ReactionEvent;
/** Anything stored in a room's stream, as a join or a resume hands it over. */
export type RoomItem = ChatMessage | Tombstone | ChangeEvent;

/** Where a message entered the system when it was not a WebSocket client. */
export type Via = 'mqtt' | 'api';

export interface DirectMessage {
  type: 'direct';
  id: string;
  from: string;
  to: string;
  text: string;
  ts: number;
  via?: Via;
}

export type PresenceState = 'join' | 'leave';

export interface PresenceEvent {
  type: 'presence';
  room: string;
  user: string;
  state: PresenceState;
}

// ---- client to server ----

export interface JoinFrame { type: 'join'; room: string; since?: string; ref?: string }
export interface LeaveFrame { type: 'leave'; room: string; ref?: string }
/** `mid`: the client's id for this message, its idempotency key (see MID_PATTERN). */
export interface SendFrame { type: 'send'; room: string; text: string; mid?: string; ref?: string }
export interface DirectFrame { type: 'direct'; to: string; text: string; mid?: string; ref?: string }
export interface HistoryFrame { type: 'history'; room: string; before?: string; limit?: number; ref?: string }
export interface PingFrame { type: 'ping'; ref?: string }
/** The user is typing in a room (sent again while they type), or `state: 'stop'` when they stopped. Never stored. */
export interface TypingFrame { type: 'typing'; room: string; state?: 'stop'; ref?: string }
/** Marks a room read up to message `id`; markers only move forward. */
export interface ReadFrame { type: 'read'; room: string; id: string; ref?: string }
/** Changes the text of message `id` (the author's, or as a moderator). */
export interface EditFrame { type: 'edit'; room: string; id: string; text: string; mid?: string; ref?: string }
/** Deletes message `id` (the author's, or as a moderator), leaving a tombstone. */
export interface DeleteFrame { type: 'delete'; room: string; id: string; mid?: string; ref?: string }
/** Adds (`on`) or removes the user's reaction `emoji` (see isEmoji) to message `id`. */
export interface ReactFrame { type: 'react'; room: string; id: string; emoji: string; on: boolean; mid?: string; ref?: string }

// ---- moderation and large rooms (client to server) ----

/** Ends the user's membership of the room on all its connections (moderators only). */
export interface KickFrame { type: 'kick'; room: string; user: string; ref?: string }
/** Bans the user from the room for `seconds` (absent: for good), and ends its membership. */
export interface BanFrame { type: 'ban'; room: string; user: string; seconds?: number; reason?: string; ref?: string }
export interface UnbanFrame { type: 'unban'; room: string; user: string; ref?: string }
/** The user may still read the room, not send to it, for `seconds` (absent: until unmuted). */
export interface MuteFrame { type: 'mute'; room: string; user: string; seconds?: number; ref?: string }
export interface UnmuteFrame { type: 'unmute'; room: string; user: string; ref?: string }
/** One message per `seconds` per member (0: off); moderators are exempt. */
export interface SlowModeFrame { type: 'slowmode'; room: string; seconds: number; ref?: string }
/** A page of the room's members, sorted, the names after `after`. */
export interface MembersFrame { type: 'members'; room: string; after?: string; limit?: number; ref?: string }

export type ModerationFrame = KickFrame | BanFrame | UnbanFrame | MuteFrame | UnmuteFrame | SlowModeFrame;
export type ModerationAction = ModerationFrame['type'];

export type ClientFrame =
  | JoinFrame | LeaveFrame | SendFrame | DirectFrame | HistoryFrame | PingFrame | TypingFrame | ReadFrame | EditFrame | DeleteFrame | ReactFrame
  | ModerationFrame | MembersFrame;
export type ClientFrameType = ClientFrame['type'];

/**
 * Every client frame type, as data: docs/protocol.md and docs/asyncapi.yaml are checked against it.
 * A Record over the union, so a frame type added to ClientFrame and not here does not compile.
 */
export const CLIENT_FRAME_TYPES = Object.keys({
  join: true, leave: true, send: true, direct: true, history: true, ping: true, typing: true, read: true, edit: true, delete: true, react: true,
  kick: true, ban: true, unban: true, mute: true, unmute: true, slowmode: true, members: true,
} satisfies Record<ClientFrameType, true>) as ClientFrameType[];

// ---- server to client ----

export interface WelcomeFrame { type: 'welcome'; user: string; conn: string; node: string; heartbeat: number }
/**
 * `read` and `unread` (the user's read marker, and how many messages follow it) are in every reply to
 * `join`; the unsolicited `joined` of a gap, written to all of a room's members at once, has neither.
 */
export interface JoinedFrame {
  type: 'joined'; room: string; members: string[]; history: RoomItem[]; gap: boolean; read?: string | null; unread?: number;
  /** Set in a large room (over LARGE_ROOM members): how many there are; `members` then holds the first LARGE_ROOM names, sorted. */
  count?: number;
  ref?: string;
}
/** The reply to `leave`, or unsolicited with `reason` when a moderator ended the membership. */
export interface LeftFrame { type: 'left'; room: string; reason?: LeftReason; ref?: string }
export type LeftReason = 'kicked' | 'banned';
/**
 * `duplicate`: this `mid` was already stored; `id` is the first one's. `unchanged`: a reaction that
 * was already as asked, so nothing was stored; `id` is the newest change of that message (or its own id).
 */
export interface AckFrame { type: 'ack'; ref?: string; id: string; duplicate?: boolean; unchanged?: boolean }
export interface HistoryReplyFrame { type: 'history'; room: string; messages: Array<ChatMessage | Tombstone>; ref?: string }
export interface PongFrame { type: 'pong'; ts: number; ref?: string }
/** `retryAfterMs`: with `slow_mode`, how long until this member may send to the room again. */
export interface ErrorFrame { type: 'error'; code: ErrorCode; message: string; retryAfterMs?: number; ref?: string }
/** Someone else in the room is typing; they stop being shown `ttl` ms after the last one (0: stopped now). */
export interface TypingEvent { type: 'typing'; room: string; user: string; ttl: number }
/** Where the user's read marker of a room stands now, and how many messages follow it: to all its connections. */
export interface ReadEvent { type: 'read'; room: string; id: string | null; unread: number; ref?: string }
/** Another member's read marker moved to `id` (only with READ_RECEIPTS on). */
export interface ReceiptEvent { type: 'receipt'; room: string; user: string; id: string }

// ---- moderation and large rooms (server to client) ----

/** The reply to a moderation frame: it took effect. */
export interface ModeratedFrame { type: 'moderated'; room: string; action: ModerationAction; user?: string; ref?: string }
/** What a moderator did, for the room's members; `seconds` for a timed ban or mute, and slow mode. */
export interface ModerationEvent { type: 'moderation'; room: string; action: ModerationAction; user?: string; by: string; seconds?: number }
/** In a large room, instead of per-user presence: how many members it has now. */
export interface PresenceCountEvent { type: 'presence'; room: string; count: number }
/** A page of members; `next` is the `after` of the next page, absent on the last. */
export interface MembersReplyFrame { type: 'members'; room: string; members: string[]; next?: string; ref?: string }

export type ServerFrame =
  | WelcomeFrame | JoinedFrame | LeftFrame | AckFrame | HistoryReplyFrame | PongFrame | ErrorFrame
  | ChatMessage | DirectMessage | PresenceEvent | TypingEvent | ReadEvent | ReceiptEvent | EditEvent | DeleteEvent | ReactionEvent
  | ModeratedFrame | ModerationEvent | PresenceCountEvent | MembersReplyFrame;
export type ServerFrameType = ServerFrame['type'];

/** Every server frame type, as data, checked against the union like CLIENT_FRAME_TYPES. */
export const SERVER_FRAME_TYPES = Object.keys({
  welcome: true, joined: true, left: true, ack: true, history: true, pong: true, error: true, message: true, direct: true, presence: true,
  typing: true, read: true, receipt: true, edit: true, delete: true, reaction: true,
  moderated: true, moderation: true, members: true,
} satisfies Record<ServerFrameType, true>) as ServerFrameType[];

/** Most distinct emoji on one message, by default (MAX_REACTIONS). */
export const DEFAULT_MAX_REACTIONS = 20;

/** Most names one `members` reply carries, whatever `limit` asks for; and its default. */
export const MEMBERS_PAGE_MAX = 1000;
export const MEMBERS_PAGE_DEFAULT = 100;
/** The longest ban, mute or slow-mode interval, in seconds (a year): longer is `bad_request`. */
export const MODERATION_SECONDS_MAX = 366 * 24 * 3600;
/** The longest ban `reason`, in characters. */
export const REASON_MAX = 200;

/** Most messages one `history` reply carries, whatever `limit` asks for. */
export const HISTORY_PAGE_MAX = 100;
