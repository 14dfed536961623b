import { randomBytes } from 'node:crypto';
import { isValidName } from '@chat/protocol';
import { verifyHs256 } from '@chat/runtime';
import type { GatewayConfig } from './config.js';
import type { Identity } from './session.js';

/** What the transport read from an upgrade request, before any socket exists. */
export interface UpgradeRequest {
  origin: string;
  authorization: string;
  queryUser: string | undefined;
  queryToken: string | undefined;
}

export type UpgradeVerdict = { ok: true; identity: Identity } | { ok: false; status: 400 | 401 | 403; message: string };

/**
 * Decides an upgrade before it happens (SPEC section 3): a disallowed Origin gets 403; with auth on,
 * a missing, invalid or expired token gets 401; with auth off, `?user=` names the user, unverified.
 */
export function authorizeUpgrade(config: Pick<GatewayConfig, 'allowedOrigins' | 'authJwtSecret'>, req: UpgradeRequest): UpgradeVerdict {
  if (config.allowedOrigins !== undefined && req.origin !== '' && !config.allowedOrigins.includes(req.origin)) {
    return { ok: false, status: 403, message: `origin ${req.origin} is not allowed` };
  }
  if (config.authJwtSecret !== undefined) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.authorization)?.[1];
    const token = req.queryToken ?? bearer;
    if (token === undefined) return { ok: false, status: 401, message: 'a token is required (?token= or Authorization: Bearer)' };
    const check = verifyHs256(token, config.authJwtSecret);
    if (!check.ok) return { ok: false, status: 401, message: check.reason };
    if (!isValidName(check.claims.sub)) return { ok: false, status: 401, message: 'sub is not a valid user name' };
    return { ok: true, identity: { user: check.claims.sub, claims: check.claims } };
  }
  if (req.queryUser === undefined) return { ok: true, identity: { user: `guest-${randomBytes(4).toString('hex')}` } };
  if (!isValidName(req.queryUser)) return { ok: false, status: 400, message: 'user must match ^[A-Za-z0-9_.-]{1,64}$' };
  return { ok: true, identity: { user: req.queryUser } };
}
