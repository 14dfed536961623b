/**
 * Node entry point: Node 20 has no global WebSocket, so this supplies the `ws` package's.
 * Browsers must import the package root instead; this file is the only one that imports `ws`.
 */
import WebSocket from 'ws';
import { ChatClient } from './client.js';
import type { ChatClientOptions } from './client-options.js';
import type { WebSocketConstructor } from './socket.js';

/** `ws`'s class with the one constructor signature the SDK calls (its first overload takes null). */
export const NodeWebSocket: WebSocketConstructor = class extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
  }
};

/** A ChatClient that uses `ws` unless options.WebSocket says otherwise. */
export function createNodeClient(options: ChatClientOptions): ChatClient {
  return new ChatClient({ WebSocket: NodeWebSocket, ...options });
}

export * from './index.js';
