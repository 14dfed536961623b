import { ErrorCode, type ErrorFrame, type JoinFrame, type JoinedFrame } from '@chat/protocol';
import { serverError } from './outbox.js';
import { RoomSet, type RoomJoined } from './rooms.js';

/** Join refusals that say "not now" rather than "no": the join is retried on the same connection. */
const TRANSIENT = new Set<string>([ErrorCode.Unavailable, ErrorCode.RateLimited]);

/** Delay before the n-th retry of a refused join (0-based): 250 ms doubling to 5 s. */
export function joinRetryMs(attempt: number): number {
  return Math.min(5000, 250 * 2 ** attempt);
}

export type Refusal = { room: string; retrying: true } | { room: string; retrying: false; frame: ErrorFrame };

/**
 * Keeps the wanted rooms joined: joins each on every new connection (with `since`, see RoomSet),
 * retries a join the server refused for now (`unavailable`: its bus was briefly unreachable;
 * `rate_limited`), and drops a room it refused for good (`forbidden`, `bad_request`...).
 */
export class RoomJoins {
  readonly rooms = new RoomSet();
  readonly #send: (frame: JoinFrame) => boolean;
  readonly #isUp: () => boolean;
  readonly #timeoutMs: number;
  readonly #retries = new Map<string, { attempt: number; timer: ReturnType<typeof setTimeout> | undefined }>();
  #seq = 0;

  constructor(send: (frame: JoinFrame) => boolean, isUp: () => boolean, timeoutMs: number) {
    this.#send = send;
    this.#isUp = isUp;
    this.#timeoutMs = timeoutMs;
  }

  /** Wants the room from now on; resolves at its next `joined` (at once if joined already). `since` as for RoomSet.add. */
  want(room: string, since?: string): Promise<RoomJoined> {
    const added = this.rooms.add(room, since);
    if (!added && this.rooms.isJoined(room)) {
      return Promise.resolve({ room, members: this.rooms.members(room), history: [], changes: [], gap: false, resumed: false });
    }
    const joined = this.rooms.waitJoined(room, this.#timeoutMs);
    // A room already wanted has its join in flight, or sent by the next connection.
    if (added && this.#isUp()) this.#join(room);
    return joined;
  }

  /** A new connection is up: join every wanted room. */
  joinAll(): void {
    this.#clearRetries();
    for (const room of this.rooms.names()) this.#join(room);
  }

  /** The connection dropped: every room will be joined again on the next one. */
  disconnected(): void {
    this.#clearRetries();
    this.rooms.disconnected();
  }

  joined(frame: JoinedFrame): RoomJoined | undefined {
    const joined = this.rooms.onJoined(frame);
    if (joined !== undefined) this.#cancelRetry(joined.room);
    return joined;
  }

  /** An `error` frame: if it answers a join, retries or drops that room and says which. */
  refused(frame: ErrorFrame): Refusal | undefined {
    const room = frame.ref === undefined ? undefined : this.rooms.takeJoin(frame.ref);
    if (room === undefined) return undefined;
    if (TRANSIENT.has(frame.code)) {
      this.#retryLater(room);
      return { room, retrying: true };
    }
    this.forget(room, serverError(frame));
    return { room, retrying: false, frame };
  }

  /** No longer wants the room: its waiters are rejected with `reason`. */
  forget(room: string, reason: Error): void {
    this.#cancelRetry(room);
    this.rooms.remove(room, reason);
  }

  stop(reason: Error): void {
    this.#clearRetries();
    this.rooms.clear(reason);
  }

  #join(room: string): void {
    this.#send(this.rooms.joinFrame(room, `j${++this.#seq}`));
  }

  #retryLater(room: string): void {
    const retry = this.#retries.get(room) ?? { attempt: 0, timer: undefined };
    clearTimeout(retry.timer);
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      if (this.#isUp() && this.rooms.has(room) && !this.rooms.isJoined(room) && !this.rooms.isJoining(room)) this.#join(room);
    }, joinRetryMs(retry.attempt));
    retry.attempt += 1;
    this.#retries.set(room, retry);
  }

  #cancelRetry(room: string): void {
    clearTimeout(this.#retries.get(room)?.timer);
    this.#retries.delete(room);
  }

  #clearRetries(): void {
    for (const room of [...this.#retries.keys()]) this.#cancelRetry(room);
  }
}
