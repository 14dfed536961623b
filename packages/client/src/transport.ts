import { SUBPROTOCOL, type ClientFrame, type ServerFrame } from '@chat/protocol';
import { describeConnectFailure } from './connect-failure.js';
import { decodeServerFrame } from './server-frames.js';
import { OPEN, type WebSocketConstructor, type WebSocketLike } from './socket.js';

/** Close code reported when the socket ended without a close frame, or the client gave up on it. */
export const ABNORMAL_CLOSE = 1006;

export interface TransportEvents {
  frame(frame: ServerFrame): void;
  /** Called exactly once per transport, whether it closed, failed to open, or was abandoned. */
  closed(code: number, reason: string): void;
}

/**
 * One WebSocket, from open to close: offers `chat.v1`, decodes every frame from the server at
 * the edge, and reports the end once. Reconnecting is the Link's business, not this one's.
 */
export class Transport {
  readonly #socket: WebSocketLike;
  readonly #events: TransportEvents;
  #done = false;
  #heard = false;
  /** Why the socket failed before the server said anything: the reason of the 1006 that follows. */
  #failure: string | undefined;

  constructor(WebSocket: WebSocketConstructor, url: string, events: TransportEvents) {
    this.#events = events;
    this.#socket = new WebSocket(url, SUBPROTOCOL);
    this.#socket.onmessage = (event) => {
      if (this.#done) return;
      this.#heard = true;
      const frame = decodeServerFrame(event.data);
      if (frame !== undefined) this.#events.frame(frame);
    };
    this.#socket.onclose = (event) => {
      const unexplained = event.code === ABNORMAL_CLOSE && event.reason === '';
      this.#finish(event.code, unexplained ? this.#failure ?? '' : event.reason);
    };
    // An error is always followed by a close (1006, no reason): before any frame, its cause
    // (refused, DNS, TLS, an HTTP 401...) becomes that close's reason.
    this.#socket.onerror = (event) => {
      if (!this.#heard) this.#failure ??= describeConnectFailure(event);
    };
  }

  /** False when the socket cannot take the frame now (not open, or already closing). */
  send(frame: ClientFrame): boolean {
    if (this.#done || this.#socket.readyState !== OPEN) return false;
    try {
      this.#socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Ends this transport now, without waiting for the closing handshake (which never completes on
   * a dead path): `closed` fires synchronously with ABNORMAL_CLOSE and the given reason.
   */
  abandon(reason: string, code = 1000): void {
    if (this.#done) return;
    this.#detachAndClose(code, reason);
    this.#finish(ABNORMAL_CLOSE, reason);
  }

  /** Ends this transport on the client's request: `closed` fires with 1000. */
  close(reason = 'client closed'): void {
    if (this.#done) return;
    this.#detachAndClose(1000, reason);
    this.#finish(1000, reason);
  }

  #detachAndClose(code: number, reason: string): void {
    this.#socket.onmessage = null;
    this.#socket.onclose = null;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Closing a socket that never opened may throw in some runtimes; it is gone either way.
    }
  }

  #finish(code: number, reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#events.closed(code, reason);
  }
}
