/** Error codes of chat.v1 `error` frames (docs/protocol.md#connect). The connection stays open after each. */
export enum ErrorCode {
  /** Not JSON, no `type`, a field of the wrong type, or an invalid room or user name. */
  BadRequest = 'bad_request',
  /** A `type` this server does not know. */
  UnknownType = 'unknown_type',
  /** `text` is longer than MAX_TEXT characters. */
  TooLarge = 'too_large',
  /** `send` or `history` for a room this connection has not joined. */
  NotJoined = 'not_joined',
  /** The token's `rooms` claim does not allow the room, or an edit or delete of someone else's message. */
  Forbidden = 'forbidden',
  /** Over RATE_LIMIT frames per second; the frame was dropped. */
  RateLimited = 'rate_limited',
  /** A `join` beyond MAX_ROOMS rooms on one connection: leave a room first. */
  TooManyRooms = 'too_many_rooms',
  /** An `edit`, `delete` or `react` of a message the room's history does not hold (never stored, trimmed, or deleted). */
  NotFound = 'not_found',
  /** A `react` with a new emoji on a message that has MAX_REACTIONS distinct ones already. */
  TooManyReactions = 'too_many_reactions',
  /** A `direct` to a user with no open connection anywhere in the cluster, and no online device. */
  UserOffline = 'user_offline',
  /**
   * The bus did not confirm the frame: it was not stored, or its outcome is unknown (a timeout).
   * Resending with the same `mid` stores it at most once.
   */
  Unavailable = 'unavailable',

  // ---- moderation ----
  /** The user is banned from the room (a `join` or `send` there): do not retry until the ban is lifted. */
  Banned = 'banned',
  /** The user is muted in the room: it may read, not send. Do not retry until unmuted. */
  Muted = 'muted',
  /** Slow mode: this member sent to the room less than its interval ago; retry after `retryAfterMs`. */
  SlowMode = 'slow_mode',
}

/** WebSocket close codes the server sends, and what a client should do about each. */
export enum CloseCode {
  /** Sent by a draining node (SIGTERM): reconnect, preferably to another node, and resume. */
  Draining = 1001,
  /** Sent when a frame exceeds MAX_PAYLOAD bytes: do not resend that frame. */
  TooLarge = 1009,
  /** Sent on an unexpected server fault: reconnect with backoff. */
  InternalError = 1011,
  /** Sent when the JWT expires on an open connection: fetch a fresh token, then reconnect. */
  TokenExpired = 4401,
  /** Sent after sustained rate-limit abuse: back off before reconnecting. */
  RateLimited = 4429,
  /** Sent when unsent data passes MAX_BACKPRESSURE (the client stopped reading): reconnect and resume with `since`. */
  SlowConsumer = 4008,
  /** Sent when an operator disconnected the user (POST /api/users/{user}/disconnect): do not reconnect at once. */
  Disconnected = 4403,
}

export const SUBPROTOCOL = 'chat.v1';
