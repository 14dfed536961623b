// "seen by …" under a room's newest message that other members have read, from the `receipt`
// events a gateway sends when it runs with READ_RECEIPTS=true (without it, nothing shows).
import { compareIds } from '@chat/protocol';
import { h } from './dom.js';

/** Names shown before "+N": the line stays one short line however many read. */
const NAMES_SHOWN = 3;

/** "seen by alice, bob", "seen by alice, bob, carol +2". */
export function describeReaders(users) {
  const names = users.slice(0, NAMES_SHOWN).join(', ');
  return users.length > NAMES_SHOWN ? `seen by ${names} +${users.length - NAMES_SHOWN}` : `seen by ${names}`;
}

/**
 * Where each other member's read marker of one room stands, as far as this page has heard since it
 * joined (a marker that did not move since is unknown here).
 */
export class Receipts {
  constructor() {
    /** user -> id of the newest message it read */
    this.markers = new Map();
  }

  /** Records a receipt; false when it moves nothing (markers only move forward). */
  note(user, id) {
    const known = this.markers.get(user);
    if (known !== undefined && compareIds(id, known) <= 0) return false;
    this.markers.set(user, id);
    return true;
  }

  /**
   * Puts the one "seen by" line on the newest message of `list` that someone other than me and its
   * author has read, naming everyone who read that far.
   */
  render(list, me) {
    list.querySelector('.seen')?.remove();
    if (this.markers.size === 0) return;
    const messages = list.querySelectorAll('li.msg[data-id]');
    for (let i = messages.length - 1; i >= 0; i--) {
      const item = messages[i];
      const readers = [...this.markers]
        .filter(([user, id]) => user !== me && user !== item.dataset.from && compareIds(id, item.dataset.id) >= 0)
        .map(([user]) => user)
        .sort();
      if (readers.length === 0) continue;
      item.append(h('div', { class: 'seen', 'data-users': readers.join(',') }, describeReaders(readers)));
      return;
    }
  }
}
