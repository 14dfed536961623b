import type { ChangeEvent, ChatMessage } from '@chat/protocol';
import { applyChange } from '../message-list.js';

/** How many printed messages the terminal keeps, to refer to and to apply changes to. */
export const RECENT_LIMIT = 500;

/**
 * The messages the terminal printed, each with a short number (#1, #2... in print order), so that
 * /edit, /delete and /react can name one: by its number, or by the end of its id (`-0`, `1234-0`).
 * Each is kept in its latest state (edits, deletes and reactions applied), for the oldest
 * RECENT_LIMIT to be forgotten first.
 */
export class RecentMessages {
  readonly #byNumber = new Map<number, ChatMessage>();
  readonly #numbers = new Map<string, number>();
  #next = 1;

  constructor(readonly limit = RECENT_LIMIT) {}

  /** The message's number, a new one the first time it is seen. */
  note(m: ChatMessage): number {
    const key = `${m.room} ${m.id}`;
    const known = this.#numbers.get(key);
    if (known !== undefined) {
      if (m.rev !== undefined) this.#byNumber.set(known, m);
      return known;
    }
    const n = this.#next++;
    this.#numbers.set(key, n);
    this.#byNumber.set(n, m);
    for (const [old, message] of this.#byNumber) {
      if (this.#byNumber.size <= this.limit) break;
      this.#byNumber.delete(old);
      this.#numbers.delete(`${message.room} ${message.id}`);
    }
    return n;
  }

  /** Applies a change to the message it targets; the message in its new state and its number, or undefined when not kept or unchanged. */
  apply(change: ChangeEvent, me: string | undefined): { n: number; message: ChatMessage } | undefined {
    const n = this.#numbers.get(`${change.room} ${change.target}`);
    const before = n === undefined ? undefined : this.#byNumber.get(n);
    if (n === undefined || before === undefined) return undefined;
    const [after] = applyChange([before], change, me);
    if (after === undefined || after === before) return undefined;
    this.#byNumber.set(n, after);
    return { n, message: after };
  }

  /**
   * The message a reference names in `room`: `3` or `#3` (its number), else the newest kept
   * message of the room whose id ends with the reference; undefined when none does.
   */
  find(room: string, reference: string): ChatMessage | undefined {
    const number = /^#?(\d+)$/.exec(reference);
    if (number !== null) {
      const m = this.#byNumber.get(Number(number[1]));
      return m?.room === room ? m : undefined;
    }
    return [...this.#byNumber.values()].reverse().find((m) => m.room === room && m.id.endsWith(reference));
  }
}
