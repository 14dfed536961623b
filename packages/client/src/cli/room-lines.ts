import type { ChangeEvent } from '@chat/protocol';
import type { ChatClient } from '../client.js';
import { formatModeration, formatReactions, formatSeconds } from './format.js';
import type { RecentMessages } from './recent.js';

/**
 * Prints what happens to a room besides its messages: an edit or delete of a message printed
 * before (by its #number), its reactions whenever they change, moderation, this user being kicked
 * or banned (then `removed(room)`), a large room's member count when it changes, and a send held
 * by slow mode. Changes to messages this terminal never printed are not shown: nothing names them.
 */
export function printRoomLines(client: ChatClient, recent: RecentMessages, print: (line: string) => void, removed: (room: string) => void): {
  change(c: ChangeEvent): void;
} {
  const counts = new Map<string, number>();
  const change = (c: ChangeEvent): void => {
    const kept = recent.apply(c, client.user);
    if (kept === undefined) return;
    const { n, message } = kept;
    if (c.type === 'edit') print(`* ${c.from} edited #${n} [${c.room}]: ${c.text}`);
    else if (c.type === 'delete') print(`* ${c.from} deleted #${n} [${c.room}]`);
    else print(`* #${n} [${c.room}] reactions: ${formatReactions(message.reactions ?? {})}`);
  };
  for (const kind of ['edit', 'delete', 'reaction'] as const) client.on(kind, change);
  client.on('moderation', (e) => print(formatModeration(e)));
  client.on('left', (l) => {
    if (l.reason === undefined) return;
    print(`* you were ${l.reason} from ${l.room} by a moderator; not in it any more`);
    removed(l.room);
  });
  client.on('presenceCount', (p) => {
    if (counts.get(p.room) === p.count) return;
    counts.set(p.room, p.count);
    print(`* ${p.room}: ${p.count} members`);
  });
  client.on('held', (h) => {
    if (h.code === 'slow_mode') print(`* slow mode in ${h.room ?? '?'}: your message goes in ${formatSeconds(Math.ceil(h.delayMs / 1000))}`);
  });
  return { change };
}
