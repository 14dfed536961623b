import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, HISTORY_PAGE_MAX, isMessageId, isValidName } from '@chat/protocol';
import { BusUnavailableError } from '@chat/cluster';
import type { Core } from './core.js';
import { publishDirect, publishMessage } from './message-handlers.js';
import { latestJson } from './room-handlers.js';
import { failure, unavailableAs503, type ApiResponse, type ApiStep } from './api-answers.js';
import { MODERATION_API_ROUTES, routeModeration } from './moderation-api.js';

export { failure, type ApiResponse, type ApiStep } from './api-answers.js';

/** What the transport read of a request before its body. */
export interface ApiHead {
  method: string;
  path: string;
  /** The query string, without `?`. */
  query: string;
  authorization: string;
  /** The Idempotency-Key header, '' when absent. */
  idempotencyKey: string;
}


/** An Idempotency-Key: printable ASCII without spaces, as a Redis key part and in logs. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;


const ROUTE = /^\/api\/(rooms|users)\/([^/]+)\/(messages|members|disconnect)$/;
const DEFAULT_PAGE = 50;
/** GET /api/rooms: rooms per answer unless `limit` says otherwise, and the most `limit` may ask for. */
export const ROOM_LIST_DEFAULT = 100;
export const ROOM_LIST_MAX = 1000;

/**
 * The HTTP API (docs/protocol.md#http), decided from the request's head: the API key is checked before any
 * body is read. Server-side publishing for backends: a room message marked `via: "api"`, or a direct
 * message to a user; with an Idempotency-Key, the same key on the same route within
 * IDEMPOTENCY_SECONDS stores once and answers the first id again, so a backend may retry a 503 or a
 * timeout safely. Reads: the rooms, a room's members (cluster-wide presence) and its history, paged
 * like the `history` frame; the live nodes. The operator's page (/admin) is built on these alone.
 */
export function routeApi(gw: Core, head: ApiHead): ApiStep {
  const now = (response: ApiResponse): ApiStep => ({ answer: Promise.resolve(response) });
  const method = head.method.toLowerCase();
  if (head.path === '/api/nodes') {
    if (method !== 'get') return now(failure(405, 'method_not_allowed', 'use GET'));
    return authorized(gw, head) ? { answer: nodes(gw) } : now(unauthorized());
  }
  if (head.path === '/api/rooms') {
    if (method !== 'get') return now(failure(405, 'method_not_allowed', 'use GET'));
    return authorized(gw, head) ? { answer: rooms(gw, new URLSearchParams(head.query)) } : now(unauthorized());
  }
  const moderation = routeModeration(gw, method, head.path, authorized(gw, head));
  if (moderation !== undefined) return moderation;
  const route = ROUTE.exec(head.path);
  const [, kind, target, what] = (route ?? []) as unknown as [string, 'rooms' | 'users', string, 'messages' | 'members' | 'disconnect'];
  const allowed = route === null ? undefined : ROUTES[`${kind} ${what}`];
  if (allowed === undefined) return now(failure(404, 'not_found', 'no such route'));
  if (!allowed.includes(method)) return now(failure(405, 'method_not_allowed', `use ${allowed.join(' or ').toUpperCase()}`));
  if (!authorized(gw, head)) return now(unauthorized());
  if (!isValidName(target)) return now(failure(400, ErrorCode.BadRequest, `${kind === 'rooms' ? 'room' : 'user'} must match ^[A-Za-z0-9_.-]{1,64}$`));
  if (what === 'disconnect') return { answer: disconnect(gw, target) };
  if (method === 'get') return { answer: what === 'members' ? members(gw, target) : page(gw, target, new URLSearchParams(head.query)) };
  if (head.idempotencyKey !== '' && !IDEMPOTENCY_KEY.test(head.idempotencyKey)) {
    return now(failure(400, ErrorCode.BadRequest, 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces'));
  }
  return { withBody: (body) => publish(gw, kind, target, head.idempotencyKey, body) };
}

/** The methods of each route, by `<kind> <what>`. */
const ROUTES: Record<string, string[] | undefined> = {
  'rooms messages': ['get', 'post'],
  'rooms members': ['get'],
  'users messages': ['post'],
  'users disconnect': ['post'],
};

/** Every route of the API with its methods, in OpenAPI's path form: docs/openapi.yaml is checked against it. */
export const API_ROUTES: ReadonlyArray<{ method: string; path: string }> = [
  { method: 'GET', path: '/api/nodes' },
  { method: 'GET', path: '/api/rooms' },
  ...Object.entries(ROUTES).flatMap(([route, methods]) => {
    const [kind, what] = route.split(' ') as [string, string];
    const path = `/api/${kind}/{${kind === 'rooms' ? 'room' : 'user'}}/${what}`;
    return (methods ?? []).map((method) => ({ method: method.toUpperCase(), path }));
  }),
  ...MODERATION_API_ROUTES,
];

function authorized(gw: Core, head: ApiHead): boolean {
  return gw.config.apiKey === undefined || bearerMatches(head.authorization, gw.config.apiKey);
}

function unauthorized(): ApiResponse {
  return failure(401, 'unauthorized', 'Authorization: Bearer <API_KEY> is required');
}

async function nodes(gw: Core): Promise<ApiResponse> {
  return unavailableAs503(async () => ({ status: 200, body: { nodes: await gw.nodes.list() } }));
}

/**
 * The rooms that ever stored a message, by name, each with its cluster-wide member count: one
 * presence read per listed room, so `limit` bounds the work as well as the answer.
 */
async function rooms(gw: Core, query: URLSearchParams): Promise<ApiResponse> {
  const limitText = query.get('limit');
  const limit = limitText === null ? ROOM_LIST_DEFAULT : /^\d{1,9}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= ROOM_LIST_MAX)) return failure(400, ErrorCode.BadRequest, `limit must be an integer from 1 to ${ROOM_LIST_MAX}`);
  return unavailableAs503(async () => {
    const page = await gw.history.rooms(limit);
    const counts = await Promise.all(page.rooms.map((room) => gw.presence.count(room)));
    return { status: 200, body: { rooms: page.rooms.map((room, i) => ({ room, members: counts[i] })), more: page.more } };
  });
}

