import type {
  AckFrame, ChatMessage, DeleteEvent, DirectMessage, EditEvent, ErrorFrame, HistoryReplyFrame, LeftFrame, ModerationEvent, PongFrame, PresenceCountEvent, PresenceEvent, ReactionEvent, ReceiptEvent, TypingEvent, WelcomeFrame,
} from '@chat/protocol';
import type { ChatClientError } from './errors.js';
import type { Down } from './link.js';
import type { Held } from './outbox.js';
import type { RoomJoined } from './rooms.js';

/**
 * - idle: connect() not called yet.
 * - connecting: before the first `welcome`.
 * - connected: welcomed; rooms are being (re)joined.
 * - reconnecting: the connection was lost; attempts go on until close().
 * - closed: final: close() was called, or the server ended the session (close 4403, see `ended`).
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface StatusChange {
  state: ConnectionState;
  /** The node's id, while connected. */
  node?: string;
  /** The URL connected to, or tried next. */
  url?: string;
  /** Failed attempts since the last stable connection. */
  attempt?: number;
  /** When the next attempt starts, after a close. */
  retryInMs?: number;
  /** Close code and reason of the connection or attempt that just ended. */
  code?: number;
  reason?: string;
}

/** Where this user's read marker of a room stands (null: none), and how many messages follow it. */
export interface ReadState {
  room: string;
  id: string | null;
  unread: number;
}

/**
 * Everything a ChatClient emits. Every server frame type has its event; `message` and `direct`
 * are deduplicated, and `joined` carries only messages the application has not seen.
 */
export interface ClientEvents {
  status: StatusChange;
  welcome: WelcomeFrame;
  joined: RoomJoined;
  /**
   * A room was left: the reply to leave(), or with `reason` (`kicked`, `banned`) when a moderator
   * ended this user's membership; the room is then no longer wanted (not rejoined on reconnect).
   */
  left: LeftFrame;
  message: ChatMessage;
  /** A message of a joined room was edited; applyChange() updates a message list with it (as with `delete` and `reaction`). */
  edit: EditEvent;
  /** A message of a joined room was deleted: show a tombstone. */
  delete: DeleteEvent;
  /** Someone added (`on`) or removed a reaction to a message of a joined room. */
  reaction: ReactionEvent;
  direct: DirectMessage;
  presence: PresenceEvent;
  /** A large room's member count (it has counts-only presence); memberCount(room) keeps the last. */
  presenceCount: PresenceCountEvent;
  /** A moderator acted in a joined room (kick, ban, unban, mute, unmute, slowmode). */
  moderation: ModerationEvent;
  /** Another member is typing (`ttl` ms from now; 0: stopped). typers(room) keeps the list. */
  typing: TypingEvent;
  /** This user's read marker of a room moved: by markRead() here, or on another of its connections. */
  read: ReadState;
  /** Another member's read marker moved (when the server has READ_RECEIPTS on). */
  receipt: ReceiptEvent;
  ack: AckFrame;
  history: HistoryReplyFrame;
  pong: PongFrame;
  /**
   * An `error` frame no pending promise took (no `ref`, or its request already timed out), and
   * a join refused for good (`room` is set; the room is dropped from the client's rooms). A join
   * refused as `unavailable` or `rate_limited` is retried quietly instead.
   */
  error: ErrorFrame & { room?: string };
  /**
   * A send (or direct, edit, delete, react) was refused for now and the client writes it again in
   * `delayMs`: `slow_mode` (the room allows one message per interval), `unavailable`, `rate_limited`.
   * Its promise stays pending meanwhile; an application may show why (the web page counts slow mode down).
   */
  held: Held;
  /** A rejoin could not replay everything since the last message seen (also in `joined.gap`). */
  gap: { room: string };
  /** A welcomed connection ended; `status` follows with the retry plan. After 4403, `ended` comes instead. */
  disconnected: Down;
  /**
   * The server ended the session for good: close 4403, an operator disconnected this user. The
   * client does not reconnect; its state is `closed` and every pending promise was rejected with
   * `error` (DisconnectedError). To come back, the application creates a new client.
   */
  ended: { code: number; reason: string; error: ChatClientError };
}
