import { randomBytes } from 'node:crypto';
import { isValidName } from '@chat/protocol';
import type { GatewayConfig } from './config.js';
import type { Identity } from './session.js';
import type { TokenVerifier } from './token-verifier.js';

/** What the transport read from an upgrade request, before any socket exists. */
export interface UpgradeRequest {
  origin: string;
  authorization: string;
  queryUser: string | undefined;
  queryToken: string | undefined;
}

export type UpgradeVerdict = { ok: true; identity: Identity } | { ok: false; status: 400 | 401 | 403 | 503; message: string };

/**
 * Decides an upgrade before it happens (docs/protocol.md#connect): a disallowed Origin gets 403; with auth on
 * (a `verifier`), a missing, invalid or expired token gets 401, and 503 when the key set cannot be
 * fetched; with auth off, `?user=` names the user, unverified. Never rejects.
 */
export async function authorizeUpgrade(config: Pick<GatewayConfig, 'allowedOrigins'>, verifier: TokenVerifier | undefined, req: UpgradeRequest): Promise<UpgradeVerdict> {
  if (config.allowedOrigins !== undefined && req.origin !== '' && !config.allowedOrigins.includes(req.origin)) {
    return { ok: false, status: 403, message: `origin ${req.origin} is not allowed` };
  }
  if (verifier !== undefined) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.authorization)?.[1];
    const token = req.queryToken ?? bearer;
    if (token === undefined) return { ok: false, status: 401, message: 'a token is required (?token= or Authorization: Bearer)' };
    const check = await verifier.verify(token);
    if (!check.ok) return { ok: false, status: check.status, message: check.reason };
    if (!isValidName(check.claims.sub)) return { ok: false, status: 401, message: 'sub is not a valid user name' };
    return { ok: true, identity: { user: check.claims.sub, claims: check.claims } };
  }
  if (req.queryUser === undefined) return { ok: true, identity: { user: `guest-${randomBytes(4).toString('hex')}` } };
  if (!isValidName(req.queryUser)) return { ok: false, status: 400, message: 'user must match ^[A-Za-z0-9_.-]{1,64}$' };
  return { ok: true, identity: { user: req.queryUser } };
}
