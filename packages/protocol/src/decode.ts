import { ErrorCode } from './codes.js';
import type { ClientFrame } from './frames.js';
import { HISTORY_PAGE_MAX, MEMBERS_PAGE_MAX, MODERATION_SECONDS_MAX, REASON_MAX } from './frames.js';
import { isEmoji, isMessageId, isMid, isValidName } from './names.js';

export interface DecodeLimits {
  /** Longest `text`, in characters (UTF-16 code units, as JavaScript counts them). */
  maxTextChars: number;
}

export interface DecodeError {
  code: ErrorCode;
  message: string;
  ref?: string;
}

export type Decoded = { ok: true; frame: ClientFrame } | { ok: false; error: DecodeError };

type Fields = Record<string, unknown>;

/**
 * Decodes one untrusted client frame. Never throws: every failure is a value carrying the
 * error code the contract names, and the client's `ref` when one could be read.
 */
export function decodeClientFrame(raw: string, limits: DecodeLimits): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail(ErrorCode.BadRequest, 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(ErrorCode.BadRequest, 'frame must be a JSON object');
  }
  const f = value as Fields;
  let ref: string | undefined;
  if (f.ref !== undefined) {
    if (typeof f.ref !== 'string') return fail(ErrorCode.BadRequest, 'ref must be a string');
    ref = f.ref;
  }
  if (typeof f.type !== 'string') return fail(ErrorCode.BadRequest, 'frame needs a string field "type"', ref);

  const result = decodeByType(f, f.type, limits);
  if (typeof result === 'object' && 'code' in result) return { ok: false, error: withRef(result, ref) };
  if (ref !== undefined) result.ref = ref;
  return { ok: true, frame: result };
}

function decodeByType(f: Fields, type: string, limits: DecodeLimits): ClientFrame | DecodeError {
  switch (type) {
    case 'join': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      if (f.since === undefined) return { type, room };
      if (!isMessageId(f.since)) return err(ErrorCode.BadRequest, 'since must be a message id like "1700000000000-0" (both parts below 2^64)');
      return { type, room, since: f.since };
    }
    case 'leave': {
      const room = roomField(f);
      return typeof room === 'string' ? { type, room } : room;
    }
    case 'send': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      const text = textField(f, limits);
      if (typeof text !== 'string') return text;
      const mid = midField(f);
      if (typeof mid === 'object') return mid;
      return mid === undefined ? { type, room, text } : { type, room, text, mid };
    }
    case 'direct': {
      if (!isValidName(f.to)) return err(ErrorCode.BadRequest, 'to must be a user name matching ^[A-Za-z0-9_.-]{1,64}$');
      const text = textField(f, limits);
      if (typeof text !== 'string') return text;
      const mid = midField(f);
      if (typeof mid === 'object') return mid;
      return mid === undefined ? { type, to: f.to, text } : { type, to: f.to, text, mid };
    }
    case 'history': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      const frame: ClientFrame = { type, room };
      if (f.before !== undefined) {
        if (!isMessageId(f.before)) return err(ErrorCode.BadRequest, 'before must be a message id like "1700000000000-0" (both parts below 2^64)');
        frame.before = f.before;
      }
      if (f.limit !== undefined) {
        if (typeof f.limit !== 'number' || !Number.isInteger(f.limit) || f.limit < 1) {
          return err(ErrorCode.BadRequest, 'limit must be a positive integer');
        }
        frame.limit = Math.min(f.limit, HISTORY_PAGE_MAX);
      }
      return frame;
    }
    case 'ping':
      return { type };
    case 'typing': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      if (f.state === undefined) return { type, room };
      if (f.state !== 'stop') return err(ErrorCode.BadRequest, 'state must be "stop" when present');
      return { type, room, state: f.state };
    }
    case 'read': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      if (!isMessageId(f.id)) return err(ErrorCode.BadRequest, 'id must be a message id like "1700000000000-0" (both parts below 2^64)');
      return { type, room, id: f.id };
    }
    case 'edit': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      const id = targetField(f);
      if (typeof id !== 'string') return id;
      const text = textField(f, limits);
      if (typeof text !== 'string') return text;
      const mid = midField(f);
      if (typeof mid === 'object') return mid;
      return mid === undefined ? { type, room, id, text } : { type, room, id, text, mid };
    }
    case 'delete': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      const id = targetField(f);
      if (typeof id !== 'string') return id;
      const mid = midField(f);
      if (typeof mid === 'object') return mid;
      return mid === undefined ? { type, room, id } : { type, room, id, mid };
    }
    case 'react': {
      const room = roomField(f);
      if (typeof room !== 'string') return room;
      const id = targetField(f);
      if (typeof id !== 'string') return id;
      if (!isEmoji(f.emoji)) {
        return err(ErrorCode.BadRequest, 'emoji must be an emoji (1 to 32 code points) or a name matching ^[a-z0-9_+-]{1,32}$');
      }
      if (f.on !== undefined && typeof f.on !== 'boolean') return err(ErrorCode.BadRequest, 'on must be true or false');
      const mid = midField(f);
      if (typeof mid === 'object') return mid;
      const frame: ClientFrame = { type, room, id, emoji: f.emoji, on: f.on !== false };
      if (mid !== undefined) frame.mid = mid;
      return frame;
    }
    case 'kick': case 'ban': case 'unban': case 'mute': case 'unmute': case 'slowmode': case 'members':
      return decodeModeration(f, type);
    default:
      return err(ErrorCode.UnknownType, `unknown frame type "${type.slice(0, 64)}"`);
  }
}

