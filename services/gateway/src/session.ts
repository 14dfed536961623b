import type { CloseReason, TokenClaims } from '@chat/runtime';
import type { Connection } from './connection.js';
import { RateLimiter } from './rate-limiter.js';
import type { SlowConsumers } from './slow-consumers.js';

export interface Identity {
  user: string;
  /** Present when auth is on. */
  claims?: TokenClaims;
}

/** The core's state for one connection, from `welcome` to close. */
const NO_ROOMS: ReadonlySet<string> = new Set();

export class Session {
  private joined: Set<string> | undefined;
  readonly limiter: RateLimiter;
  closed = false;
  /**
   * Why the connection ended: set when the server closes the socket, else at the close itself
   * (client, dropped). Labels chat_connections_closed_total and the debug log's close and leaves.
   */
  closeReason: CloseReason | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  /**
   * Set while a `send` of this connection waits (for a moderation check) before reaching the bus;
   * resolves once it has been handed to the bus. Later sends wait for it, so they reach the bus in
   * the order they arrived (see send()).
   */
  sendTurn: Promise<void> | undefined;
  /** When this connection's typing was last relayed, per room (ms); made at the first `typing`. */
  private typingAt: Map<string, number> | undefined;
  /** Date.now() at `welcome`, for the connection's duration in the debug log. */
  readonly openedAt = Date.now();

  constructor(
    readonly conn: Connection,
    readonly identity: Identity,
    /** The client's address as the transport saw it, for logs; '' when not recorded (LOG_LEVEL above debug). */
    readonly remote: string,
    rateLimit: number,
    rateAbuseMs: number,
    private readonly slowConsumers: SlowConsumers,
  ) {
    this.limiter = new RateLimiter(rateLimit, rateAbuseMs);
  }

  /** Rooms joined or being joined. The set is made at the first join: many connections never join. */
  get rooms(): ReadonlySet<string> {
    return this.joined ?? NO_ROOMS;
  }

  addRoom(room: string): void {
    (this.joined ??= new Set()).add(room);
  }

  /** False when the session was not in the room. */
  deleteRoom(room: string): boolean {
    this.typingAt?.delete(room);
    return this.joined?.delete(room) ?? false;
  }

  /** True (and counted as relayed at `now`) when no `typing` of this connection in `room` was relayed within `intervalMs`. */
  typingDue(room: string, now: number, intervalMs: number): boolean {
    const last = this.typingAt?.get(room);
    if (last !== undefined && now - last < intervalMs) return false;
    (this.typingAt ??= new Map()).set(room, now);
    return true;
  }

  /** After a stop, the next `typing` is news again: it is relayed at once. */
  typingStopped(room: string): void {
    this.typingAt?.delete(room);
  }

  get user(): string {
    return this.identity.user;
  }

  send(frame: object): boolean {
    return this.write(JSON.stringify(frame));
  }

  /**
   * The one way to write to this connection alone (room messages go through the transport's
   * topics). False when the frame was not written; a session over MAX_BACKPRESSURE is closed here.
   */
  write(json: string): boolean {
    if (this.closed || !this.conn.send(json)) {
      this.slowConsumers.refused(this);
      return false;
    }
    this.slowConsumers.written(this);
    return true;
  }

  close(code: number, reason: CloseReason, text: string): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.conn.close(code, text);
  }
}
