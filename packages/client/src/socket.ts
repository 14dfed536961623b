/**
 * The slice of the WHATWG WebSocket that the SDK uses. A browser's `WebSocket` fits it as is;
 * in Node 20, which has no global WebSocket, pass the `ws` package's class (see node.ts).
 * Declared here rather than taken from lib.dom so that this package compiles without DOM types.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  /** Node's `ws` sets `error` on the event (see connect-failure.ts); a browser's event has nothing to read. */
  onerror: Handler<{ error?: unknown }> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * An event handler property. Declared through a method so that TypeScript compares its parameter
 * bivariantly: the DOM's and `ws`'s sockets type their handlers with their own richer event
 * classes, which carry at least the fields read here.
 */
type Handler<E> = { handle(event: E): void }['handle'];

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `readyState` of a socket whose handshake finished and which can carry frames. */
export const OPEN = 1;

/** The constructor the caller passed, else the runtime's global one; throws when there is neither. */
export function resolveWebSocket(given: WebSocketConstructor | undefined): WebSocketConstructor {
  if (given !== undefined) return given;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global === undefined) {
    throw new TypeError('no global WebSocket in this runtime: pass options.WebSocket (in Node 20, the "ws" package)');
  }
  return global;
}
