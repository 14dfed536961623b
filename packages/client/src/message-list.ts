import { compareIds, type ChangeEvent, type ChatMessage, type ReactionSummary } from '@chat/protocol';

/**
 * Applies an edit, delete or reaction to the application's list of a room's messages, so that it
 * shows each message in its latest state, as the server's history would (a deleted one as the
 * SDK hands a tombstone: `deleted`, text ''). Returns a new list (with
 * a new object for the changed message), or the same list when there is nothing to do: the message
 * is not in the list, is deleted, or already shows this change (its `rev`, the newest change it
 * includes, is at or after the change's id). That makes applying a change twice, or one a history
 * page already included, harmless. `me` is this client's user, for the `me` of reactions.
 */
export function applyChange(messages: readonly ChatMessage[], change: ChangeEvent, me: string | undefined): ChatMessage[] {
  const at = messages.findIndex((m) => m.id === change.target && m.room === change.room);
  const message = messages[at];
  if (message === undefined || message.deleted === true) return messages as ChatMessage[];
  if (message.rev !== undefined && compareIds(change.id, message.rev) <= 0) return messages as ChatMessage[];
  const next = [...messages];
  next[at] = changed(message, change, me);
  return next;
}

function changed(message: ChatMessage, change: ChangeEvent, me: string | undefined): ChatMessage {
  switch (change.type) {
    case 'edit':
      return { ...message, text: change.text, edited: change.ts, rev: change.id };
    case 'delete':
      return { type: 'message', room: message.room, id: message.id, from: message.from, text: '', deleted: true, ts: message.ts, rev: change.id };
    case 'reaction': {
      const reactions: Record<string, ReactionSummary> = { ...message.reactions };
      const before = reactions[change.emoji] ?? { count: 0, me: false };
      const count = Math.max(0, before.count + (change.on ? 1 : -1));
      if (count === 0) delete reactions[change.emoji];
      else reactions[change.emoji] = { count, me: change.user === me ? change.on : before.me };
      const { reactions: _old, ...rest } = message;
      return Object.keys(reactions).length === 0 ? { ...rest, rev: change.id } : { ...rest, reactions, rev: change.id };
    }
  }
}
