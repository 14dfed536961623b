// What the server says about a room beyond its messages: edits, deletes and reactions (applied to
// the message shown), moderation (a system line; a kick or ban of this user takes the room away),
// a large room's member count, and a send held back by slow mode.
import { describeModeration } from './moderation.js';

/**
 * `page` gives `room(name)` (the conversation of a room, if open), `current()`, `me()`,
 * `renderMembers()`, the `moderation` knowledge and the `composerNote`.
 */
export function listenToRooms(client, page) {
  for (const kind of ['edit', 'delete', 'reaction']) client.on(kind, (c) => page.room(c.room)?.change(c));
  client.on('moderation', (e) => {
    const conv = page.room(e.room);
    conv?.note(describeModeration(e), e.user === page.me() ? 'warn' : 'info');
    if (conv === page.current()) page.renderMembers();
  });
  client.on('left', (l) => {
    if (l.reason === undefined) return;
    const conv = page.room(l.room);
    // Kept on screen with the reason; the composer refuses to post to it until it is joined again.
    if (conv !== undefined) conv.removed = l.reason;
    page.room(l.room)?.note(`You were ${l.reason === 'banned' ? 'banned from' : 'removed from'} #${l.room} by a moderator (${l.reason}). You are no longer in this room.`, 'warn');
    if (page.room(l.room) === page.current()) page.renderMembers();
  });
  client.on('presenceCount', (p) => {
    if (page.room(p.room) === page.current()) page.renderMembers();
  });
  client.on('held', (held) => {
    if (held.code === 'slow_mode' && held.room !== undefined) page.composerNote.slowMode(held.room, held.delayMs);
  });
}

/** Edits, deletes and reactions of the page's messages in `room`, on the client (message-item.js calls them). */
export function messageActions(client, room) {
  return {
    edit: (m, text) => client.edit(room, m.id, text),
    remove: (m) => client.remove(room, m.id),
    react: (m, emoji, on) => client.react(room, m.id, emoji, on),
  };
}

/** The slow-mode setting of the room shown; anyone may try it, and the server says who moderates. */
export function setUpSlowMode(form, client, page) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const conv = page.current();
    if (conv?.kind === 'room') moderated(page, conv, client.slowMode(conv.name, Number(form.seconds.value)));
  });
}

/** A moderation action's outcome in `conv`: a refusal is noted; a success teaches the page that this user moderates the room. */
export function moderated(page, conv, action) {
  action.then(() => {
    if (!page.moderation.learned(conv.name)) return;
    conv.redrawAll();
    page.renderMembers();
  }, (error) => conv.note(`Not done: ${error.code === 'forbidden' ? 'you do not moderate this room' : error.message}`, 'warn'));
}
