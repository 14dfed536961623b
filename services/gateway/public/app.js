// The web chat: a plain page on the client SDK (served at /sdk/ by every gateway).
// Query parameters: ?user=NAME&rooms=a,b (enter at once), ?token=JWT (auth on), and
// ?nodes=ws://host:port/ws,... (more gateways to fail over to, besides the one serving the page).
// Without them, a page reloaded after signing in comes back to its rooms (saved-session.js).
import { ChatClient } from '@chat/client';
import { ComposerNote, setUpComposer } from './composer.js';
import { Conversation } from './conversation.js';
import { $, isName } from './dom.js';
import { setUpDrawer, toggleDrawer } from './drawer.js';
import { ConnectionIndicator, describeClose } from './indicator.js';
import { Moderation } from './moderation.js';
import { loadEarlier, openRoom } from './open-room.js';
import { describeUnread, newMessagesLine, pageVisible, ReadMarks } from './read-marks.js';
import { Receipts } from './receipts.js';
import { listenToRooms, messageActions, moderated, setUpSlowMode } from './room-events.js';
import { clearSession, loadSession, loadToken, saveSession, saveToken } from './saved-session.js';
import { renderConversations, renderPeople } from './sidebar.js';
import { announceTyping, TypingLine } from './typing-line.js';

const params = new URLSearchParams(location.search);
const pageNode = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const urls = [...new Set([pageNode, ...(params.get('nodes') ?? '').split(',').map((s) => s.trim()).filter(Boolean)])];

const indicator = new ConnectionIndicator($('#status'), $('#status-text'));
const conversations = new Map();
let client;
let me;
let current;
let lastNode;
let typingLine;
let reads;
let moderation;
let roomPage; // what room-events.js needs of the page
const composerNote = new ComposerNote($('#composer-note'));
/** Tells the room shown that this user stopped typing; set once signed in. */
let stopTyping = () => undefined;
/** What is kept across a reload; undefined until signed in. */
let session;

// ---- entering ----

const saved = loadSession();
const loginForm = $('#login-form');
loginForm.user.value = params.get('user') ?? saved?.user ?? '';
loginForm.rooms.value = params.get('rooms') ?? saved?.rooms.join(',') ?? 'lobby';
loginForm.token.value = params.get('token') ?? loadToken();
loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const rooms = loginForm.rooms.value.split(',').map((r) => r.trim()).filter(Boolean);
  const user = loginForm.user.value.trim();
  // The same user again (a reload of a ?user= link) keeps its rooms, direct messages and places.
  enter(user, rooms, loginForm.token.value.trim(), saved?.user === user ? saved : undefined);
});
setUpDrawer();
if (params.has('user')) loginForm.requestSubmit();
// A token lives in this tab only: a new tab of a signed-in page asks for it again.
else if (saved !== undefined && (!saved.withToken || loadToken() !== '')) enter(saved.user, saved.rooms, loadToken(), saved);

function enter(user, rooms, token, restored) {
  const bad = [user, ...rooms].find((name) => !isName(name));
  if (bad !== undefined) return void ($('#login-error').textContent = `"${bad}" is not a valid name`);
  const seen = restored?.seen ?? {};
  session = { user, rooms: [...new Set([...rooms, ...(restored?.rooms ?? [])])], dms: restored?.dms ?? [], seen, withToken: token !== '' };
  saveToken(token);
  me = user;
  client = new ChatClient({ url: urls, ...(token ? { token } : { user }) });
  typingLine = new TypingLine($('#typing'), client);
  reads = new ReadMarks(client);
  moderation = new Moderation(token);
  stopTyping = announceTyping($('#text'), client, () => (current?.kind === 'room' ? current.name : undefined));
  listen(client);
  roomPage = { room: (name) => conversations.get(`room:${name}`), current: () => current, me: () => me, renderMembers, moderation, composerNote };
  listenToRooms(client, roomPage);
  setUpSlowMode($('#slow-form'), client, roomPage);
  setUpComposer($('#composer'), $('#text'), { client, me: () => me, current: () => current, stopTyping: () => stopTyping(), renderMembers, note: composerNote });
  $('#login').hidden = true;
  $('#chat').hidden = false;
  $('#menu').hidden = false;
  $('#signed-in-as').textContent = user;
  client.connect().catch(() => undefined);
  for (const room of session.rooms) joinRoom(room, seen[room]);
  for (const peer of session.dms) conversation('dm', peer);
  save();
  show(rooms.length > 0 ? `room:${rooms[0]}` : conversations.keys().next().value);
}

/** Writes what a reload needs: the rooms and direct messages open now, and the last id seen in each room. */
function save() {
  if (session === undefined) return;
  const open = [...conversations.values()];
  session.rooms = open.filter((c) => c.kind === 'room').map((c) => c.name);
  session.dms = open.filter((c) => c.kind === 'dm').map((c) => c.name);
  session.seen = Object.fromEntries(session.rooms.map((room) => [room, client.lastId(room) ?? session.seen[room]]).filter(([, id]) => id !== undefined));
  saveSession(session);
}

// Leaving the page: the read marker waiting in the throttle goes now, or the next visit would
// put the "new messages" line above messages already read.
addEventListener('pagehide', () => reads?.flush());
document.addEventListener('visibilitychange', () => {
  if (!pageVisible() || current?.kind !== 'room') return;
  reads.mark(current.name);
  current.unread = 0;
  renderNav();
});

$('#sign-out').addEventListener('click', () => {
  clearSession();
  client?.close();
  location.replace(location.pathname); // without ?user=, which would sign in again
});

// ---- what the server tells us ----

