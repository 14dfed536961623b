import type { TypingEvent } from '@chat/protocol';

/** How often typing() tells the server by default: the server relays at most one per 2 s (TYPING_INTERVAL_MS) anyway. */
export const DEFAULT_TYPING_INTERVAL_MS = 2_000;

/**
 * Typing indicators on the client: the throttle of what this client says (at most one `typing` per
 * room within the interval, and a stop only after a `typing`), and who else is typing in each room.
 * A typer is shown until the `ttl` of its last `typing` runs out, its stop (ttl 0), or its message.
 */
export class TypingState {
  /** room -> when this client last sent `typing` there; absent once stopped. */
  readonly #sentAt = new Map<string, number>();
  /** room -> user -> until when (epoch ms) it counts as typing */
  readonly #typers = new Map<string, Map<string, number>>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a `typing` for `room` should go out now (and it is counted as sent). */
  shouldSend(room: string): boolean {
    const last = this.#sentAt.get(room);
    const now = this.now();
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.#sentAt.set(room, now);
    return true;
  }

  /** True when a stop for `room` is worth sending: a `typing` went out since the last stop. */
  shouldStop(room: string): boolean {
    return this.#sentAt.delete(room);
  }

  /** Applies a `typing` event: ttl 0 is a stop. */
  onTyping(event: TypingEvent): void {
    if (event.ttl <= 0) {
      this.#drop(event.room, event.user);
      return;
    }
    const users = this.#typers.get(event.room) ?? new Map<string, number>();
    users.set(event.user, this.now() + event.ttl);
    this.#typers.set(event.room, users);
  }

  /** A user's message ends its typing. */
  onMessage(room: string, from: string): void {
    this.#drop(room, from);
  }

  /** Who is typing in `room` now, sorted; expired entries are forgotten here. */
  typers(room: string): string[] {
    const users = this.#typers.get(room);
    if (users === undefined) return [];
    const now = this.now();
    for (const [user, until] of users) if (until <= now) users.delete(user);
    if (users.size === 0) this.#typers.delete(room);
    return [...users.keys()].sort();
  }

  /** The room was left, or the connection lost: nothing of it holds any more. */
  forget(room: string): void {
    this.#sentAt.delete(room);
    this.#typers.delete(room);
  }

  #drop(room: string, user: string): void {
    const users = this.#typers.get(room);
    if (users?.delete(user) === true && users.size === 0) this.#typers.delete(room);
  }
}
