import { ErrorCode } from '@chat/protocol';

/**
 * How long a send or direct is retried, from the call to its ack, by default.
 *
 * The server remembers a `mid` for IDEMPOTENCY_SECONDS (default 300 s, docs/protocol.md#configuration) and stores a
 * repeat of it once; after that a resend with the same `mid` would post a second time. The deadline
 * runs from the call (time in the offline queue counts), so no resend of a message can go out more
 * than this long after its first write: 120 s leaves a wide margin below 300 s.
 */
export const DEFAULT_SEND_TIMEOUT_MS = 120_000;

/** What a send or direct resolves with once the server acked it. */
export interface Sent {
  /** The message id: the room's stream id for a send. */
  id: string;
  /** The server had already stored this `mid` (an earlier attempt got through): `id` is the first one's. */
  duplicate: boolean;
  /** A reaction that was already as asked: nothing was stored, and `id` is the message's newest change. */
  unchanged?: true;
  /** The `mid` the message carried: the caller's own, or one the SDK minted. */
  mid: string;
}

export interface SendOptions {
  /**
   * The message's idempotency key (`^[A-Za-z0-9_.:-]{1,64}$`). Default: one minted by the client,
   * unique to this message. Pass your own to retry a send yourself after this client gave up
   * (within IDEMPOTENCY_SECONDS of the first attempt) without posting twice.
   */
  mid?: string;
}

/**
 * Mints `mid`s: a random prefix per client and a counter, e.g. `4f1c0a9e2b7d31c8e5a6f0b2.1a`. The
 * server keys a mid by (room, sender) or (sender, recipient), so the prefix only has to tell apart
 * the clients of one user within IDEMPOTENCY_SECONDS: 96 random bits do, with no coordination.
 */
export class MidSource {
  readonly #prefix: string;
  #count = 0;

  constructor(random: (bytes: Uint8Array) => Uint8Array = fillRandom) {
    this.#prefix = [...random(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  next(): string {
    this.#count += 1;
    return `${this.#prefix}.${this.#count.toString(36)}`;
  }
}

function fillRandom(bytes: Uint8Array): Uint8Array {
  const crypto = (globalThis as { crypto?: { getRandomValues(b: Uint8Array): Uint8Array } }).crypto;
  if (crypto !== undefined) return crypto.getRandomValues(bytes);
  // Only runtimes without Web Crypto get here (none of Node 20+ or current browsers).
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  return bytes;
}

/**
 * The delay before writing a refused send or direct again with the same `mid`, or undefined when the
 * refusal is final (the promise rejects with ServerError at once). `retryAfterMs` is the server's
 * (with `slow_mode`).
 * - `unavailable`: the bus did not confirm; it was not stored, or stored once whatever the repeats
 *   (docs/protocol.md#connect). 250 ms doubling to 5 s.
 * - `rate_limited`: the frame was dropped and the budget refills per second. 1 s doubling to 8 s.
 * Each delay is jittered down to half, so that the clients of one blip do not come back in a wave.
 * - `slow_mode`: the room allows one message per interval; the server says when the next may go,
 *   and the resend waits that long plus up to 100 ms (never less: earlier would be refused again).
 * Everything else (bad_request, too_large, not_joined, forbidden, too_many_rooms, user_offline,
 * unknown_type, and banned and muted, which last until a moderator lifts them) says the same frame
 * would be refused again.
 */
export function resendDelayMs(code: string, refusals: number, random: () => number = Math.random, retryAfterMs?: number): number | undefined {
  if (code === ErrorCode.SlowMode) return Math.round((retryAfterMs ?? 1000) + 100 * random());
  let ceiling: number;
  if (code === ErrorCode.Unavailable) ceiling = Math.min(5000, 250 * 2 ** refusals);
  else if (code === ErrorCode.RateLimited) ceiling = Math.min(8000, 1000 * 2 ** refusals);
  else return undefined;
  return Math.round(ceiling * (1 - 0.5 * random()));
}
