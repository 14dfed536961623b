// Read markers from the page: the room shown in a visible tab is marked read up to the last message
// the page got, so that the unread badges of this user's other tabs and devices clear, and the next
// visit's "new messages" line sits where reading stopped.

/** At most one `read` per room within this long: a busy room would otherwise send one per message. */
export const MARK_INTERVAL_MS = 1000;

/** True while the user can see the page (not a background tab, not a minimised window). */
export function pageVisible() {
  return document.visibilityState === 'visible';
}

/**
 * Throttled markRead: the first call for a room goes at once, later ones within the interval are
 * folded into one at its end, which marks whatever is newest then. flush() sends what is waiting
 * (the page is going away).
 */
export class ReadMarks {
  constructor(client, intervalMs = MARK_INTERVAL_MS) {
    this.client = client;
    this.intervalMs = intervalMs;
    /** room -> { at: when the last `read` went, timer: the folded call waiting, id: the id it marked } */
    this.rooms = new Map();
  }

  mark(room) {
    const state = this.rooms.get(room) ?? { at: 0, timer: undefined, id: undefined };
    this.rooms.set(room, state);
    if (state.timer !== undefined) return; // the waiting call reads the newest id when it goes
    const wait = state.at + this.intervalMs - Date.now();
    if (wait <= 0) this.#send(room, state);
    else state.timer = setTimeout(() => this.#send(room, state), wait);
  }

  flush() {
    for (const [room, state] of this.rooms) if (state.timer !== undefined) this.#send(room, state);
  }

  forget(room) {
    clearTimeout(this.rooms.get(room)?.timer);
    this.rooms.delete(room);
  }

  #send(room, state) {
    clearTimeout(state.timer);
    state.timer = undefined;
    const id = this.client.lastId(room);
    if (id === undefined || id === state.id) return;
    state.at = Date.now();
    state.id = id;
    // The reply comes back as a `read` event too, which sets the badges. A refusal (the room left
    // meanwhile, the connection down) changes nothing on screen: the next message or visit marks
    // the room again, this id included.
    this.client.markRead(room, id).catch(() => {
      if (state.id === id) state.id = undefined;
    });
  }
}

/**
 * Where the one "new messages" line goes when a room opens, and how many messages follow it: at the
 * read marker when the server keeps one (shared by the user's tabs and devices), else after the
 * last id this page saw before a reload (`since`). Undefined on a first visit with no marker.
 */
export function newMessagesLine(joined, since) {
  if (typeof joined.read === 'string') return { after: joined.read, count: joined.unread ?? 0 };
  if (since !== undefined) return { after: since, count: joined.history.length };
  return undefined;
}

/** The line in a room opened from the list with unread messages. */
export function describeUnread(count) {
  return `${count} new message${count === 1 ? '' : 's'}`;
}

export function describeNew(count) {
  return count === 0 ? 'Nothing new since your last visit' : `${count} new message${count === 1 ? '' : 's'} since your last visit`;
}
