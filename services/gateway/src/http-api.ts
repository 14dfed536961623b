import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, isValidName } from '@chat/protocol';
import { BusUnavailableError } from '@chat/cluster';
import type { Gateway } from './gateway.js';
import { publishDirect, publishMessage } from './message-handlers.js';

export interface ApiRequest {
  method: string;
  path: string;
  authorization: string;
  body: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

const ROUTE = /^\/api\/(rooms|users)\/([^/]+)\/messages$/;

/**
 * Server-side publishing for backends (SPEC section 4): a room message marked `via: "api"`, or a
 * direct message to a user. Guarded by `Authorization: Bearer API_KEY` when API_KEY is set.
 */
export async function handleApi(gw: Gateway, req: ApiRequest): Promise<ApiResponse> {
  const route = ROUTE.exec(req.path);
  if (route === null) return failure(404, 'not_found', 'no such route');
  if (req.method !== 'post') return failure(405, 'method_not_allowed', 'use POST');
  if (gw.config.apiKey !== undefined && !bearerMatches(req.authorization, gw.config.apiKey)) {
    return failure(401, 'unauthorized', 'Authorization: Bearer <API_KEY> is required');
  }
  const [, kind, target] = route as unknown as [string, 'rooms' | 'users', string];
  if (!isValidName(target)) return failure(400, ErrorCode.BadRequest, `${kind === 'rooms' ? 'room' : 'user'} must match ^[A-Za-z0-9_.-]{1,64}$`);
  const input = parseBody(req.body, gw.config.maxTextChars);
  if ('status' in input) return input;
  try {
    if (kind === 'rooms') {
      const message = await publishMessage(gw, target, input.from, input.text, 'api');
      return { status: 202, body: { id: message.id } };
    }
    const id = await publishDirect(gw, target, input.from, input.text, '', 'api');
    return id === undefined ? failure(404, ErrorCode.UserOffline, `${target} has no open connection`) : { status: 202, body: { id } };
  } catch (error) {
    if (!(error instanceof BusUnavailableError)) throw error;
    return failure(503, ErrorCode.Unavailable, 'the cluster bus is unreachable; nothing was published');
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
