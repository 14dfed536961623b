// The web chat: a plain page on the client SDK (served at /sdk/ by every gateway).
// Query parameters: ?user=NAME&rooms=a,b (enter at once), ?token=JWT (auth on), and
// ?nodes=ws://host:port/ws,... (more gateways to fail over to, besides the one serving the page).
import { ChatClient } from '@chat/client';
import { Conversation } from './conversation.js';
import { $, h, isName } from './dom.js';
import { ConnectionIndicator, describeClose } from './indicator.js';

const params = new URLSearchParams(location.search);
const pageNode = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const urls = [...new Set([pageNode, ...(params.get('nodes') ?? '').split(',').map((s) => s.trim()).filter(Boolean)])];

const indicator = new ConnectionIndicator($('#status'), $('#status-text'));
const conversations = new Map();
let client;
let me;
let current;
let lastNode;

// ---- entering ----

const loginForm = $('#login-form');
loginForm.user.value = params.get('user') ?? localStorage.getItem('chat.user') ?? '';
loginForm.rooms.value = params.get('rooms') ?? localStorage.getItem('chat.rooms') ?? 'lobby';
loginForm.token.value = params.get('token') ?? '';
loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const rooms = loginForm.rooms.value.split(',').map((r) => r.trim()).filter(Boolean);
  enter(loginForm.user.value.trim(), rooms, loginForm.token.value.trim());
});
if (params.has('user')) loginForm.requestSubmit();

function enter(user, rooms, token) {
  const bad = [user, ...rooms].find((name) => !isName(name));
  if (bad !== undefined) return void ($('#login-error').textContent = `"${bad}" is not a valid name`);
  localStorage.setItem('chat.user', user);
  localStorage.setItem('chat.rooms', rooms.join(','));
  me = user;
  client = new ChatClient({ url: urls, ...(token ? { token } : { user }) });
  listen(client);
  $('#login').hidden = true;
  $('#chat').hidden = false;
  $('#menu').hidden = false;
  client.connect().catch(() => undefined);
  for (const room of rooms) joinRoom(room);
  show(`room:${rooms[0]}`);
}

// ---- what the server tells us ----

function listen(c) {
  c.on('status', (s) => indicator.status(s));
  c.on('welcome', (w) => {
    me = w.user;
    lastNode = w.node;
    document.title = `Chat · ${me}`;
  });
  c.on('disconnected', (d) => {
    const text = `Lost node ${lastNode} (${describeClose(d.code, d.reason)}). Reconnecting…`;
    for (const conv of rooms()) conv.note(text, 'warn');
  });
  c.on('ended', (e) => {
    for (const conv of rooms()) conv.note(`${describeClose(e.code, e.reason)}. Not reconnecting: reload the page to come back.`, 'warn');
  });
  c.on('joined', (j) => {
    const conv = conversation('room', j.room);
    if (j.resumed) {
      const missed = j.history.length;
      const below = `${j.gap ? 'the last ' : ''}${missed} missed message${missed === 1 ? '' : 's'} below`;
      conv.note(`Reconnected to node ${c.node}: ${missed === 0 ? 'nothing missed' : below}`, 'ok');
      indicator.resumed(c.node, j.gap);
    }
    if (j.gap) conv.note('Some messages from while you were away are no longer kept and cannot be shown.', 'warn');
    for (const m of j.history) conv.add(m);
    if (j.room === current?.name) renderMembers();
  });
  c.on('message', (m) => {
    const conv = conversations.get(`room:${m.room}`);
    if (conv?.add(m) && conv !== current) bump(conv);
  });
  c.on('direct', (m) => {
    const conv = conversation('dm', m.from === me ? m.to : m.from);
    if (conv.add(m) && conv !== current) bump(conv);
  });
  c.on('presence', (p) => {
    const conv = conversations.get(`room:${p.room}`);
    conv?.note(`${p.user} ${p.state === 'join' ? 'joined' : 'left'}`);
    if (conv === current) renderMembers();
  });
  c.on('error', (e) => (current ?? rooms()[0])?.note(`Error: ${e.message}${e.room ? ` (room ${e.room})` : ''}`, 'warn'));
}

// ---- what the user does ----

$('#composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('#text');
  const text = input.value;
  if (text.trim() === '' || current === undefined) return;
  input.value = '';
  const conv = current;
  const shown = conv.pending(text);
  const sent = conv.kind === 'room' ? client.send(conv.name, text) : client.direct(conv.name, text);
  // The SDK resends with the message's mid until acked (across reconnects): it is posted once, or fails here.
  sent.then(
    ({ id }) => shown.done({ type: conv.kind === 'room' ? 'message' : 'direct', id, room: conv.name, from: me, to: conv.name, text, ts: Date.now() }),
    (error) => shown.failed(error.code === 'user_offline' ? `${conv.name} is offline` : error.message),
  );
});

