export { ChatClient, type ChatClientOptions } from './client.js';
export type { ClientEvents, ConnectionState, StatusChange } from './events.js';
export type { RoomJoined } from './rooms.js';
export type { Down } from './link.js';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { tokenExpiryMs, type TokenSource } from './token.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export {
  ChatClientError, ClientClosedError, ConnectionLostError, InvalidNameError, QueueFullError, ServerError, TimeoutError,
} from './errors.js';
