import type { TokenClaims } from '@chat/runtime';

/**
 * 401: the token is missing, malformed, badly signed, expired or names no key we know.
 * 503: the token could not be checked at all (the JWKS endpoint is unreachable): not the client's
 * fault, and another node or a retry may succeed.
 */
export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; status: 401 | 503; reason: string };

/** Checks a bearer token against the configured key source. Never rejects: every failure is a value. */
export interface TokenVerifier {
  verify(token: string): Promise<TokenCheck>;
}

/** The claims this server uses, from a payload whose signature and time claims are already checked. */
export function claimsOf(payload: Record<string, unknown>): TokenCheck {
  if (typeof payload.sub !== 'string') return { ok: false, status: 401, reason: 'sub claim missing' };
  const rooms = payload.rooms;
  if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every((r) => typeof r === 'string'))) {
    return { ok: false, status: 401, reason: 'rooms claim must be a list of strings' };
  }
  const mod = payload.mod;
  if (mod !== undefined && !(Array.isArray(mod) && mod.every((r) => typeof r === 'string'))) {
    return { ok: false, status: 401, reason: 'mod claim must be a list of strings' };
  }
  const claims: TokenClaims = { sub: payload.sub };
  if (typeof payload.exp === 'number') claims.exp = payload.exp;
  if (rooms !== undefined) claims.rooms = rooms as string[];
  if (mod !== undefined) claims.mod = mod as string[];
  return { ok: true, claims };
}
