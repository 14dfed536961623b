import { ErrorCode, type DeleteFrame, type EditFrame, type MessageChange, type ReactFrame } from '@chat/protocol';
import type { ChangeRefusal } from '@chat/cluster';
import { nowMs } from '@chat/runtime';
import type { Core } from './core.js';
import { ack, userKey } from './message-handlers.js';
import type { Session } from './session.js';

/**
 * Edits, deletes and reactions: each a change to a stored message, stored in the room's stream as an
 * event of its own, so it reaches members live in the room's one order and a resume with `since`
 * replays it. The bus checks the change against the message in the same atomic step (author or
 * moderator, not deleted, MAX_REACTIONS); the ack carries the change's own id.
 */
export function edit(gw: Core, s: Session, f: EditFrame): Promise<void> {
  return change(gw, s, f, { kind: 'edit', target: f.id, text: f.text });
}

export function remove(gw: Core, s: Session, f: DeleteFrame): Promise<void> {
  return change(gw, s, f, { kind: 'delete', target: f.id });
}

/** Anyone in the room may react. A reaction already as asked stores nothing: acked `unchanged`. */
export function react(gw: Core, s: Session, f: ReactFrame): Promise<void> {
  return change(gw, s, f, { kind: 'reaction', target: f.id, emoji: f.emoji, on: f.on });
}

async function change(gw: Core, s: Session, f: EditFrame | DeleteFrame | ReactFrame, change: MessageChange): Promise<void> {
  if (!s.rooms.has(f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before changing its messages` }, f.ref);
    return;
  }
  // Only an edit or a delete of another user's message needs the right; reactions are anyone's.
  const moderator = change.kind !== 'reaction' && (await gw.moderation.mayModerate(s, f.room));
  const receivedAt = nowMs();
  const published = await gw.bus.publish({
    room: f.room,
    from: s.user,
    change,
    moderator,
    maxReactions: gw.config.maxReactions,
    ts: Math.floor(receivedAt),
    receivedAt,
    ...(f.mid === undefined ? {} : { idempotencyKey: userKey(s.user, f.mid) }),
  });
  gw.metrics.busPublish((nowMs() - receivedAt) / 1000);
  if (published.refused !== undefined) {
    gw.reply(s, { type: 'error', ...refusal(published.refused, f, gw.config.maxReactions) }, f.ref);
    return;
  }
  if (published.duplicate) gw.metrics.duplicate();
  else if (published.unchanged !== true) gw.metrics.changed(change.kind);
  gw.reply(s, published.unchanged === true ? { type: 'ack', id: published.id, unchanged: true } : ack(published.id, published.duplicate), f.ref);
}

function refusal(why: ChangeRefusal, f: EditFrame | DeleteFrame | ReactFrame, maxReactions: number): { code: ErrorCode; message: string } {
  switch (why) {
    case 'not_found': return { code: ErrorCode.NotFound, message: `${f.room} holds no message ${f.id} (never sent, trimmed from history, or deleted)` };
    case 'forbidden': return { code: ErrorCode.Forbidden, message: `only the author of ${f.id} may ${f.type} it` };
    case 'too_many_reactions': return { code: ErrorCode.TooManyReactions, message: `${f.id} has ${maxReactions} different reactions already; add to one of them` };
  }
}
