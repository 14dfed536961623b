import type { BackoffOptions } from './backoff.js';
import type { WebSocketConstructor } from './socket.js';
import type { TokenSource } from './token.js';

/** What a ChatClient is built from; every field but `url` has a default. */
export interface ChatClientOptions {
  /** One gateway URL (`ws://host:port/ws`), or several nodes to rotate through on failure. */
  url: string | readonly string[];
  /** Identity when auth is off (`?user=`). */
  user?: string;
  /** A JWT when auth is on (`?token=`). */
  token?: string;
  /** Fetches a fresh JWT: ahead of expiry, and after the server closed with 4401. */
  getToken?: TokenSource;
  /** Needed where there is no global WebSocket (Node 20: the `ws` package's class). */
  WebSocket?: WebSocketConstructor;
  backoff?: Partial<BackoffOptions>;
  /** A connection up this long resets the backoff (default 10 s). */
  stableMs?: number;
  /** An attempt without `welcome` after this long is abandoned (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * `join`, `history`, `leave` and `ping` settle within this (default 10 s). For `send` and `direct`
   * it is how long one attempt waits for its ack before the same frame (same `mid`) is written again.
   */
  requestTimeoutMs?: number;
  /**
   * A `send` or `direct` is retried until acked for at most this long from the call, then rejects
   * with SendTimeoutError (default 120 s). Keep it well below the server's IDEMPOTENCY_SECONDS
   * (300 s by default): a resend after the server forgot the `mid` would post twice.
   */
  sendTimeoutMs?: number;
  /**
   * Most requests waiting to be written (default 100): made while disconnected, or due for a resend.
   * Beyond that a new request is rejected with QueueFullError; requests already accepted stay.
   */
  maxQueued?: number;
  /** Ping interval; default: the server's `welcome.heartbeat`; 0 disables pings. */
  heartbeatMs?: number;
  /** typing() tells the server at most once per room within this (default 2 s, the server's own default throttle). */
  typingIntervalMs?: number;
  /** Fetch the next token at most this long before expiry (default 30 s). */
  tokenRefreshMarginMs?: number;
}
