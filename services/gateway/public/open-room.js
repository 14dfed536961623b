// Opening a room on the page: the first join, what came before as context after a reload, and
// the one line where the new messages start.
import { describeNew } from './read-marks.js';

/** Messages per page of scroll-back. */
const PAGE = 50;

/**
 * Joins the room of `conv`; with `since` (kept from before a reload) it resumes there and shows
 * what came before as context. The `joined` event handler sets `conv.newLine` meanwhile (it sees
 * `conv.opening`), from the read marker the server gives with the join.
 */
export function openRoom(client, conv, since) {
  conv.opening = true;
  conv.since = since;
  client.join(conv.name, since === undefined ? {} : { since }).then(
    async (j) => {
      if (since !== undefined) await loadEarlier(client, conv);
      // Empty when joined: every message shown from now on is the room's, from its first.
      else if (!j.resumed && j.history.length === 0 && conv.ids.size === 0) {
        conv.empty('No messages yet.');
        conv.reachedStart();
      }
      // A first visit shows no line with nothing new; a return says so.
      const line = conv.newLine;
      if (line !== undefined && (line.count > 0 || since !== undefined)) conv.divider(line.after, describeNew(line.count));
      conv.scrollToEnd();
      conv.revealDivider();
    },
    (error) => conv.note(`Could not join ${conv.name}: ${error.message}`, 'warn'),
  ).finally(() => (conv.opening = false));
}

/** The page of messages before the oldest one shown. */
export async function loadEarlier(client, conv) {
  if (conv.exhausted) return;
  try {
    const older = await client.history(conv.name, conv.oldest === undefined ? { limit: PAGE } : { before: conv.oldest, limit: PAGE });
    conv.addEarlier(older);
    if (older.length < PAGE) conv.reachedStart();
  } catch (error) {
    conv.note(`Could not load earlier messages: ${error.message}`, 'warn');
  }
}