// ---- moderation and large rooms ----

function decodeModeration(f: Fields, type: 'kick' | 'ban' | 'unban' | 'mute' | 'unmute' | 'slowmode' | 'members'): ClientFrame | DecodeError {
  const room = roomField(f);
  if (typeof room !== 'string') return room;
  if (type === 'slowmode') {
    const seconds = secondsField(f.seconds, 0);
    if (seconds === undefined) return err(ErrorCode.BadRequest, `seconds must be an integer from 0 to ${MODERATION_SECONDS_MAX}`);
    return typeof seconds === 'object' ? seconds : { type, room, seconds };
  }
  if (type === 'members') {
    const frame: ClientFrame = { type, room };
    if (f.after !== undefined) {
      if (!isValidName(f.after)) return err(ErrorCode.BadRequest, 'after must be a user name matching ^[A-Za-z0-9_.-]{1,64}$');
      frame.after = f.after;
    }
    if (f.limit !== undefined) {
      if (typeof f.limit !== 'number' || !Number.isInteger(f.limit) || f.limit < 1) return err(ErrorCode.BadRequest, 'limit must be a positive integer');
      frame.limit = Math.min(f.limit, MEMBERS_PAGE_MAX);
    }
    return frame;
  }
  if (!isValidName(f.user)) return err(ErrorCode.BadRequest, 'user must be a name matching ^[A-Za-z0-9_.-]{1,64}$');
  const user = f.user;
  if (type === 'kick' || type === 'unban' || type === 'unmute') return { type, room, user };
  const seconds = secondsField(f.seconds, 1);
  if (typeof seconds === 'object') return seconds;
  if (type === 'mute') return seconds === undefined ? { type, room, user } : { type, room, user, seconds };
  const frame: ClientFrame = seconds === undefined ? { type, room, user } : { type, room, user, seconds };
  if (f.reason !== undefined) {
    if (typeof f.reason !== 'string' || f.reason.length > REASON_MAX) return err(ErrorCode.BadRequest, `reason must be a string of at most ${REASON_MAX} characters`);
    frame.reason = f.reason;
  }
  return frame;
}

/** An optional whole number of seconds from `min` to MODERATION_SECONDS_MAX. */
function secondsField(value: unknown, min: number): number | undefined | DecodeError {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MODERATION_SECONDS_MAX) {
    return err(ErrorCode.BadRequest, `seconds must be an integer from ${min} to ${MODERATION_SECONDS_MAX}`);
  }
  return value;
}

function roomField(f: Fields): string | DecodeError {
  if (isValidName(f.room)) return f.room;
  return err(ErrorCode.BadRequest, 'room must be a name matching ^[A-Za-z0-9_.-]{1,64}$');
}

function targetField(f: Fields): string | DecodeError {
  if (isMessageId(f.id)) return f.id;
  return err(ErrorCode.BadRequest, 'id must be a message id like "1700000000000-0" (both parts below 2^64)');
}

function midField(f: Fields): string | undefined | DecodeError {
  if (f.mid === undefined) return undefined;
  if (isMid(f.mid)) return f.mid;
  return err(ErrorCode.BadRequest, 'mid must match ^[A-Za-z0-9_.:-]{1,64}$');
}

function textField(f: Fields, limits: DecodeLimits): string | DecodeError {
  if (typeof f.text !== 'string') return err(ErrorCode.BadRequest, 'text must be a string');
  if (f.text.length > limits.maxTextChars) {
    return err(ErrorCode.TooLarge, `text is longer than ${limits.maxTextChars} characters`);
  }
  return f.text;
}

function err(code: ErrorCode, message: string): DecodeError {
  return { code, message };
}

function fail(code: ErrorCode, message: string, ref?: string): Decoded {
  return { ok: false, error: withRef({ code, message }, ref) };
}

function withRef(error: DecodeError, ref: string | undefined): DecodeError {
  return ref === undefined ? error : { ...error, ref };
}
