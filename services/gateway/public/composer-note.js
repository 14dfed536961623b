// The line under the message input: why a message cannot go now (muted, banned), and slow mode's
// countdown until the next one may go (the SDK holds the message and sends it then by itself).
import { duration } from './moderation.js';

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
