import type { ClientFrame, ErrorFrame, ServerFrame } from '@chat/protocol';
import { resendDelayMs } from './delivery.js';
import { ConnectionLostError, QueueFullError, SendTimeoutError, ServerError, TimeoutError } from './errors.js';

export interface OutboxOptions {
  /** Most requests waiting to be written: made while disconnected, for a room not yet rejoined, or due for a resend. */
  maxQueued: number;
  /**
   * A `history`, `leave` or `ping`: its whole life, queued plus in flight. A `send` or `direct`: how
   * long one written attempt waits for its reply before the same frame is written again.
   */
  timeoutMs: number;
  /** A `send` or `direct`: its whole life, from request() to its ack, across every resend. */
  sendTimeoutMs: number;
  /** Called when a resend falls due (a retry delay or an attempt's reply wait ran out): call flush(). */
  wake: () => void;
  /** Jitter of the retry delays; tests pass a fixed one. */
  random?: () => number;
  /** A send was refused for now and goes again after `delayMs` (so an application can say why it waits). */
  held?: (hold: Held) => void;
}

/** A send, direct, edit, delete or react refused for now (`unavailable`, `rate_limited`, `slow_mode`), written again after `delayMs`. */
export interface Held {
  room?: string;
  code: string;
  delayMs: number;
}

/** A frame the client writes; the outbox adds the `ref`. */
export type Request = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'ref'> : never) : never;

/** A reply that carries a `ref`, so it can settle a request. */
export type Reply = Exclude<ServerFrame, { type: 'message' | 'direct' | 'presence' | 'welcome' | 'typing' | 'receipt' | 'edit' | 'delete' | 'reaction' | 'moderation' }>;

/** queued: to be written when its room is ready; written: awaiting its reply; waiting: refused for now, resent after a delay. */
type State = 'queued' | 'written' | 'waiting';

