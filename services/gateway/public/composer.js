// The message input: posting what is typed to the conversation shown, and the line under it that
// says why a message cannot go now (muted, banned, removed from the room), or slow mode's countdown
// until it goes (the SDK holds the message and sends it then by itself).
import { duration } from './moderation.js';

/**
 * Posts each line to the conversation `page.current()` shows, as a pending item that becomes the
 * message at its ack or says why it failed. The SDK resends with the message's mid until acked
 * (across reconnects): it is posted once, or fails here.
 */
export function setUpComposer(form, input, page) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    const conv = page.current();
    if (text.trim() === '' || conv === undefined) return;
    if (conv.removed !== undefined) return page.note.removed(conv.name, conv.removed);
    input.value = '';
    page.stopTyping();
    const shown = conv.pending(text);
    const sent = conv.kind === 'room' ? page.client.send(conv.name, text) : page.client.direct(conv.name, text);
    sent.then(
      ({ id }) => {
        page.note.clear();
        if (conv.kind === 'dm') conv.peerOffline = false;
        shown.done({ type: conv.kind === 'room' ? 'message' : 'direct', id, room: conv.name, from: page.me(), to: conv.name, text, ts: Date.now() });
      },
      (error) => {
        const offline = error.code === 'user_offline';
        shown.failed(offline ? `${conv.name} is offline` : error.message);
        page.note.refused(conv.name, error);
        if (offline) conv.peerOffline = true;
        if (offline && conv === page.current()) page.renderMembers();
      },
    );
  });
}

export class ComposerNote {
  #el;
  #timer;

  constructor(el) {
    this.#el = el;
  }

  /** A refused send: a plain sentence for the moderation codes, the server's message otherwise. */
  refused(room, error) {
    const text = error.code === 'muted' ? `You are muted in #${room}: your messages are not posted.`
      : error.code === 'banned' ? `You are banned from #${room}.`
        : undefined;
    if (text !== undefined) this.show(text);
  }

  /** The user was kicked or banned from the room shown: nothing can be posted there. */
  removed(room, reason) {
    this.show(reason === 'banned' ? `You are banned from #${room}.` : `You were removed from #${room}: join it again to post.`);
  }

  /** Slow mode held a message of `room`: count down to when it goes. */
  slowMode(room, delayMs) {
    const until = Date.now() + delayMs;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) return this.clear();
      this.show(`Slow mode in #${room}: your message goes in ${duration(left)}`, 'slow');
      this.#timer = setTimeout(tick, Math.min(1000, until - Date.now()));
    };
    clearTimeout(this.#timer);
    tick();
  }

  show(text, kind = 'error') {
    clearTimeout(this.#timer);
    this.#el.textContent = text;
    this.#el.dataset.kind = kind;
    this.#el.hidden = false;
  }

  clear() {
    clearTimeout(this.#timer);
    this.#el.hidden = true;
    this.#el.textContent = '';
  }
}
