/**
 * What crosses Redis, in one place: the body stored with a message, the payloads the scripts put on
 * a room's channel and a node's channel, and the fields of a stream entry. The Lua scripts in
 * redis-scripts.ts write the channel payloads; this file is their only reader.
 *
 * Room channel payloads (the first character says what follows):
 * - `m<prev> <id> <receivedAt> <body>`: a stored message or change to one (an edit, delete or
 *   reaction: its body starts with its type), with the id stored before it ('' for a log's first),
 *   the accepting gateway's receipt time, and the stored body (JSON);
 * - `u<state> <user>`: presence, state `join` or `leave` (the room is the channel's);
 * - `e<json>`: an ephemeral room event, a server frame as JSON text (Bus.signal);
 * - `x<user> <json>`: the same, not for the connections of `user` (the one it is about).
 * Anything else is ignored, so a newer node can add kinds without breaking an older one.
 */
import { encodeMessageBody, messageJson, presenceJson, type LeftReason, type PresenceState } from '@chat/protocol';
import type { DirectDraft, MessageDraft, RoomEvent } from './bus.js';

/** The JSON stored with a message: everything of its event but the type, the room and the id. */
export function storedBody(draft: MessageDraft): string {
  return encodeMessageBody(draft);
}

export function parseRoomPayload(room: string, payload: string): RoomEvent | undefined {
  if (payload[0] === 'e') return { kind: 'signal', room, json: payload.slice(1) };
  if (payload[0] === 'x') {
    const cut = payload.indexOf(' ');
    if (cut < 0) return undefined;
    return { kind: 'signal', room, json: payload.slice(cut + 1), exceptUser: payload.slice(1, cut) };
  }
  if (payload[0] === 'u') {
    const cut = payload.indexOf(' ');
    const state = payload.slice(1, cut);
    if (state !== 'join' && state !== 'leave') return undefined;
    return presenceEvent(room, payload.slice(cut + 1), state);
  }
  if (payload[0] !== 'm') return undefined;
  const a = payload.indexOf(' ');
  const b = payload.indexOf(' ', a + 1);
  const c = payload.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const id = payload.slice(a + 1, b);
  return {
    kind: 'message',
    prev: payload.slice(1, a),
    receivedAt: Number(payload.slice(b + 1, c)),
    message: { room, id, event: messageJson(room, id, payload.slice(c + 1)) },
  };
}

export function signalPayload(json: string, exceptUser?: string): string {
  return exceptUser === undefined ? `e${json}` : `x${exceptUser} ${json}`;
}

export function presenceEvent(room: string, user: string, state: PresenceState): RoomEvent {
  return { kind: 'presence', room, event: { type: 'presence', room, user, state }, json: presenceJson(room, user, state) };
}

/** A stream entry's fields are `p <prev> b <body> n <number>` (older entries lack `n`, the oldest `p` too: `b <body>`). */
export function entryBody(fields: readonly string[]): string {
  const at = fields[0] === 'b' ? 1 : fields.indexOf('b', 2) + 1;
  return (at > 0 ? fields[at] : undefined) ?? '{}';
}

/** What a node's channel carries for a direct: `<to> <from> <originConn> <receivedAt> <event>`, from '' when it is to. */
export function directPayload(draft: DirectDraft): string {
  const sender = draft.from === draft.to ? '' : draft.from;
  return `${draft.to} ${sender} ${draft.originConn} ${draft.receivedAt} ${draft.event}`;
}

/**
 * Control messages on a node's channel start with `!`, which no user name does:
 * `!d <user> <replyNode> <request>` asks a node to close the user's connections,
 * `!c <request> <count>` is its answer on the asking node's channel, and
 * `!s <user> <originConn> <json>` is a frame for the user's connections there but originConn (Bus.sync),
 * `!k <user> <room> <reason>` takes the user's connections there out of the room (Bus.evict).
 */
export type NodeControl =
  | { kind: 'disconnect'; user: string; replyNode: string; request: string }
  | { kind: 'closed'; request: string; count: number }
  | { kind: 'sync'; user: string; originConn: string; json: string }
  | { kind: 'evict'; user: string; room: string; reason: LeftReason };

export function evictPayload(user: string, room: string, reason: LeftReason): string {
  return `!k ${user} ${room} ${reason}`;
}

export function syncPayload(user: string, originConn: string, json: string): string {
  return `!s ${user} ${originConn} ${json}`;
}

export function disconnectPayload(user: string, replyNode: string, request: string): string {
  return `!d ${user} ${replyNode} ${request}`;
}

export function closedPayload(request: string, count: number): string {
  return `!c ${request} ${count}`;
}

/** A control message, or undefined when `payload` is a direct message (or unknown). */
export function parseNodeControl(payload: string): NodeControl | undefined {
  if (payload[0] !== '!') return undefined;
  if (payload.startsWith('!s ')) {
    const a = payload.indexOf(' ', 3);
    const b = payload.indexOf(' ', a + 1);
    if (a < 0 || b < 0) return undefined;
    return { kind: 'sync', user: payload.slice(3, a), originConn: payload.slice(a + 1, b), json: payload.slice(b + 1) };
  }
  const [tag, a, b, c] = payload.split(' ');
  if (tag === '!d' && a !== undefined && b !== undefined && c !== undefined) return { kind: 'disconnect', user: a, replyNode: b, request: c };
  if (tag === '!k' && a !== undefined && b !== undefined && (c === 'kicked' || c === 'banned')) return { kind: 'evict', user: a, room: b, reason: c };
  if (tag === '!c' && a !== undefined && b !== undefined) return { kind: 'closed', request: a, count: Number(b) || 0 };
  return undefined;
}

export interface DirectDelivery {
  /** The users this node should hand it to (when it holds them): the recipient and the sender ('' for none). */
  users: [to: string, from: string];
  originConn: string;
  receivedAt: number;
  event: string;
}

export function parseDirectPayload(payload: string): DirectDelivery {
  const a = payload.indexOf(' ');
  const b = payload.indexOf(' ', a + 1);
  const c = payload.indexOf(' ', b + 1);
  const d = payload.indexOf(' ', c + 1);
  return {
    users: [payload.slice(0, a), payload.slice(a + 1, b)],
    originConn: payload.slice(b + 1, c),
    receivedAt: Number(payload.slice(c + 1, d)),
    event: payload.slice(d + 1),
  };
}