/** Every connection of the user on every node is closed with 4403; the count is what the nodes report within a second. */
async function disconnect(gw: Core, user: string): Promise<ApiResponse> {
  return unavailableAs503(async () => ({ status: 202, body: { connections: await gw.bus.disconnect(user) } }));
}

async function members(gw: Core, room: string): Promise<ApiResponse> {
  return unavailableAs503(async () => ({ status: 200, body: { room, members: await gw.presence.members(room) } }));
}

async function page(gw: Core, room: string, query: URLSearchParams): Promise<ApiResponse> {
  const before = query.get('before') ?? undefined;
  if (before !== undefined && !isMessageId(before)) return failure(400, ErrorCode.BadRequest, 'before must be a message id like "1700000000000-0"');
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_PAGE : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) return failure(400, ErrorCode.BadRequest, 'limit must be a positive integer');
  return unavailableAs503(async () => {
    const messages = await gw.history.before(room, before, Math.min(limit, HISTORY_PAGE_MAX));
    return { status: 200, body: { room, messages: messages.map((m) => JSON.parse(latestJson(m, '')) as unknown) } };
  });
}


async function publish(gw: Core, kind: 'rooms' | 'users', target: string, idempotencyKey: string, body: string): Promise<ApiResponse> {
  const input = parseBody(body, gw.config.maxTextChars);
  if ('status' in input) return input;
  const key = idempotencyKey === '' ? undefined : idempotencyKey;
  try {
    if (kind === 'rooms') {
      const message = await publishMessage(gw, { room: target, from: input.from, text: input.text, via: 'api', once: key === undefined ? undefined : `api:${key}` });
      return { status: 202, body: { id: message.id } };
    }
    const once = key === undefined ? undefined : `api:${target}:${key}`;
    const outcome = await publishDirect(gw, { to: target, from: input.from, text: input.text, originConn: '', via: 'api', once });
    return outcome.reached ? { status: 202, body: { id: outcome.id } } : failure(404, ErrorCode.UserOffline, `${target} has no open connection`);
  } catch (error) {
    if (!(error instanceof BusUnavailableError)) throw error;
    const retry = key === undefined ? 'retry with an Idempotency-Key to store it at most once' : 'retry with the same Idempotency-Key';
    return failure(503, ErrorCode.Unavailable, `the cluster bus did not confirm the message: it was not published, or the outcome is unknown; ${retry}`);
  }
}

function parseBody(body: string, maxTextChars: number): { text: string; from: string } | ApiResponse {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return failure(400, ErrorCode.BadRequest, 'body must be JSON');
  }
  if (typeof value !== 'object' || value === null) return failure(400, ErrorCode.BadRequest, 'body must be a JSON object');
  const { text, from } = value as { text?: unknown; from?: unknown };
  if (typeof text !== 'string') return failure(400, ErrorCode.BadRequest, 'text must be a string');
  if (text.length > maxTextChars) return failure(413, ErrorCode.TooLarge, `text is longer than ${maxTextChars} characters`);
  if (from !== undefined && !isValidName(from)) return failure(400, ErrorCode.BadRequest, 'from must match ^[A-Za-z0-9_.-]{1,64}$');
  return { text, from: from ?? 'api' };
}


function bearerMatches(header: string, apiKey: string): boolean {
  const given = Buffer.from(header);
  const expected = Buffer.from(`Bearer ${apiKey}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
