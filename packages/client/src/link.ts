import { CloseCode, type ClientFrame, type ServerFrame, type WelcomeFrame } from '@chat/protocol';
import type { Backoff } from './backoff.js';
import { withIdentity, type Endpoints } from './endpoints.js';
import { Heartbeat } from './heartbeat.js';
import type { WebSocketConstructor } from './socket.js';
import type { TokenKeeper } from './token.js';
import { ABNORMAL_CLOSE, Transport } from './transport.js';

export interface LinkOptions {
  endpoints: Endpoints;
  user: string | undefined;
  tokens: TokenKeeper;
  WebSocket: WebSocketConstructor;
  backoff: Backoff;
  /** A connection up this long resets the backoff. */
  stableMs: number;
  /** Give up on an attempt that has no `welcome` after this long. */
  connectTimeoutMs: number;
  /** Ping interval; undefined to follow the server's `welcome.heartbeat`; 0 for no pings. */
  heartbeatMs: number | undefined;
}

export interface Down {
  code: number;
  reason: string;
  /** The connection had been welcomed, as opposed to an attempt that failed. */
  wasUp: boolean;
  /** When the next attempt starts. */
  retryInMs: number;
  /** The URL the next attempt uses. */
  nextUrl: string;
}

export interface LinkEvents {
  connecting(url: string, attempt: number): void;
  up(welcome: WelcomeFrame, url: string): void;
  frame(frame: ServerFrame): void;
  down(down: Down): void;
  /** The server ended the session for good (see isTerminal): no attempt follows, the link is stopped. */
  ended(code: number, reason: string): void;
}

/**
 * Keeps one connection up until stop(): opens it, waits for `welcome`, runs the heartbeat, and on
 * every close picks the delay and the node of the next attempt (retryPlan). Everything above it
 * (rooms, requests) sees only up / frame / down.
 */
export class Link {
  readonly #o: LinkOptions;
  readonly #events: LinkEvents;
  #transport: Transport | undefined;
  #tokenUsed: string | undefined;
  #up = false;
  #stopped = true;
  #timers: ReturnType<typeof setTimeout>[] = [];
  #heartbeat: Heartbeat | undefined;

  constructor(options: LinkOptions, events: LinkEvents) {
    this.#o = options;
    this.#events = events;
  }

  get isUp(): boolean {
    return this.#up;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#open();
  }

  send(frame: ClientFrame): boolean {
    return this.#up && this.#transport !== undefined && this.#transport.send(frame);
  }

  stop(): void {
    this.#stopped = true;
    const transport = this.#transport;
    this.#teardown();
    transport?.close();
  }

  async #open(): Promise<void> {
    const url = this.#o.endpoints.current;
    this.#events.connecting(url, this.#o.backoff.attempt);
    let token: string | undefined;
    try {
      token = await this.#o.tokens.get();
    } catch (error) {
      if (!this.#stopped) this.#retry(ABNORMAL_CLOSE, `getToken failed: ${String(error)}`, false);
      return;
    }
    if (this.#stopped) return;
    this.#tokenUsed = token;
    const identity = token === undefined ? { user: this.#o.user } : { token };
    const transport: Transport = new Transport(this.#o.WebSocket, withIdentity(url, identity), {
      frame: (frame) => this.#onFrame(transport, frame, url),
      closed: (code, reason) => this.#onClosed(transport, code, reason),
    });
    this.#transport = transport;
    this.#later(() => transport.abandon('no welcome in time'), this.#o.connectTimeoutMs);
  }

  #onFrame(transport: Transport, frame: ServerFrame, url: string): void {
    if (transport !== this.#transport) return;
    this.#heartbeat?.seen();
    if (frame.type !== 'welcome' || this.#up) {
      this.#events.frame(frame);
      return;
    }
    this.#up = true;
    this.#clearTimers(); // the connect timeout
    this.#later(() => this.#o.backoff.reset(), this.#o.stableMs);
    this.#startHeartbeat(transport, frame.heartbeat);
    this.#o.tokens.scheduleRefresh();
    this.#events.up(frame, url);
  }

  #onClosed(transport: Transport, code: number, reason: string): void {
    if (transport !== this.#transport) return;
    const wasUp = this.#up;
    this.#teardown();
    if (this.#stopped) return;
    this.#retry(code, reason, wasUp);
  }

  #retry(code: number, reason: string, wasUp: boolean): void {
    if (isTerminal(code)) {
      this.#stopped = true;
      this.#events.ended(code, reason);
      return;
    }
    if (code === CloseCode.TokenExpired) this.#o.tokens.invalidate(this.#tokenUsed);
    const plan = retryPlan(code, wasUp, this.#o.backoff);
    const nextUrl = plan.sameNode ? this.#o.endpoints.current : this.#o.endpoints.advance();
    this.#events.down({ code, reason, wasUp, retryInMs: plan.delayMs, nextUrl });
    this.#later(() => void this.#open(), plan.delayMs);
  }

  #startHeartbeat(transport: Transport, serverHeartbeatMs: number): void {
    const intervalMs = this.#o.heartbeatMs ?? serverHeartbeatMs;
    if (!(intervalMs > 0)) return;
    this.#heartbeat = new Heartbeat(
      intervalMs,
      () => transport.send({ type: 'ping' }),
      () => transport.abandon('heartbeat timeout'),
    );
    this.#heartbeat.start();
  }

  /** Forgets the current transport and stops every timer that belongs to it. */
  #teardown(): void {
    this.#transport = undefined;
    this.#up = false;
    this.#clearTimers();
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    this.#o.tokens.stop();
  }

  #later(fn: () => void, ms: number): void {
    this.#timers.push(setTimeout(fn, ms));
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }
}

/**
 * A close after which the client must not reconnect by itself: 4403, an operator disconnected the
 * user (docs/protocol.md#http). Reconnecting at once would undo the operator's action, and no backoff
 * length is right for every reason an operator may have; so the application is told and decides.
 */
export function isTerminal(code: number): boolean {
  return code === CloseCode.Disconnected;
}

/**
 * When and where to reconnect after a close (codes in docs/protocol.md#connect), for any code not isTerminal:
 * - 1001, the node is draining: at once, to the next node.
 * - 4401, the token expired: at once, same node, with a fresh token.
 * - 4429, rate-limit abuse: after the longest delay.
 * - anything else, or any failed attempt: after the next backoff delay, to the next node. This
 *   includes 4008 (slow consumer): like 1006, the rejoin with `since` replays what was not read.
 */
export function retryPlan(code: number, wasUp: boolean, backoff: Backoff): { delayMs: number; sameNode: boolean } {
  if (wasUp && code === CloseCode.Draining) return { delayMs: 0, sameNode: false };
  if (wasUp && code === CloseCode.TokenExpired) return { delayMs: 0, sameNode: true };
  if (code === CloseCode.RateLimited) return { delayMs: backoff.longest(), sameNode: false };
  return { delayMs: backoff.next(), sameNode: false };
}