function listen(c) {
  c.on('status', (s) => indicator.status(s));
  c.on('welcome', (w) => {
    me = w.user;
    lastNode = w.node;
    $('#signed-in-as').textContent = me; // with a token, the server names the user
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
    // The first join (after a reload: from the last id seen before it) says where the new messages start.
    if (conv.opening) conv.newLine = newMessagesLine(j, conv.since);
    else if (j.resumed) {
      const missed = j.history.length;
      const below = `${j.gap ? 'the last ' : ''}${missed} missed message${missed === 1 ? '' : 's'} below`;
      conv.note(`Reconnected to node ${c.node}: ${missed === 0 ? 'nothing missed' : below}`, 'ok');
      indicator.resumed(c.node, j.gap);
    }
    if (j.gap) conv.note('Some messages from while you were away are no longer kept and cannot be shown.', 'warn');
    for (const m of j.history) conv.add(m);
    for (const change of j.changes ?? []) conv.change(change);
    if (j.read !== undefined) conv.marker = j.read;
    if (j.unread !== undefined) setUnread(conv, j.unread);
    save();
    if (j.room === current?.name || current?.kind === 'dm') renderMembers();
  });
  c.on('message', (m) => {
    const conv = conversations.get(`room:${m.room}`);
    if (conv?.add(m) && conv !== current) bump(conv);
    else if (conv === current && pageVisible()) reads.mark(m.room);
    conv?.receipts?.render(conv.list, me);
    if (conv === current) typingLine.refresh();
    save();
  });
  c.on('typing', (t) => {
    if (current?.kind === 'room' && t.room === current.name) typingLine.refresh();
  });
  // This user's marker moved, here or in another tab or device: the badge follows the server's count.
  c.on('read', (r) => {
    const conv = conversations.get(`room:${r.room}`);
    if (conv === undefined) return;
    conv.marker = r.id;
    setUnread(conv, r.unread);
  });
  c.on('receipt', (r) => {
    const conv = conversations.get(`room:${r.room}`);
    if (conv !== undefined && (conv.receipts ??= new Receipts()).note(r.user, r.id)) conv.receipts.render(conv.list, me);
  });
  c.on('direct', (m) => {
    const peer = m.from === me ? m.to : m.from;
    const conv = conversation('dm', peer);
    if (m.from === peer) conv.peerOffline = false; // it had a connection a moment ago
    if (conv.add(m) && conv !== current) bump(conv);
    if (conv === current) renderMembers();
  });
  c.on('presence', (p) => {
    const conv = conversations.get(`room:${p.room}`);
    conv?.note(`${p.user} ${p.state === 'join' ? 'joined' : 'left'}`);
    // A direct message's peer is online while it is in one of my rooms.
    if (conv === current || current?.kind === 'dm') renderMembers();
  });
  c.on('error', (e) => (current ?? rooms()[0])?.note(`Error: ${e.message}${e.room ? ` (room ${e.room})` : ''}`, 'warn'));
}

// ---- what the user does ----

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
  save();
});

$('#leave').addEventListener('click', () => {
  if (current === undefined) return;
  const conv = current;
  if (conv.kind === 'room') client.leave(conv.name).catch(() => undefined);
  if (conv.kind === 'room') reads.forget(conv.name);
  conv.list.remove();
  conversations.delete(conv.key);
  current = undefined;
  const next = conversations.keys().next().value;
  renderNav();
  save();
  if (next !== undefined) show(next);
});

function joinRoom(room, since) {
  const conv = conversation('room', room);
  conv.removed = undefined; // joined again after a kick
  openRoom(client, conv, since);
}

// ---- screen ----

function conversation(kind, name) {
  const key = `${kind}:${name}`;
  let conv = conversations.get(key);
  if (conv === undefined) {
    const act = messageActions(client, name);
    conv = new Conversation({ kind, name, whoAmI: () => me, onLoadEarlier: (c) => loadEarlier(client, c), act, moderates: () => moderation.moderates(name) });
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
  stopTyping();
  current = conv;
  conv.list.hidden = false;
  // What came since the room was last read (no marker: all of it) starts below the one line.
  const after = conv.marker ?? '0-0';
  const unread = conv.kind === 'room' && conv.unread > 0;
  if (unread && conv.dividerAfter !== after) conv.divider(after, describeUnread(conv.unread));
  conv.unread = 0;
  if (conv.kind === 'room' && pageVisible()) reads.mark(conv.name);
  typingLine.show(conv.kind === 'room' ? conv.name : undefined);
  conv.scrollToEnd();
  if (unread) conv.revealDivider();
  $('#conv-title').textContent = conv.kind === 'room' ? `# ${conv.name}` : `@ ${conv.name}`;
  $('#leave').textContent = conv.kind === 'room' ? 'Leave' : 'Close';
  $('#text').placeholder = conv.kind === 'room' ? `Message #${conv.name}` : `Message ${conv.name}`;
  renderNav();
  renderMembers();
  toggleDrawer(false);
}

/** A room's badge from the server's count; the room in front of the user is read instead. */
function setUnread(conv, unread) {
  if (conv === current && pageVisible()) reads.mark(conv.name);
  else conv.unread = unread;
  renderNav();
}

function bump(conv) {
  conv.unread += 1;
  renderNav();
}

function renderNav() {
  renderConversations([...conversations.values()], current, show);
}

function renderMembers() {
  const openDm = (user) => { conversation('dm', user); show(`dm:${user}`); };
  renderPeople({ client, me, current, rooms: rooms(), openDm, moderates: (room) => moderation.moderates(room), moderated: (conv, action) => moderated(roomPage, conv, action) });
}
