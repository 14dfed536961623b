export { ChatClient } from './client.js';
export type { ChatClientOptions } from './client-options.js';
export type { ClientEvents, ConnectionState, ReadState, StatusChange } from './events.js';
export { DEFAULT_TYPING_INTERVAL_MS } from './typing.js';
export type { RoomJoined } from './rooms.js';
export type { Held } from './outbox.js';
export type { Down } from './link.js';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { tokenExpiryMs, type TokenSource } from './token.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export { DEFAULT_SEND_TIMEOUT_MS, type SendOptions, type Sent } from './delivery.js';
export { applyChange } from './message-list.js';
export {
  ChatClientError, ClientClosedError, ConnectionLostError, DisconnectedError, InvalidIdError, InvalidMidError, InvalidNameError,
  QueueFullError, SendTimeoutError, ServerError, TimeoutError,
} from './errors.js';
/** The protocol's codes and the frames the events carry, so that an application needs no other import. */
export { CloseCode, ErrorCode } from '@chat/protocol';
export type {
  AckFrame, ChangeEvent, ChatMessage, DeleteEvent, DirectMessage, EditEvent, ErrorFrame, ReactionEvent, ReactionSummary, HistoryReplyFrame, LeftFrame, PongFrame, PresenceEvent, Via, WelcomeFrame,
  LeftReason, ModerationAction, ModerationEvent, PresenceCountEvent,
} from '@chat/protocol';
