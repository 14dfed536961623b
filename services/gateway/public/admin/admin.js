// The operator's page (GET /admin): nodes, rooms, members and messages, disconnect, publish, all
// through the gateway's own HTTP API. The API key lives in this tab's sessionStorage only.
// Text from users (messages, names) goes in through textContent (h), never as HTML.
import { $, clock, h, isName } from '../dom.js';
import { ApiError, OperatorApi, describeError } from './operator-api.js';

const KEY = 'chat.admin.key';
/** How often nodes, rooms and the open room are read again. */
const REFRESH_MS = 3000;
/** Rooms listed at once (the API allows up to 1000). */
const ROOM_LIMIT = 200;
/** Messages shown for the open room. */
const MESSAGE_LIMIT = 50;

let api;
let timer;
let room; // the room whose members and messages are open

// ---- signing in ----

start().catch(showError);

/** An open API (no API_KEY) needs no key; otherwise a key kept from earlier in this tab is tried. */
async function start() {
  if (await accepted(new OperatorApi(''))) return enter(new OperatorApi(''), true);
  const kept = sessionStorage.getItem(KEY);
  if (kept !== null && await accepted(new OperatorApi(kept))) return enter(new OperatorApi(kept), false);
  if (kept !== null) sessionStorage.removeItem(KEY);
  showLogin();
}

$('#key-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const candidate = new OperatorApi(event.target.key.value);
  try {
    await candidate.nodes();
  } catch (error) {
    // A 401 is decided before anything else: any other answer means the key was accepted.
    if (error instanceof ApiError && (error.status === 401 || error.status === 0)) return showError(error);
  }
  sessionStorage.setItem(KEY, candidate.key);
  event.target.reset();
  enter(candidate, false);
});

$('#forget').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  showLogin();
});

/** True unless the API answers 401 (a 503 still means the key passed). */
async function accepted(candidate) {
  try {
    await candidate.nodes();
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return false;
    if (error instanceof ApiError && error.status === 0) throw error;
    return true;
  }
}

function enter(withKey, open) {
  api = withKey;
  clearError();
  $('#login').hidden = true;
  $('#board').hidden = false;
  $('#open-note').hidden = !open;
  $('#forget').hidden = open;
  setAccess('connected', open ? 'Open API: no key needed' : 'Signed in with the API key');
  refresh();
}

function showLogin() {
  clearInterval(timer);
  api = undefined;
  $('#board').hidden = true;
  $('#login').hidden = false;
  $('#forget').hidden = true;
  setAccess('closed', 'Not signed in');
  $('#key-form').key.focus();
}

// ---- reading the cluster ----

/** Reads everything shown, then again every REFRESH_MS; a 401 (the key changed) signs out. */
async function refresh() {
  clearTimeout(timer);
  const reads = [api.nodes().then(renderNodes), api.rooms(ROOM_LIMIT).then(renderRooms)];
  if (room !== undefined) reads.push(loadRoom(room));
  const failures = (await Promise.allSettled(reads)).filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (failures.some((e) => e instanceof ApiError && e.status === 401)) {
    sessionStorage.removeItem(KEY);
    showLogin();
    return showError(failures.find((e) => e.status === 401));
  }
  if (failures.length > 0) showError(failures[0]);
  else clearError();
  $('#refreshed').textContent = `updated ${new Date().toLocaleTimeString()}`;
  if (api !== undefined) timer = setTimeout(refresh, REFRESH_MS);
}

function renderNodes(nodes) {
  $('#node-count').textContent = String(nodes.length);
  $('#nodes tbody').replaceChildren(...nodes.map((n) => h('tr', { 'data-node': n.node, 'data-ready': String(n.ready) },
    h('td', {}, n.node), h('td', { class: 'num connections' }, n.connections), h('td', { class: 'num' }, n.rooms),
    h('td', {}, h('span', { class: `pill ${n.ready ? 'ok' : 'bad'}` }, n.ready ? 'ready' : 'not ready')))));
}

