// Typing indicators: the line under the conversation saying who else is typing in the room shown,
// and the composer telling the room while this user types.

/** How often the line is redrawn while someone is typing, so that an entry whose ttl ran out goes. */
const REFRESH_MS = 500;

/** "alice is typing…", "alice and bob are typing…", "several people are typing…"; '' for nobody. */
export function describeTypers(users) {
  if (users.length === 0) return '';
  if (users.length === 1) return `${users[0]} is typing…`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`;
  return 'several people are typing…';
}

/**
 * The line for the room shown: fed by `client.typers(room)`, which forgets an entry once its ttl
 * runs out. Redrawn on every `typing` and `message` event and, while anyone is listed, every
 * REFRESH_MS (the SDK has no event for an expiry).
 */
export class TypingLine {
  constructor(el, client) {
    this.el = el;
    this.client = client;
    this.room = undefined;
    this.timer = undefined;
  }

  /** Shows the typers of `room` (undefined: a direct message, which has no typing). */
  show(room) {
    this.room = room;
    this.refresh();
  }

  refresh() {
    clearTimeout(this.timer);
    const users = this.room === undefined ? [] : this.client.typers(this.room);
    this.el.textContent = describeTypers(users);
    this.el.dataset.users = users.join(',');
    if (users.length > 0) this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }
}

/**
 * Tells the room shown that this user is typing while the composer holds text (the SDK sends at
 * most one `typing` per interval), and that it stopped when the text is sent, cleared, or the
 * composer loses focus. `roomOf()` names the room shown, undefined in a direct message.
 */
export function announceTyping(input, client, roomOf) {
  const stop = () => {
    const room = roomOf();
    if (room !== undefined) client.stopTyping(room);
  };
  input.addEventListener('input', () => {
    const room = roomOf();
    if (room === undefined) return;
    if (input.value.trim() === '') client.stopTyping(room);
    else client.typing(room);
  });
  input.addEventListener('blur', stop);
  return stop;
}
