import { ErrorCode, MODERATION_SECONDS_MAX, REASON_MAX, isValidName, type ModerationFrame } from '@chat/protocol';
import type { Core } from './core.js';
import { failure, unavailableAs503, type ApiResponse, type ApiStep } from './api-answers.js';
import { applyModeration } from './moderation-handlers.js';

/**
 * The admin API of moderation (docs/openapi.yaml): bans, mutes, slow mode, kicks and granted
 * moderators of a room, under the same API key as every /api route (checked by the caller before
 * this runs). An action here is the moderation frame's, by `api`: members see it the same way.
 */
const ROUTE = /^\/api\/rooms\/([^/]+)\/(bans|mutes|moderators|slowmode|kick)(?:\/([^/]+))?$/;

/** Each route's methods, by what follows the room, `{user}` where a user name follows. */
const ROUTES: Record<string, readonly string[]> = {
  'bans': ['get'],
  'bans/{user}': ['put', 'delete'],
  'mutes': ['get'],
  'mutes/{user}': ['put', 'delete'],
  'moderators': ['get'],
  'moderators/{user}': ['put', 'delete'],
  'slowmode': ['put'],
  'kick/{user}': ['post'],
};

export const MODERATION_API_ROUTES: ReadonlyArray<{ method: string; path: string }> = Object.entries(ROUTES).flatMap(([route, methods]) =>
  methods.map((method) => ({ method: method.toUpperCase(), path: `/api/rooms/{room}/${route}` })));

/** The route's decision, or undefined when the path is not a moderation route. `authorized` is the API key check. */
export function routeModeration(gw: Core, method: string, path: string, authorized: boolean): ApiStep | undefined {
  const match = ROUTE.exec(path);
  if (match === null) return undefined;
  const [, room = '', what = '', user] = match;
  const now = (response: ApiResponse): ApiStep => ({ answer: Promise.resolve(response) });
  const methods = ROUTES[user === undefined ? what : `${what}/{user}`];
  if (methods === undefined) return now(failure(404, 'not_found', 'no such route'));
  if (!methods.includes(method)) return now(failure(405, 'method_not_allowed', `use ${methods.join(' or ').toUpperCase()}`));
  if (!authorized) return now(failure(401, 'unauthorized', 'Authorization: Bearer <API_KEY> is required'));
  if (!isValidName(room)) return now(failure(400, ErrorCode.BadRequest, 'room must match ^[A-Za-z0-9_.-]{1,64}$'));
  if (user !== undefined && !isValidName(user)) return now(failure(400, ErrorCode.BadRequest, 'user must match ^[A-Za-z0-9_.-]{1,64}$'));
  if (user === undefined) {
    if (what === 'slowmode') return { withBody: (body) => act(gw, body, (b) => ({ type: 'slowmode', room, seconds: b.seconds ?? -1 })) };
    if (what === 'moderators') return { answer: read(async () => ({ room, moderators: [...(await gw.moderation.store.rules(room)).moderators].sort() })) };
    const kind = what === 'bans' ? 'bans' : 'mutes';
    return { answer: read(async () => ({ room, [kind]: await gw.moderation.store.list(room, kind) })) };
  }
  if (what === 'moderators') return { answer: read(async () => ({ room, user, changed: await gw.moderation.store.setModerator(room, user, method === 'put') })) };
  if (what === 'kick') return { answer: act(gw, '{}', () => ({ type: 'kick', room, user })) };
  const lifting = method === 'delete';
  if (what === 'bans') {
    if (lifting) return { answer: act(gw, '{}', () => ({ type: 'unban', room, user })) };
    return { withBody: (body) => act(gw, body, (b) => withOptional({ type: 'ban', room, user }, b)) };
  }
  if (lifting) return { answer: act(gw, '{}', () => ({ type: 'unmute', room, user })) };
  return { withBody: (body) => act(gw, body, (b) => (b.seconds === undefined ? { type: 'mute', room, user } : { type: 'mute', room, user, seconds: b.seconds })) };
}

interface Body {
  seconds?: number;
  reason?: string;
}

function withOptional(frame: ModerationFrame & { type: 'ban' }, body: Body): ModerationFrame {
  if (body.seconds !== undefined) frame.seconds = body.seconds;
  if (body.reason !== undefined) frame.reason = body.reason;
  return frame;
}

/** Parses the body (empty: `{}`), applies the action, and answers 200 `{"room","action","user"?}`. */
async function act(gw: Core, body: string, frameOf: (body: Body) => ModerationFrame): Promise<ApiResponse> {
  const parsed = parseBody(body);
  if ('status' in parsed) return parsed;
  const frame = frameOf(parsed);
  if (frame.type === 'slowmode' && !(Number.isInteger(frame.seconds) && frame.seconds >= 0)) {
    return failure(400, ErrorCode.BadRequest, `seconds must be an integer from 0 to ${MODERATION_SECONDS_MAX}`);
  }
  if ((frame.type === 'ban' || frame.type === 'mute') && frame.seconds === 0) {
    return failure(400, ErrorCode.BadRequest, `seconds must be an integer from 1 to ${MODERATION_SECONDS_MAX} (leave it out for no end)`);
  }
  return read(async () => {
    await applyModeration(gw, frame, 'api');
    return frame.type === 'slowmode' ? { room: frame.room, action: frame.type, seconds: frame.seconds } : { room: frame.room, action: frame.type, user: frame.user };
  });
}

function parseBody(text: string): Body | ApiResponse {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return failure(400, ErrorCode.BadRequest, 'body must be JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return failure(400, ErrorCode.BadRequest, 'body must be a JSON object');
  const { seconds, reason } = value as { seconds?: unknown; reason?: unknown };
  const body: Body = {};
  if (seconds !== undefined) {
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0 || seconds > MODERATION_SECONDS_MAX) {
      return failure(400, ErrorCode.BadRequest, `seconds must be an integer from 0 to ${MODERATION_SECONDS_MAX}`);
    }
    body.seconds = seconds;
  }
  if (reason !== undefined) {
    if (typeof reason !== 'string' || reason.length > REASON_MAX) return failure(400, ErrorCode.BadRequest, `reason must be a string of at most ${REASON_MAX} characters`);
    body.reason = reason;
  }
  return body;
}

async function read(answer: () => Promise<object>): Promise<ApiResponse> {
  return unavailableAs503(async () => ({ status: 200, body: await answer() }));
}
