import type { ChatMessage, ModerationEvent, PresenceState, ReactionSummary, ServerFrame, Tombstone, Via } from './frames.js';

/**
 * Server frames as JSON text: the one place their wire form is written. A frame built from typed
 * values goes through encodeFrame. The hot paths take pieces that are JSON already (a message's
 * stored body, the events of a history page) and splice them in, so a message is serialized once
 * when it is stored and never parsed again on its way to thousands of sockets.
 */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/** What a room message carries besides its type, room and id: stored once, as JSON, with the message. */
export interface MessageBody {
  from: string;
  text: string;
  ts: number;
  via?: Via;
}

/** A message's body as stored: `{"from","text","ts"[,"via"]}`. */
export function encodeMessageBody(body: MessageBody): string {
  const fields: MessageBody = { from: body.from, text: body.text, ts: body.ts };
  if (body.via !== undefined) fields.via = body.via;
  return JSON.stringify(fields);
}

/** A change to message `target` by `user`, stored in the room's stream like a message (see encodeChangeBody). */
export type MessageChange =
  | { kind: 'edit'; target: string; text: string }
  | { kind: 'delete'; target: string }
  | { kind: 'reaction'; target: string; emoji: string; on: boolean };

/**
 * A change's body as stored: the `edit`, `delete` or `reaction` event but its room and id, with its
 * type first (`{"type":"edit","target",...}`), which is how a reader tells it from a message's body.
 */
export function encodeChangeBody(change: MessageChange, user: string, ts: number): string {
  switch (change.kind) {
    case 'edit': return JSON.stringify({ type: 'edit', target: change.target, from: user, text: change.text, ts });
    case 'delete': return JSON.stringify({ type: 'delete', target: change.target, from: user, ts });
    case 'reaction': return JSON.stringify({ type: 'reaction', target: change.target, user, emoji: change.emoji, on: change.on, ts });
  }
}

const TYPED_BODY = '{"type":"';

/** True when a stored body is a change (edit, delete, reaction) rather than a message. */
export function isChangeBody(body: string): boolean {
  return body.startsWith(TYPED_BODY);
}

/**
 * The event a stored body stands for, without parsing the body: the `message` event, or the change
 * event whose type the body starts with; the room and id are spliced in after the type.
 */
export function messageJson(room: string, id: string, body: string): string {
  const place = `"room":${JSON.stringify(room)},"id":${JSON.stringify(id)}`;
  if (!isChangeBody(body)) return `{"type":"message",${place},${body.slice(1)}`;
  const typeEnd = body.indexOf('"', TYPED_BODY.length) + 1;
  return `${body.slice(0, typeEnd)},${place}${body.slice(typeEnd)}`;
}

/**
 * What the changes stored so far made of one message: its text as last edited and when, whether it
 * is deleted, and who reacted with what (emoji -> users, none empty). Kept beside the stream.
 */
export interface MessageState {
  /** Id of the newest change this state includes: a client applies only changes with a greater id. */
  rev: string;
  text?: string;
  edited?: number;
  deleted?: boolean;
  reactions?: Record<string, string[]>;
}

/**
 * A `message` event (JSON text) in its latest state as `viewer` sees it (`me` of each reaction);
 * `viewer` '' for nobody in particular (the HTTP API). A tombstone keeps type, room, id, from and ts.
 */
export function latestMessageJson(event: string, state: MessageState, viewer: string): string {
  const message = JSON.parse(event) as ChatMessage;
  if (state.deleted === true) {
    const tombstone: Tombstone = { type: 'message', room: message.room, id: message.id, from: message.from, deleted: true, ts: message.ts, rev: state.rev };
    return JSON.stringify(tombstone);
  }
  message.rev = state.rev;
  if (state.text !== undefined) message.text = state.text;
  if (state.edited !== undefined) message.edited = state.edited;
  const reactions = Object.entries(state.reactions ?? {}).filter(([, users]) => users.length > 0);
  if (reactions.length > 0) {
    message.reactions = Object.fromEntries(reactions.map(([emoji, users]): [string, ReactionSummary] => [emoji, { count: users.length, me: users.includes(viewer) }]));
  }
  return encodeFrame(message);
}

/** Where a user's read marker of a room stands: the message id (null: none yet) and how many messages follow it. */
export interface ReadPosition {
  id: string | null;
  unread: number;
}

/**
 * The `joined` frame; `history` holds `message` events as JSON text, oldest first. `read` is the
 * joining user's position, in every reply to a `join` (not in the unsolicited one of a gap).
 */
export function joinedJson(room: string, members: readonly string[], history: readonly string[], gap: boolean, ref?: string, read?: ReadPosition, count?: number): string {
  const position = read === undefined ? '' : `,"read":${JSON.stringify(read.id)},"unread":${read.unread}`;
  const large = count === undefined ? '' : `,"count":${count}`;
  return `{"type":"joined","room":${JSON.stringify(room)},"members":${JSON.stringify(members)}${large},"history":[${history.join(',')}],"gap":${gap}${position}${refField(ref)}}`;
}

/** The `history` reply; `messages` holds `message` events as JSON text, oldest first. */
export function historyJson(room: string, messages: readonly string[], ref?: string): string {
  return `{"type":"history","room":${JSON.stringify(room)},"messages":[${messages.join(',')}]${refField(ref)}}`;
}

export function typingJson(room: string, user: string, ttlMs: number): string {
  return encodeFrame({ type: 'typing', room, user, ttl: ttlMs });
}

/** The `read` frame: the reply to a `read` (with its ref), and what the user's other connections get (without). */
export function readJson(room: string, read: ReadPosition, ref?: string): string {
  return encodeFrame(ref === undefined ? { type: 'read', room, ...read } : { type: 'read', room, ...read, ref });
}

export function receiptJson(room: string, user: string, id: string): string {
  return encodeFrame({ type: 'receipt', room, user, id });
}

export function presenceJson(room: string, user: string, state: PresenceState): string {
  return encodeFrame({ type: 'presence', room, user, state });
}

// ---- moderation and large rooms ----

export function moderationJson(event: Omit<ModerationEvent, 'type'>): string {
  return encodeFrame({ type: 'moderation', ...event });
}

/** The count-only presence of a large room. */
export function presenceCountJson(room: string, count: number): string {
  return encodeFrame({ type: 'presence', room, count });
}

/** True for a `moderation` frame as moderationJson writes it: a node drops its cached rules of the room on it. */
export function isModerationJson(json: string): boolean {
  return json.startsWith('{"type":"moderation"');
}

function refField(ref: string | undefined): string {
  return ref === undefined ? '' : `,"ref":${JSON.stringify(ref)}`;
}