function renderRooms({ rooms, more }) {
  $('#room-count').textContent = String(rooms.length) + (more ? '+' : '');
  $('#rooms-more').hidden = !more;
  $('#rooms-more').textContent = `More than ${ROOM_LIMIT} rooms: the first ${ROOM_LIMIT} by name are shown.`;
  $('#rooms tbody').replaceChildren(...rooms.map((r) => h('tr', { 'data-room': r.room, class: r.room === room ? 'active' : '' },
    h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => openRoom(r.room) }, `# ${r.room}`)),
    h('td', { class: 'num members' }, r.members))));
}

async function openRoom(name) {
  room = name;
  $('#room').hidden = false;
  $('#room').dataset.room = name;
  $('#room-title').textContent = `# ${name}`;
  $('#publish-result').textContent = '';
  for (const row of document.querySelectorAll('#rooms tbody tr')) row.classList.toggle('active', row.dataset.room === name);
  await loadRoom(name).catch(showError);
}

async function loadRoom(name) {
  const [members, messages] = await Promise.all([api.members(name), api.messages(name, MESSAGE_LIMIT)]);
  if (name !== room) return; // another room was opened meanwhile
  $('#member-count').textContent = String(members.length);
  $('#room-members').replaceChildren(...members.sort().map((user) => h('li', { 'data-user': user },
    h('span', { class: 'online', 'aria-hidden': 'true' }), h('span', { class: 'name' }, user),
    h('button', { type: 'button', class: 'danger small', onclick: () => kick(user) }, 'Disconnect'))));
  if (members.length === 0) $('#room-members').append(h('li', { class: 'none' }, 'Nobody is in this room now.'));
  const list = $('#room-messages');
  list.replaceChildren(...messages.map(messageItem));
  if (messages.length === 0) list.append(h('li', { class: 'sys' }, h('span', {}, 'No messages.')));
  list.scrollTop = list.scrollHeight;
}

function messageItem(m) {
  const badge = m.via === 'api' ? h('span', { class: 'badge api' }, 'API') : m.via === 'mqtt' ? h('span', { class: 'badge device' }, 'device') : null;
  return h('li', { class: 'msg', 'data-id': m.id, 'data-from': m.from, 'data-via': m.via },
    h('div', { class: 'meta' }, h('span', { class: 'from' }, m.from), badge,
      h('time', { datetime: new Date(m.ts).toISOString(), title: `${new Date(m.ts).toLocaleString()} · id ${m.id}` }, clock(m.ts))),
    h('p', { class: 'text' }, m.text));
}

// ---- acting ----

$('#room-close').addEventListener('click', () => {
  room = undefined;
  $('#room').hidden = true;
  for (const row of document.querySelectorAll('#rooms tbody tr')) row.classList.remove('active');
});

$('#kick-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const user = event.target.user.value.trim();
  if (!isName(user)) return void ($('#kick-result').textContent = `"${user}" is not a valid user name`);
  kick(user).then(() => event.target.reset(), () => undefined);
});

/** Disconnects every connection of `user`, shows how many the nodes closed, and reads the cluster again. */
async function kick(user) {
  const result = $('#kick-result');
  result.dataset.user = user;
  result.textContent = `Disconnecting ${user}…`;
  try {
    const { connections } = await api.disconnect(user);
    result.textContent = `${user}: connections: ${connections}`;
    result.className = `result ${connections > 0 ? 'ok' : ''}`;
  } catch (error) {
    result.textContent = describeError(error);
    result.className = 'result bad';
    throw error;
  } finally {
    refresh();
  }
}

$('#publish-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const target = room;
  const from = form.from.value.trim();
  const result = $('#publish-result');
  if (from !== '' && !isName(from)) return void (result.textContent = `"${from}" is not a valid sender name`);
  try {
    const id = await api.publish(target, form.text.value, from);
    form.text.value = '';
    result.textContent = `Published in #${target} as ${id}`;
    result.className = 'result ok';
    refresh();
  } catch (error) {
    result.textContent = describeError(error);
    result.className = 'result bad';
  }
});

// ---- small things ----

function setAccess(state, text) {
  $('#access').dataset.state = state;
  $('#access-text').textContent = text;
}

function showError(error) {
  $('#error').textContent = describeError(error);
  $('#error').dataset.status = String(error instanceof ApiError ? error.status : '');
  $('#error').hidden = false;
}

function clearError() {
  $('#error').hidden = true;
  $('#error').textContent = '';
}
