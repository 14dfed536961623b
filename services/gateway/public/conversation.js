import { applyChange } from '@chat/client';
import { compareIds } from '@chat/protocol';
import { atBottom, h } from './dom.js';
import { messageItem } from './message-item.js';

/**
 * One conversation on screen (a room, or direct messages with one user): its list of messages,
 * kept in id order, each id shown once, with system lines ("bob joined", "reconnected") between.
 */
export class Conversation {
  /**
   * `whoAmI()` is asked each time: with auth on, the name comes from the server's welcome.
   * `act` edits, deletes and reacts (message-item.js); `moderates()` says whether this user is
   * known to moderate the room, so that others' messages get Edit and Delete too.
   */
  constructor({ kind, name, whoAmI, onLoadEarlier, act, moderates }) {
    this.kind = kind; // 'room' | 'dm'
    this.name = name;
    this.key = `${kind}:${name}`;
    this.whoAmI = whoAmI;
    this.act = act;
    this.moderates = moderates;
    this.ids = new Set();
    /** Each message shown, by id, in its latest state: what an edit, delete or reaction applies to. */
    this.messages = new Map();
    this.oldest = undefined;
    this.unread = 0;
    /** The room's first message is shown, or the room was empty when joined: there is nothing earlier. */
    this.exhausted = false;
    /** A direct message's peer answered `user_offline` to the last message, and has not written since. */
    this.peerOffline = false;
    // Hidden until a message is shown: an empty room has nothing earlier to load.
    this.more = kind === 'room'
      ? h('li', { class: 'more', hidden: true }, h('button', { type: 'button', class: 'quiet', onclick: () => onLoadEarlier(this) }, 'Load earlier messages'))
      : null;
    this.list = h('ol', { class: 'conv', 'data-key': this.key, hidden: true }, this.more);
  }

  /**
   * Adds a message at its place by id; false when that id is already shown. A history page may
   * bring a shown message in a newer state (its `rev` is later): the item is redrawn with it.
   */
  add(message) {
    if (this.ids.has(message.id)) {
      const shown = this.messages.get(message.id);
      if (message.rev !== undefined && (shown?.rev === undefined || compareIds(message.rev, shown.rev) > 0)) this.#redraw(message);
      return false;
    }
    this.ids.add(message.id);
    this.messages.set(message.id, message);
    this.placeholder?.remove();
    this.placeholder = undefined;
    if (this.oldest === undefined || compareIds(message.id, this.oldest) < 0) this.oldest = message.id;
    const item = this.#item(message);
    const stick = atBottom(this.list);
    // Newest first from the end: a live message lands last (after any system line); an older
    // one (scroll-back, a replay) lands just before the first message newer than it.
    let newer = null;
    for (let node = this.list.lastElementChild; node !== null && node !== this.more; node = node.previousElementSibling) {
      if (node.dataset.id === undefined) continue;
      if (compareIds(node.dataset.id, message.id) < 0) break;
      newer = node;
    }
    if (newer === null) this.list.append(item);
    else newer.before(item);
    if (this.more !== null && !this.exhausted) this.more.hidden = false;
    if (stick && item === this.list.lastElementChild) this.scrollToEnd();
    return true;
  }

  /** Applies an edit, delete or reaction (live, or from `joined.changes`) to the message it targets, if shown. */
  change(change) {
    const shown = this.messages.get(change.target);
    if (shown === undefined) return;
    const [next] = applyChange([shown], change, this.whoAmI());
    if (next !== shown) this.#redraw(next);
  }

  /** Redraws every item, e.g. when this user turns out to moderate the room (Edit and Delete on all). */
  redrawAll() {
    for (const m of this.messages.values()) this.#redraw(m);
  }

  /** Adds older messages above the ones shown, keeping the reader's place. */
  addEarlier(messages) {
    const before = this.list.scrollHeight;
    const top = this.list.scrollTop;
    for (const m of messages) this.add(m);
    this.list.scrollTop = top + (this.list.scrollHeight - before);
  }

  /**
   * Nothing earlier exists. After a page of history came back short the button says so; when the
   * room was empty on joining, it never shows.
   */
  reachedStart() {
    this.exhausted = true;
    if (this.more === null) return;
    this.more.querySelector('button').textContent = 'Beginning of the room';
    this.more.querySelector('button').disabled = true;
    if (this.ids.size === 0) this.more.hidden = true;
  }

  /** A line about what happened, not a message: presence, connection, errors. */
  note(text, tone = 'info') {
    const stick = atBottom(this.list);
    const item = h('li', { class: `sys ${tone}` }, h('span', {}, text));
    this.list.append(item);
    if (stick) this.scrollToEnd();
    return item;
  }

  /**
   * The one "new messages" line: just after message `after` (the read marker, or the last id seen
   * before a reload), before the first message newer than it; at the end when none is newer.
   */
  divider(after, text) {
    this.list.querySelector('li.divider')?.remove();
    this.dividerAfter = after;
    const line = h('li', { class: 'sys ok divider' }, h('span', {}, text));
    const firstNew = [...this.list.querySelectorAll('li.msg[data-id]')].find((item) => compareIds(item.dataset.id, after) > 0);
    if (firstNew === undefined) this.list.append(line);
    else firstNew.before(line);
    return line;
  }

  /** Scrolls back up to the "new messages" line when the end is shown and the line is above the view. */
  revealDivider() {
    const line = this.list.querySelector('li.divider');
    if (line === null) return;
    const above = line.getBoundingClientRect().top - this.list.getBoundingClientRect().top;
    if (above < 0) this.list.scrollTop += above - 8;
  }

  /** A note that stands only until the first message arrives. */
  empty(text) {
    this.placeholder = this.note(text);
  }

  /** A message of mine on its way; returns callbacks for its ack and its failure. */
  pending(text) {
    const item = h('li', { class: 'msg mine pending' },
      h('div', { class: 'meta' }, h('span', { class: 'from' }, this.whoAmI()), h('span', { class: 'state' }, 'sending…')),
      h('p', { class: 'text' }, text));
    this.list.append(item);
    this.scrollToEnd();
    return {
      done: (message) => {
        item.remove();
        this.add(message);
      },
      failed: (reason) => {
        item.classList.replace('pending', 'failed');
        item.querySelector('.state').textContent = `not sent: ${reason}`;
      },
    };
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  #redraw(message) {
    this.messages.set(message.id, message);
    this.list.querySelector(`li.msg[data-id="${message.id}"]`)?.replaceWith(this.#item(message));
  }

  #item(m) {
    const mine = m.from === this.whoAmI();
    return messageItem(m, { kind: this.kind, mine, canChange: mine || this.moderates(), act: this.act });
  }
}
