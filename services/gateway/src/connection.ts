import type { CloseCode } from '@chat/protocol';

/** One client socket as the core sees it. Calls after the socket closed are ignored. */
export interface Connection {
  readonly id: string;
  /**
   * Writes one frame; false when it was not written: the socket is closed, or its unsent data is at
   * the transport's hard ceiling, in which case the transport closes the socket (no frame is ever
   * skipped on a socket that stays open).
   */
  send(json: string): boolean;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Bytes written but not yet taken by the client's TCP connection. */
  bufferedBytes(): number;
  close(code: CloseCode, reason: string): void;
}

/** Node-wide local fan-out (uWS topics). */
export interface LocalTopics {
  /** Writes to every local subscriber of `topic`; returns how many subscribers there were. */
  publish(topic: string, json: string): number;
}

export const roomTopic = (room: string) => `r:${room}`;
