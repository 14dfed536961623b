import { ErrorCode, moderationJson, type MembersFrame, type ModerationEvent, type ModerationFrame } from '@chat/protocol';
import type { Core } from './core.js';
import type { Session } from './session.js';

/** A moderation frame from a client: only a moderator of the room (see Moderation.mayModerate) may send one. */
export async function moderate(gw: Core, s: Session, f: ModerationFrame): Promise<void> {
  if (!(await gw.moderation.mayModerate(s, f.room))) {
    gw.reply(s, { type: 'error', code: ErrorCode.Forbidden, message: `you do not moderate ${f.room}` }, f.ref);
    return;
  }
  await applyModeration(gw, f, s.user);
  gw.reply(s, f.type === 'slowmode' ? { type: 'moderated', room: f.room, action: f.type } : { type: 'moderated', room: f.room, action: f.type, user: f.user }, f.ref);
}

/**
 * The one path of a moderation action, for clients and the admin API: the state is stored first (so
 * every node's next check sees it), then the room's members on every node get a `moderation` event
 * (which also drops each node's cached rules), then a kicked or banned user's connections everywhere
 * leave the room. `by` is the moderator's name ('api' for the admin API). Rejects with BusUnavailableError.
 */
export async function applyModeration(gw: Core, f: ModerationFrame, by: string): Promise<void> {
  const event: Omit<ModerationEvent, 'type'> = { room: f.room, action: f.type, by };
  switch (f.type) {
    case 'ban':
      await gw.moderation.store.restrict(f.room, 'bans', f.user, untilOf(f.seconds), f.reason ?? '');
      break;
    case 'mute':
      await gw.moderation.store.restrict(f.room, 'mutes', f.user, untilOf(f.seconds), '');
      break;
    case 'unban':
      await gw.moderation.store.lift(f.room, 'bans', f.user);
      break;
    case 'unmute':
      await gw.moderation.store.lift(f.room, 'mutes', f.user);
      break;
    case 'slowmode':
      await gw.moderation.store.setSlowMode(f.room, f.seconds);
      event.seconds = f.seconds;
      break;
    case 'kick':
      break;
  }
  if (f.type !== 'slowmode') event.user = f.user;
  if ((f.type === 'ban' || f.type === 'mute') && f.seconds !== undefined) event.seconds = f.seconds;
  gw.moderation.invalidate(f.room);
  await gw.bus.signal(f.room, moderationJson(event));
  if (f.type === 'kick' || f.type === 'ban') await gw.bus.evict(f.room, f.user, f.type === 'kick' ? 'kicked' : 'banned');
  gw.metrics.moderation(f.type);
  gw.log.info('moderation', { room: f.room, action: f.type, user: event.user, by });
}

/** A page of a room's members, sorted by name: how a large room's membership is read. Members only. */
export async function members(gw: Core, s: Session, f: MembersFrame): Promise<void> {
  if (!s.rooms.has(f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before listing its members` }, f.ref);
    return;
  }
  const page = await gw.roomSizes.page(f.room, f.after, f.limit);
  gw.reply(s, page.next === undefined ? { type: 'members', room: f.room, members: page.members } : { type: 'members', room: f.room, members: page.members, next: page.next }, f.ref);
}

function untilOf(seconds: number | undefined): number {
  return seconds === undefined ? 0 : Date.now() + seconds * 1000;
}
