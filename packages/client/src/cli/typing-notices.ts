import type { TypingEvent } from '@chat/protocol';

/**
 * Which `typing` events the terminal prints: a user's start only, so that the repeats they send
 * every couple of seconds while typing print nothing. A user counts as typing until the ttl of its
 * last `typing`, its stop or its message; after that, the next `typing` is a start again.
 */
export class TypingNotices {
  /** room -> user -> until when (epoch ms) it counts as typing */
  readonly #until = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The line to print for this event, or undefined (a repeat, or a stop). */
  onTyping(event: TypingEvent): string | undefined {
    const users = this.#until.get(event.room) ?? new Map<string, number>();
    this.#until.set(event.room, users);
    if (event.ttl <= 0) {
      users.delete(event.user);
      return undefined;
    }
    const known = users.get(event.user);
    users.set(event.user, this.now() + event.ttl);
    return known !== undefined && known > this.now() ? undefined : `* ${event.user} is typing in ${event.room}…`;
  }

  /** A user's message ends its typing: its next `typing` is news. */
  onMessage(room: string, from: string): void {
    this.#until.get(room)?.delete(from);
  }

  forget(room: string): void {
    this.#until.delete(room);
  }
}
