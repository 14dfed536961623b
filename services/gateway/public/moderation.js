// Room moderation on the page: which rooms this user is known to moderate, the system line of
// each moderation event, and the per-member Kick / Mute / Ban buttons.
import { h } from './dom.js';

/** How long a mute from the member list lasts. */
export const MUTE_SECONDS = 600;

/**
 * The page cannot ask whether it moderates a room; it knows it from the token's `mod` claim (room
 * names or `prefix*` patterns) and from any moderation action the server accepted. A moderator
 * granted through the admin API learns it by trying (the slow-mode setting, or an edit of another's message).
 */
export class Moderation {
  #patterns;
  #rooms = new Set();

  constructor(token) {
    this.#patterns = modClaim(token);
  }

  moderates(room) {
    return this.#rooms.has(room) || this.#patterns.some((p) => (p.endsWith('*') ? room.startsWith(p.slice(0, -1)) : p === room));
  }

  /** The server accepted a moderation action (or a change of another's message) in `room`; true when that is news. */
  learned(room) {
    if (this.moderates(room)) return false;
    this.#rooms.add(room);
    return true;
  }
}

/** The token's `mod` claim, read without verifying (the server does that); [] without one. */
function modClaim(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return Array.isArray(payload.mod) ? payload.mod.filter((p) => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

/** "bob was muted by alice for 10 min", "alice set slow mode: one message per 30 s". */
export function describeModeration(e) {
  const span = e.seconds === undefined ? '' : ` for ${duration(e.seconds)}`;
  switch (e.action) {
    case 'kick': return `${e.user} was kicked by ${e.by}`;
    case 'ban': return `${e.user} was banned by ${e.by}${span}`;
    case 'unban': return `${e.user} was unbanned by ${e.by}`;
    case 'mute': return `${e.user} was muted by ${e.by}${span}`;
    case 'unmute': return `${e.user} was unmuted by ${e.by}`;
    case 'slowmode': return e.seconds ? `${e.by} set slow mode: one message per ${duration(e.seconds)}` : `${e.by} turned slow mode off`;
    default: return `${e.by} moderated the room (${e.action})`;
  }
}

export function duration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** The Kick / Mute / Ban buttons of one member, each after a confirm; `done(promise)` reports the outcome. */
export function memberActions(client, room, user, done) {
  const act = (label, question, run) => h('button', { type: 'button', class: 'quiet mod', 'data-action': label.toLowerCase(),
    onclick: () => { if (confirm(question)) done(run()); } }, label);
  return h('span', { class: 'mod-actions' },
    act('Kick', `Remove ${user} from #${room}? They may join again.`, () => client.kick(room, user)),
    act('Mute', `Mute ${user} in #${room} for ${duration(MUTE_SECONDS)}?`, () => client.mute(room, user, { seconds: MUTE_SECONDS })),
    act('Ban', `Ban ${user} from #${room} until unbanned?`, () => client.ban(room, user)));
}
