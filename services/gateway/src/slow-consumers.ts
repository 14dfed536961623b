import { CloseCode } from '@chat/protocol';
import type { CloseReason, GatewayMetrics } from '@chat/runtime';

/** What SlowConsumers needs of a session (Session is one). */
export interface Watched {
  readonly conn: { bufferedBytes(): number };
  readonly closed: boolean;
  closeReason: CloseReason | undefined;
  close(code: number, reason: CloseReason, text: string): void;
}

/** The members of rooms handed a frame are checked at least this often: one native call (~15 ns) each. */
export const SAMPLE_BACKPRESSURE_MS = 250;

/**
 * Unsent bytes the transport keeps for one socket before it refuses it a frame and closes it:
 * MAX_BACKPRESSURE plus a headroom of as much again, at least 1 MiB.
 */
export function backpressureCeiling(maxBackpressureBytes: number): number {
  return maxBackpressureBytes + Math.max(maxBackpressureBytes, 1024 * 1024);
}

/**
 * Closes a connection whose unsent data passes MAX_BACKPRESSURE with 4008 (docs/protocol.md#connect, docs/protocol.md#faults).
 *
 * Guarantee: no frame is skipped on a connection that stays open. The transport keeps up to
 * `backpressureCeiling` for a socket, and a socket seen over the limit is closed; the close frame is
 * queued behind what was buffered, so a client that reads again gets a gap-free prefix of its
 * stream, then 4008, and resumes with `since`. Sockets are checked after every write to one of them
 * (a reply, a direct), and the members of every room handed a frame since the last check whenever
 * those frames add up to half the headroom (each socket gets at most one copy of each), or
 * SAMPLE_BACKPRESSURE_MS passed. A socket in no such room was given nothing since it was last seen
 * under the limit, so its unsent bytes can only have shrunk: with many quiet rooms a check reads a
 * few sockets, not every open one. So a socket is seen over the limit before it can reach the ceiling, unless a single frame
 * is larger than half the headroom; then uWS refuses the next frame and closes the socket at once
 * (the client sees 1006): still a prefix, never a hole.
 *
 * Memory: one socket holds at most the ceiling plus one frame (2 MiB plus a frame by default), and
 * after its close only until the client takes it or uWS's close timeout (4 to 16 s) frees it.
 */
export class SlowConsumers {
  private readonly checkEveryBytes: number;
  private publishedBytes = 0;
  /** Rooms handed a frame since the last check: only their members' unsent bytes can have grown. */
  private readonly touched = new Set<string>();

  constructor(
    private readonly membersOf: (room: string) => Iterable<Watched>,
    private readonly limitBytes: number,
    private readonly metrics: GatewayMetrics,
  ) {
    this.checkEveryBytes = Math.floor((backpressureCeiling(limitBytes) - limitBytes) / 2);
  }

  /** After a frame was written to this session alone. */
  written(session: Watched): void {
    this.check(session);
  }

  /**
   * A frame was not written: the session is closing, or the transport refused it at the ceiling and
   * is closing the socket. Counted in chat_backpressure_dropped_total when it is for backpressure; a
   * frame to a connection closed for another reason is no backpressure drop.
   */
  refused(session: Watched): void {
    if (!session.closed) session.closeReason ??= 'slow_consumer';
    if (session.closeReason === 'slow_consumer') this.metrics.backpressureDropped(1);
  }

  /** After a frame of `bytes` was handed to `room`'s members. */
  published(room: string, bytes: number): void {
    this.touched.add(room);
    this.publishedBytes += bytes;
    if (this.publishedBytes >= this.checkEveryBytes) this.sample();
  }

  /** The members of every room handed a frame since the last check; also called by a timer. */
  sample(): void {
    this.publishedBytes = 0;
    if (this.touched.size === 0) return;
    const rooms = [...this.touched];
    this.touched.clear();
    for (const room of rooms) {
      for (const session of this.membersOf(room)) this.check(session);
    }
  }

  private check(session: Watched): void {
    if (!session.closed && session.conn.bufferedBytes() > this.limitBytes) {
      session.close(CloseCode.SlowConsumer, 'slow_consumer', 'too much unsent data; reconnect and resume with since');
    }
  }
}
