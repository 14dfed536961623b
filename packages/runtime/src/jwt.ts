import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  sub: string;
  /** Epoch seconds; absent means the token does not expire. */
  exp?: number;
  /** Room names or `prefix*` patterns the holder may use; absent means every room. */
  rooms?: string[];
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

/** Verifies an HS256 JWT: header, signature (constant time), `exp`, `nbf`, and the claims this server uses. */
export function verifyHs256(token: string, secret: string, nowSec = Date.now() / 1000): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
  const [header, payload, signature] = parts as [string, string, string];
  const head = parseSegment(header);
  if (head === undefined || head.alg !== 'HS256') return { ok: false, reason: 'alg must be HS256' };
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  const body = parseSegment(payload);
  if (body === undefined) return { ok: false, reason: 'payload is not JSON' };
  if (typeof body.sub !== 'string') return { ok: false, reason: 'sub claim missing' };
  if (body.exp !== undefined && typeof body.exp !== 'number') return { ok: false, reason: 'exp is not a number' };
  if (typeof body.exp === 'number' && body.exp <= nowSec) return { ok: false, reason: 'token expired' };
  if (typeof body.nbf === 'number' && body.nbf > nowSec) return { ok: false, reason: 'token not valid yet' };
  const rooms = body.rooms;
  if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every((r) => typeof r === 'string'))) {
    return { ok: false, reason: 'rooms claim must be a list of strings' };
  }
  const claims: TokenClaims = { sub: body.sub };
  if (typeof body.exp === 'number') claims.exp = body.exp;
  if (rooms !== undefined) claims.rooms = rooms as string[];
  return { ok: true, claims };
}

/** Signs an HS256 JWT. For tests, tools and backends that mint tokens for their users. */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** True when a `rooms` claim allows `room`: an exact name, or a `prefix*` pattern. */
export function roomAllowed(rooms: readonly string[] | undefined, room: string): boolean {
  if (rooms === undefined) return true;
  return rooms.some((pattern) => (pattern.endsWith('*') ? room.startsWith(pattern.slice(0, -1)) : pattern === room));
}

function parseSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
