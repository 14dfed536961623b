// What the chat page remembers across a reload, so that a reload (or a phone killing the tab) comes
// back where it was: the user name, the joined rooms, the open direct messages, and per room the id
// of the last message seen, from which the rejoin resumes (`since`): nothing missed, nothing twice.
// Kept in localStorage; a sign-in token only in sessionStorage (this tab), as it is a credential.
import { isName } from './dom.js';

const SESSION = 'chat.session';
const TOKEN = 'chat.token';
const name = (value) => typeof value === 'string' && isName(value);
const id = (value) => typeof value === 'string' && /^\d{1,20}-\d{1,20}$/.test(value);

/** `{ user, rooms, dms, seen: { room: id }, withToken }`, or undefined when nothing (valid) is kept. */
export function loadSession() {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION) ?? 'null');
    if (!name(saved?.user) || !Array.isArray(saved.rooms) || !Array.isArray(saved.dms)) return undefined;
    const seen = Object.entries(saved.seen ?? {}).filter(([room, last]) => name(room) && id(last));
    return { user: saved.user, rooms: saved.rooms.filter(name), dms: saved.dms.filter(name), seen: Object.fromEntries(seen), withToken: saved.withToken === true };
  } catch {
    return undefined; // written by another version of the page, or by hand: start afresh
  }
}

export function saveSession(session) {
  localStorage.setItem(SESSION, JSON.stringify(session));
}

export function loadToken() {
  return sessionStorage.getItem(TOKEN) ?? '';
}

export function saveToken(token) {
  if (token === '') sessionStorage.removeItem(TOKEN);
  else sessionStorage.setItem(TOKEN, token);
}

/** Signing out forgets everything the page kept. */
export function clearSession() {
  localStorage.removeItem(SESSION);
  sessionStorage.removeItem(TOKEN);
}
