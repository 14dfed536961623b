import type { ClientFrame, ErrorFrame, ServerFrame } from '@chat/protocol';
import { ConnectionLostError, QueueFullError, ServerError, TimeoutError } from './errors.js';

export interface OutboxOptions {
  /** Most requests waiting to be written (sent while disconnected, or to a room not yet rejoined). */
  maxQueued: number;
  /** A request's whole life, queued plus in flight, in ms. */
  timeoutMs: number;
}

/** A frame the client writes; the outbox adds the `ref`. */
export type Request = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'ref'> : never) : never;

/** A reply that carries a `ref`, so it can settle a request. */
export type Reply = Exclude<ServerFrame, { type: 'message' | 'direct' | 'presence' | 'welcome' }>;

interface Entry {
  frame: ClientFrame;
  /** The room the frame must wait for, or undefined to go out as soon as a connection is up. */
  room: string | undefined;
  written: boolean;
  timer: ReturnType<typeof setTimeout>;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/**
 * Requests that wait for a reply matched by `ref`, and the bounded queue of those not written yet.
 *
 * Order: queued requests go out in the order they were made (per room, that is the order the
 * server will see). Each promise settles exactly once: with its reply, with ServerError for an
 * `error` frame, with TimeoutError, with ConnectionLostError when the connection dropped after the
 * frame was written (never resent: a resent `send` could post twice), or with the close reason.
 */
export class Outbox {
  readonly #entries = new Map<string, Entry>();
  readonly #options: OutboxOptions;
  #seq = 0;
  #queued = 0;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  /** Requests not written yet. */
  get queued(): number {
    return this.#queued;
  }

  /** Requests written and waiting for their reply. */
  get inFlight(): number {
    return this.#entries.size - this.#queued;
  }

  request(frame: Request, room?: string): Promise<Reply> {
    if (this.#queued >= this.#options.maxQueued) return Promise.reject(new QueueFullError(this.#options.maxQueued));
    const ref = `r${++this.#seq}`;
    return new Promise<Reply>((resolve, reject) => {
      const entry: Entry = {
        frame: { ...frame, ref } as ClientFrame,
        room,
        written: false,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#delete(ref, entry);
          reject(new TimeoutError(`no reply to "${frame.type}" within ${this.#options.timeoutMs} ms` +
            (entry.written ? '; it may still take effect' : '; it was never sent')));
        }, this.#options.timeoutMs),
      };
      this.#entries.set(ref, entry);
      this.#queued += 1;
    });
  }

  /**
   * Writes queued requests, oldest first, whose room is ready. Stops at the first write that
   * fails (the socket is gone), so the rest keep their order for the next connection.
   */
  flush(write: (frame: ClientFrame) => boolean, ready: (room: string | undefined) => boolean): void {
    for (const entry of this.#entries.values()) {
      if (entry.written || !ready(entry.room)) continue;
      if (!write(entry.frame)) return;
      entry.written = true;
      this.#queued -= 1;
    }
  }

  /** Settles the request this reply answers; false when no request has its ref. */
  settle(reply: Reply): boolean {
    const ref = reply.ref;
    const entry = ref === undefined ? undefined : this.#entries.get(ref);
    if (ref === undefined || entry === undefined) return false;
    this.#delete(ref, entry);
    if (reply.type === 'error') entry.reject(serverError(reply));
    else entry.resolve(reply);
    return true;
  }

  /** The connection dropped: requests in flight fail; queued ones wait for the next connection. */
  connectionLost(): void {
    for (const [ref, entry] of this.#entries) {
      if (!entry.written) continue;
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

  #delete(ref: string, entry: Entry): void {
    if (!this.#entries.delete(ref)) return;
    clearTimeout(entry.timer);
    if (!entry.written) this.#queued -= 1;
  }
}

export function serverError(frame: ErrorFrame): ServerError {
  return new ServerError(frame.code, frame.message);
}
