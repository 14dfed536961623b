import type { ChatClient } from '../client.js';

/** What Unread needs of the client. */
export type ReadingClient = Pick<ChatClient, 'lastId' | 'markRead' | 'state'>;

/** At most one `read` per room within this long: a busy room would otherwise send one per message. */
export const MARK_INTERVAL_MS = 1000;

/**
 * Unread counts of the terminal's rooms, and its read markers. The current room's messages are
 * printed where the user looks, so it is marked read as they come (at most once per interval; the
 * calls within one are folded into a single `read` at its end, of the newest id then). Other rooms
 * count what arrives, starting from the server's count on join, and follow the `read` events of the
 * user's other connections.
 */
export class Unread {
  readonly #counts = new Map<string, number>();
  /** room -> when the last `read` went, the folded call waiting, and the id it marked */
  readonly #marks = new Map<string, { at: number; timer: NodeJS.Timeout | undefined; id: string | undefined }>();

  constructor(
    private readonly client: ReadingClient,
    /** Where the `read` promises go, so that quitting waits for them and a refusal is printed. */
    private readonly track: (promise: Promise<unknown>) => void,
    private readonly intervalMs = MARK_INTERVAL_MS,
  ) {}

  count(room: string): number {
    return this.#counts.get(room) ?? 0;
  }

  /** The server's count (on join, or a `read` event), unless the room is current: then it is read now. */
  set(room: string, unread: number, current: boolean): void {
    if (current) this.mark(room);
    else this.#counts.set(room, unread);
  }

  /** A message was printed. */
  onMessage(room: string, current: boolean): void {
    if (current) this.mark(room);
    else this.#counts.set(room, this.count(room) + 1);
  }

  /** Marks the room read up to its newest message, throttled; the count is 0 from now. */
  mark(room: string): void {
    this.#counts.set(room, 0);
    const state = this.#marks.get(room) ?? { at: 0, timer: undefined, id: undefined };
    this.#marks.set(room, state);
    if (state.timer !== undefined) return; // the waiting call reads the newest id when it goes
    const wait = state.at + this.intervalMs - Date.now();
    if (wait <= 0) this.#send(room);
    else state.timer = setTimeout(() => this.#send(room), wait);
  }

  /**
   * Sends the folded calls now (the terminal is quitting). Only while connected: quitting waits for
   * what is tracked, and a read marker is not worth waiting for a reconnect.
   */
  flush(): void {
    if (this.client.state !== 'connected') return;
    for (const [room, state] of this.#marks) if (state.timer !== undefined) this.#send(room);
  }

  forget(room: string): void {
    clearTimeout(this.#marks.get(room)?.timer);
    this.#marks.delete(room);
    this.#counts.delete(room);
  }

  #send(room: string): void {
    const state = this.#marks.get(room);
    if (state === undefined) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    const id = this.client.lastId(room);
    if (id === undefined || id === state.id) return;
    state.at = Date.now();
    state.id = id;
    this.track(this.client.markRead(room, id).catch((error: unknown) => {
      if (state.id === id) state.id = undefined; // the next mark tries this id again
      throw error;
    }));
  }
}
