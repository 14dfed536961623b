import { createHmac } from 'node:crypto';

/** What a verified token tells the gateway (services/gateway verifies it, with jose). */
export interface TokenClaims {
  sub: string;
  /** Epoch seconds; absent means the token does not expire. */
  exp?: number;
  /** Room names or `prefix*` patterns the holder may use; absent means every room. */
  rooms?: string[];
  /** Room names or `prefix*` patterns the holder moderates (kick, ban, mute, slow mode); absent means none. */
  mod?: string[];
}

/**
 * Signs an HS256 JWT. For tests, tools and backends that mint tokens for their users; synchronous on
 * purpose (jose's signer is async), and checked against jose's verifier in the gateway's tests.
 */
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
