// The sidebar's lists, drawn afresh from the page's state: rooms and direct messages with their
// unread badges, and the people of the conversation shown.
import { $, h } from './dom.js';
import { memberActions } from './moderation.js';

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
export function renderPeople({ client, me, current, rooms, openDm, moderates, moderated }) {
  const room = current?.kind === 'room';
  $('#slow-form').hidden = !room;
  const count = room ? client.memberCount(current.name) : undefined;
  if (count !== undefined) return renderLargeRoom(client, current, count);
  const members = room ? client.members(current.name) : current ? [me, current.name] : [];
  $('#member-count').textContent = room ? String(members.length) : '';
  const moderator = room && moderates(current.name);
  delete $('#members').dataset.large;
  $('#members').replaceChildren(...members.map((user) => {
    const state = room || user === me || rooms.some((c) => client.members(c.name).includes(user)) ? 'online'
      : current.peerOffline ? 'offline' : 'unknown';
    const label = user === me ? `${user} (you)`
      : h('button', { type: 'button', class: 'link', title: `Message ${user}`, onclick: () => openDm(user) }, user);
    return h('li', { 'data-user': user, 'data-state': state, class: user === me ? 'me' : '' },
      h('span', { class: state === 'online' ? 'online' : 'away', 'aria-hidden': 'true' }), label,
      state === 'online' ? null : h('span', { class: 'count' }, state === 'offline' ? 'offline' : 'not in your rooms: may be offline'),
      moderator && user !== me ? memberActions(client, current.name, user, (done) => moderated(current, done)) : null);
  }));
}

/**
 * A large room (above the server's LARGE_ROOM) has counts-only presence: the sidebar says how many
 * members it has, and lists them only on demand, a page at a time (memberPage).
 */
function renderLargeRoom(client, conv, count) {
  $('#member-count').textContent = String(count);
  const list = $('#members');
  // A new count keeps the pages already listed.
  if (list.dataset.large === conv.name) return void ($('.count-line', list).textContent = `${count} members`);
  list.dataset.large = conv.name;
  const more = h('button', { type: 'button', class: 'quiet', 'data-action': 'show-members' }, 'Show members');
  let after;
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await client.memberPage(conv.name, after === undefined ? {} : { after });
      more.parentElement.before(...page.members.map((user) => h('li', { 'data-user': user }, h('span', { class: 'online', 'aria-hidden': 'true' }), user)));
      after = page.next;
      more.textContent = 'More members';
      more.hidden = after === undefined;
    } catch (error) {
      more.textContent = `Could not list: ${error.message}`;
    }
    more.disabled = false;
  });
  list.replaceChildren(h('li', { class: 'large' }, h('span', { class: 'count-line' }, `${count} members`)), h('li', {}, more));
}
