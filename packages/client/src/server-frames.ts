import { isMessageId, type ChangeEvent, type ChatMessage, type RoomItem, type ServerFrame, type Tombstone } from '@chat/protocol';

type Fields = Record<string, unknown>;

/**
 * Decodes one frame from the server, once, at the edge. Returns undefined for anything that is
 * not a well-formed frame of a known type: a newer server may add types, and the SDK ignores them
 * (docs/protocol.md#connect: unknown extra fields are ignored too, so they are kept but never read).
 */
export function decodeServerFrame(data: unknown): ServerFrame | undefined {
  if (typeof data !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isObject(value) || typeof value.type !== 'string') return undefined;
  if (value.ref !== undefined && typeof value.ref !== 'string') return undefined;
  return isWellFormed(value) ? (value as unknown as ServerFrame) : undefined;
}

function isWellFormed(f: Fields): boolean {
  switch (f.type) {
    case 'welcome':
      return str(f.user) && str(f.conn) && str(f.node) && num(f.heartbeat);
    case 'joined':
      return str(f.room) && Array.isArray(f.members) && f.members.every(str) &&
        isItemList(f.history) && typeof f.gap === 'boolean' && (f.count === undefined || num(f.count)) &&
        (f.unread === undefined || (num(f.unread) && (f.read === null || isMessageId(f.read))));
    case 'left':
      return str(f.room) && (f.reason === undefined || f.reason === 'kicked' || f.reason === 'banned');
    case 'ack':
      return str(f.id);
    case 'history':
      return str(f.room) && isItemList(f.messages);
    case 'pong':
      return num(f.ts);
    case 'error':
      return str(f.code) && str(f.message) && (f.retryAfterMs === undefined || num(f.retryAfterMs));
    case 'message':
    case 'edit':
    case 'delete':
    case 'reaction':
      return isRoomItem(f);
    case 'direct':
      return str(f.id) && str(f.from) && str(f.to) && str(f.text) && num(f.ts) && viaOk(f.via);
    case 'presence':
      // Per user, or in a large room a count (see PresenceCountEvent).
      return str(f.room) && (num(f.count) ? f.user === undefined : str(f.user) && (f.state === 'join' || f.state === 'leave'));
    case 'typing':
      return str(f.room) && str(f.user) && num(f.ttl);
    case 'read':
      return str(f.room) && (f.id === null || isMessageId(f.id)) && num(f.unread);
    case 'receipt':
      return str(f.room) && str(f.user) && isMessageId(f.id);
    // ---- moderation and large rooms ----
    case 'moderated':
      return str(f.room) && isAction(f.action) && (f.user === undefined || str(f.user));
    case 'moderation':
      return str(f.room) && isAction(f.action) && str(f.by) && (f.user === undefined || str(f.user)) && (f.seconds === undefined || num(f.seconds));
    case 'members':
      return str(f.room) && Array.isArray(f.members) && f.members.every(str) && (f.next === undefined || str(f.next));
    default:
      return false;
  }
}

const ACTIONS: ReadonlySet<unknown> = new Set(['kick', 'ban', 'unban', 'mute', 'unmute', 'slowmode']);

function isAction(value: unknown): boolean {
  return ACTIONS.has(value);
}

/**
 * docs/protocol.md#connect lists history entries as `message...` without saying whether each repeats
 * `type`, so both forms are accepted; asMessage() fills it in.
 */
function isItemList(value: unknown): value is RoomItem[] {
  return Array.isArray(value) && value.every((m) => isObject(m) && isRoomItem({ type: 'message', ...m }));
}

/**
 * A room message, or a change to one: its id is a stream id (`<ms>-<seq>`), by which the SDK orders
 * and resumes. A message has text unless it is a tombstone (`deleted`).
 */
function isRoomItem(f: Fields): boolean {
  if (!str(f.room) || !isMessageId(f.id) || !num(f.ts)) return false;
  switch (f.type) {
    case 'message':
      return str(f.from) && (f.deleted === true || str(f.text)) && viaOk(f.via);
    case 'edit':
      return isMessageId(f.target) && str(f.from) && str(f.text);
    case 'delete':
      return isMessageId(f.target) && str(f.from);
    case 'reaction':
      return isMessageId(f.target) && str(f.user) && str(f.emoji) && typeof f.on === 'boolean';
    default:
      return false;
  }
}

function viaOk(via: unknown): boolean {
  return via === undefined || via === 'mqtt' || via === 'api';
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): value is string {
  return typeof value === 'string';
}

function num(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Normalises an item of a `joined` list to a full event: one without a type is a message (see isItemList). */
export function asItem(item: RoomItem): ChatMessage | ChangeEvent {
  return item.type === undefined || item.type === 'message' ? asMessage(item as ChatMessage | Tombstone) : item;
}

/** Normalises a message of a `joined` or `history` list: its type filled in, and a tombstone given text '' (every ChatMessage has a text). */
export function asMessage(m: ChatMessage | Tombstone): ChatMessage {
  const message = { ...m, type: 'message' as const };
  return 'text' in message ? message : { ...message, text: '' };
}
