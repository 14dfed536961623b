import type { ModerationEvent, PresenceState, ServerFrame, Via } from './frames.js';

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

/** The `message` event from a stored body (JSON text), without parsing the body. */
export function messageJson(room: string, id: string, body: string): string {
  return `{"type":"message","room":${JSON.stringify(room)},"id":${JSON.stringify(id)},${body.slice(1)}`;
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