$('#join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const room = event.target.room.value.trim();
  event.target.reset();
  joinRoom(room);
  show(`room:${room}`);
});

$('#dm-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const to = event.target.to.value.trim();
  event.target.reset();
  conversation('dm', to);
  show(`dm:${to}`);
});

$('#leave').addEventListener('click', () => {
  if (current === undefined) return;
  const conv = current;
  if (conv.kind === 'room') client.leave(conv.name).catch(() => undefined);
  conv.list.remove();
  conversations.delete(conv.key);
  current = undefined;
  const next = conversations.keys().next().value;
  renderNav();
  if (next !== undefined) show(next);
});

$('#menu').addEventListener('click', () => toggleSidebar());
// On a phone the sidebar is a drawer over the conversation: a tap beside it closes it.
document.querySelector('.conversation').addEventListener('click', () => toggleSidebar(false), { capture: true });

function joinRoom(room) {
  const conv = conversation('room', room);
  client.join(room).then(
    (j) => { if (!j.resumed && j.history.length === 0 && conv.ids.size === 0) conv.empty('No messages yet.'); },
    (error) => conv.note(`Could not join ${room}: ${error.message}`, 'warn'),
  );
}

async function loadEarlier(conv) {
  if (conv.exhausted) return;
  try {
    const older = await client.history(conv.name, conv.oldest === undefined ? { limit: 50 } : { before: conv.oldest, limit: 50 });
    if (older.length < 50) {
      conv.exhausted = true;
      conv.more.querySelector('button').textContent = 'Beginning of the room';
      conv.more.querySelector('button').disabled = true;
    }
    conv.addEarlier(older);
  } catch (error) {
    conv.note(`Could not load earlier messages: ${error.message}`, 'warn');
  }
}

// ---- screen ----

function conversation(kind, name) {
  const key = `${kind}:${name}`;
  let conv = conversations.get(key);
  if (conv === undefined) {
    conv = new Conversation({ kind, name, whoAmI: () => me, onLoadEarlier: loadEarlier });
    conversations.set(key, conv);
    $('#conversations').append(conv.list);
    renderNav();
  }
  return conv;
}

function rooms() {
  return [...conversations.values()].filter((c) => c.kind === 'room');
}

function show(key) {
  const conv = conversations.get(key);
  if (conv === undefined) return;
  if (current !== undefined) current.list.hidden = true;
  current = conv;
  conv.list.hidden = false;
  conv.unread = 0;
  conv.scrollToEnd();
  $('#conv-title').textContent = conv.kind === 'room' ? `# ${conv.name}` : `@ ${conv.name}`;
  $('#leave').textContent = conv.kind === 'room' ? 'Leave' : 'Close';
  $('#text').placeholder = conv.kind === 'room' ? `Message #${conv.name}` : `Message ${conv.name}`;
  renderNav();
  renderMembers();
  toggleSidebar(false);
}

function bump(conv) {
  conv.unread += 1;
  renderNav();
}

function renderNav() {
  const item = (conv) => h('li', { class: conv === current ? 'active' : '', 'data-key': conv.key },
    h('button', { type: 'button', onclick: () => show(conv.key) },
      h('span', {}, conv.kind === 'room' ? `# ${conv.name}` : `@ ${conv.name}`),
      conv.unread > 0 ? h('span', { class: 'count unread' }, conv.unread) : null));
  const all = [...conversations.values()];
  $('#rooms').replaceChildren(...all.filter((c) => c.kind === 'room').map(item));
  $('#dms').replaceChildren(...all.filter((c) => c.kind === 'dm').map(item));
}

function renderMembers() {
  const members = current?.kind === 'room' ? client.members(current.name) : current ? [me, current.name] : [];
  $('#member-count').textContent = current?.kind === 'room' ? String(members.length) : '';
  $('#members').replaceChildren(...members.map((user) => h('li', { 'data-user': user, class: user === me ? 'me' : '' },
    h('span', { class: 'online', 'aria-hidden': 'true' }),
    user === me ? `${user} (you)` : h('button', { type: 'button', class: 'link', title: `Message ${user}`, onclick: () => { conversation('dm', user); show(`dm:${user}`); } }, user))));
}

function toggleSidebar(open) {
  const sidebar = $('#sidebar');
  const next = open ?? !sidebar.classList.contains('open');
  sidebar.classList.toggle('open', next);
  $('#menu').setAttribute('aria-expanded', String(next));
}
