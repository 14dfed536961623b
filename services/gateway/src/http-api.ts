import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, isValidName } from '@chat/protocol';
import { BusUnavailableError } from '@chat/cluster';
import type { Core } from './core.js';
import { publishDirect, publishMessage } from './message-handlers.js';

export interface ApiRequest {
  method: string;
  path: string;
  authorization: string;
  /** The Idempotency-Key header, '' when absent. */
  idempotencyKey: string;
  body: string;
}

/** An Idempotency-Key: printable ASCII without spaces, as a Redis key part and in logs. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface ApiResponse {
  status: number;
  body: unknown;
}

const ROUTE = /^\/api\/(rooms|users)\/([^/]+)\/messages$/;

/**
 * Server-side publishing for backends (SPEC section 4): a room message marked `via: "api"`, or a
 * direct message to a user. Guarded by `Authorization: Bearer API_KEY` when API_KEY is set. With an
 * Idempotency-Key, the same key on the same route within IDEMPOTENCY_SECONDS stores once and
 * answers the first id again, so a backend may retry a 503 or a timeout safely.
 */
export async function handleApi(gw: Core, req: ApiRequest): Promise<ApiResponse> {
  const route = ROUTE.exec(req.path);
  if (route === null) return failure(404, 'not_found', 'no such route');
  if (req.method !== 'post') return failure(405, 'method_not_allowed', 'use POST');
  if (gw.config.apiKey !== undefined && !bearerMatches(req.authorization, gw.config.apiKey)) {
    return failure(401, 'unauthorized', 'Authorization: Bearer <API_KEY> is required');
  }
  const [, kind, target] = route as unknown as [string, 'rooms' | 'users', string];
  if (!isValidName(target)) return failure(400, ErrorCode.BadRequest, `${kind === 'rooms' ? 'room' : 'user'} must match ^[A-Za-z0-9_.-]{1,64}$`);
  if (req.idempotencyKey !== '' && !IDEMPOTENCY_KEY.test(req.idempotencyKey)) {
    return failure(400, ErrorCode.BadRequest, 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
  }
  const input = parseBody(req.body, gw.config.maxTextChars);
  if ('status' in input) return input;
  const key = req.idempotencyKey === '' ? undefined : req.idempotencyKey;
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

export function failure(status: number, code: string, message: string): ApiResponse {
  return { status, body: { error: { code, message } } };
}

function bearerMatches(header: string, apiKey: string): boolean {
  const given = Buffer.from(header);
  const expected = Buffer.from(`Bearer ${apiKey}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