interface Entry {
  frame: ClientFrame;
  /** The room the frame must wait for, or undefined to go out as soon as a connection is up. */
  room: string | undefined;
  /** The `mid` of a send, direct, edit, delete or react: such a frame is written again, unchanged, until it is answered. */
  mid: string | undefined;
  /** Frames of one lane (a room, or a recipient) are written in request order. */
  lane: string | undefined;
  state: State;
  writes: number;
  refusals: number;
  deadline: ReturnType<typeof setTimeout>;
  /** A written send's reply wait, or a refused send's delay before its next write. */
  retry: ReturnType<typeof setTimeout> | undefined;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/**
 * Requests that wait for a reply matched by `ref`, and the bounded queue of those not written yet.
 *
 * A `send` or `direct` carries a `mid`, which makes a repeat harmless (the server stores a mid once
 * and answers the repeat `ack` with `duplicate: true`, docs/protocol.md#connect). So it is written again with
 * the same frame after `unavailable` or `rate_limited` (after a delay, see resendDelayMs), after
 * `timeoutMs` without a reply, and after the connection dropped (on the next connection, once its
 * room is joined again), until it is acked. It rejects only with a final ServerError, with
 * SendTimeoutError after `sendTimeoutMs`, or with the close reason.
 *
 * Other requests settle exactly once: with their reply, ServerError, TimeoutError, or
 * ConnectionLostError when the connection dropped after they were written.
 *
 * Order: queued frames go out in the order they were made; a frame waiting for its resend delay
 * holds back the later frames of its lane. Only a resend after a reply timeout, on a connection
 * that stays up, can land behind later frames that were already in flight.
 */
export class Outbox {
  readonly #entries = new Map<string, Entry>();
  readonly #o: OutboxOptions;
  #seq = 0;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  /** Requests not written yet, or due to be written again. */
  get queued(): number {
    let n = 0;
    for (const entry of this.#entries.values()) if (entry.state !== 'written') n += 1;
    return n;
  }

  /** Requests written and waiting for their reply. */
  get inFlight(): number {
    return this.#entries.size - this.queued;
  }

  /** Queues a request; rejects with QueueFullError when `maxQueued` are waiting to be written. */
  request(frame: Request, room?: string): Promise<Reply> {
    if (this.queued >= this.#o.maxQueued) return Promise.reject(new QueueFullError(this.#o.maxQueued));
    const ref = `r${++this.#seq}`;
    const mid = 'mid' in frame ? frame.mid : undefined;
    // Changes share the room's lane with sends: an edit never overtakes the send of its message.
    const lane = frame.type === 'direct' ? `user:${frame.to}` : 'mid' in frame ? `room:${frame.room}` : undefined;
    const lifeMs = mid === undefined ? this.#o.timeoutMs : this.#o.sendTimeoutMs;
    return new Promise<Reply>((resolve, reject) => {
      const entry: Entry = {
        frame: { ...frame, ref } as ClientFrame,
        room, mid, lane, state: 'queued', writes: 0, refusals: 0, retry: undefined, resolve, reject,
        deadline: setTimeout(() => {
          this.#delete(ref, entry);
          reject(mid !== undefined ? new SendTimeoutError(mid, entry.writes > 0, lifeMs)
            : new TimeoutError(`no reply to "${frame.type}" within ${lifeMs} ms` +
              (entry.writes > 0 ? '; it may still take effect' : '; it was never sent')));
        }, lifeMs),
      };
      this.#entries.set(ref, entry);
    });
  }

  /**
   * Writes the requests due, oldest first, whose room is ready and whose lane is not held by an
   * earlier one. Stops at the first write that fails (the socket is gone), so the rest keep their
   * order for the next connection.
   */
  flush(write: (frame: ClientFrame) => boolean, ready: (room: string | undefined) => boolean): void {
    const held = new Set<string>();
    for (const entry of this.#entries.values()) {
      if (entry.state === 'written') continue;
      const lane = entry.lane;
      if (entry.state === 'waiting' || !ready(entry.room) || (lane !== undefined && held.has(lane))) {
        if (lane !== undefined) held.add(lane);
        continue;
      }
      if (!write(entry.frame)) return;
      this.#written(entry);
    }
  }

  /** Settles (or, for a refusal of a send that is worth retrying, reschedules) the request this reply answers; false when no request has its ref. */
  settle(reply: Reply): boolean {
    const ref = reply.ref;
    const entry = ref === undefined ? undefined : this.#entries.get(ref);
    if (ref === undefined || entry === undefined) return false;
    if (reply.type === 'error' && entry.mid !== undefined) {
      const delayMs = resendDelayMs(reply.code, entry.refusals, this.#o.random, reply.retryAfterMs);
      if (delayMs !== undefined) {
        // Not 'written': a late answer to an earlier attempt, whose resend is already due.
        if (entry.state === 'written') this.#waitThenResend(entry, delayMs);
        this.#o.held?.({ ...(entry.room === undefined ? {} : { room: entry.room }), code: reply.code, delayMs });
        return true;
      }
    }
    this.#delete(ref, entry);
    if (reply.type === 'error') entry.reject(serverError(reply));
    else entry.resolve(reply);
    return true;
  }

  /**
   * The connection dropped. Sends and directs in flight are due again on the next connection (their
   * reply, if any, is lost); other requests in flight fail with ConnectionLostError. Queued ones wait.
   */
  connectionLost(): void {
    for (const [ref, entry] of this.#entries) {
      if (entry.state !== 'written') continue;
      if (entry.mid !== undefined) {
        clearTimeout(entry.retry);
        entry.retry = undefined;
        entry.state = 'queued';
        continue;
      }
      this.#delete(ref, entry);
      entry.reject(new ConnectionLostError());
    }
  }

  rejectAll(error: Error): void {
    for (const [ref, entry] of this.#entries) {
      this.#delete(ref, entry);
      entry.reject(error);
    }
  }

  #written(entry: Entry): void {
    entry.state = 'written';
    entry.writes += 1;
    if (entry.mid === undefined) return;
    entry.retry = setTimeout(() => {
      entry.retry = undefined;
      entry.state = 'queued';
      this.#o.wake();
    }, this.#o.timeoutMs);
  }

  #waitThenResend(entry: Entry, delayMs: number): void {
    clearTimeout(entry.retry);
    entry.state = 'waiting';
    entry.refusals += 1;
    entry.retry = setTimeout(() => {
      entry.retry = undefined;
      entry.state = 'queued';
      this.#o.wake();
    }, delayMs);
  }

  #delete(ref: string, entry: Entry): void {
    if (!this.#entries.delete(ref)) return;
    clearTimeout(entry.deadline);
    clearTimeout(entry.retry);
  }
}

export function serverError(frame: ErrorFrame): ServerError {
  return new ServerError(frame.code, frame.message);
}
