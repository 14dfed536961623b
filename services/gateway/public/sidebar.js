// The sidebar's lists, drawn afresh from the page's state: rooms and direct messages with their
// unread badges, and the people of the conversation shown.
import { $, h } from './dom.js';

/** The room and direct-message lists; `show(key)` opens one. */
export function renderConversations(all, current, show) {
  const item = (conv) => h('li', { class: conv === current ? 'active' : '', 'data-key': conv.key },
    h('button', { type: 'button', onclick: () => show(conv.key) },
      h('span', {}, conv.kind === 'room' ? `# ${conv.name}` : `@ ${conv.name}`),
      conv.unread > 0 ? h('span', { class: 'count unread', title: `${conv.unread} unread` }, conv.unread) : null));
  $('#rooms').replaceChildren(...all.filter((c) => c.kind === 'room').map(item));
  $('#dms').replaceChildren(...all.filter((c) => c.kind === 'dm').map(item));
}

/**
 * A room's members are its presence. In a direct message the page knows the peer is connected only
 * while it is in one of my rooms; the server's `user_offline` answer says it has no connection; short
 * of either, its state is unknown and shown without the green dot.
 */
export function renderPeople({ client, me, current, rooms, openDm }) {
  const room = current?.kind === 'room';
  const members = room ? client.members(current.name) : current ? [me, current.name] : [];
  $('#member-count').textContent = room ? String(members.length) : '';
  $('#members').replaceChildren(...members.map((user) => {
    const state = room || user === me || rooms.some((c) => client.members(c.name).includes(user)) ? 'online'
      : current.peerOffline ? 'offline' : 'unknown';
    const label = user === me ? `${user} (you)`
      : h('button', { type: 'button', class: 'link', title: `Message ${user}`, onclick: () => openDm(user) }, user);
    return h('li', { 'data-user': user, 'data-state': state, class: user === me ? 'me' : '' },
      h('span', { class: state === 'online' ? 'online' : 'away', 'aria-hidden': 'true' }), label,
      state === 'online' ? null : h('span', { class: 'count' }, state === 'offline' ? 'offline' : 'not in your rooms: may be offline'));
  }));
}
