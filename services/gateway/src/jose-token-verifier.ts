import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { Logger } from '@chat/runtime';
import type { AuthConfig, AuthKeys } from './auth-config.js';
import { claimsOf, type TokenCheck, type TokenVerifier } from './token-verifier.js';

/** Any failure to get the key set itself (network, timeout, non-200, not a JWK set): the token was never judged. */
class KeySetUnavailable extends Error {
  override readonly name = 'KeySetUnavailable';
}

/** The only file that imports jose: HS256 with a shared secret, or RS256/ES256/EdDSA from a JWKS or a PEM key. */
export class JoseTokenVerifier implements TokenVerifier {
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;
  /** Logged once when the key set becomes unreachable and once when it is back, not once per upgrade. */
  private keySetDown = false;

  constructor(config: AuthConfig, private readonly log: Logger) {
    this.key = this.keyOf(config.keys);
    this.options = {
      algorithms: algorithmsOf(config.keys),
      ...(config.issuer !== undefined && { issuer: config.issuer }),
      ...(config.audience !== undefined && { audience: config.audience }),
    };
  }

  async verify(token: string): Promise<TokenCheck> {
    try {
      const { payload } = await jwtVerify(token, this.key, this.options);
      return claimsOf(payload);
    } catch (error) {
      if (error instanceof KeySetUnavailable) return { ok: false, status: 503, reason: 'the token cannot be checked now (key set unreachable); retry later' };
      return { ok: false, status: 401, reason: reasonOf(error) };
    }
  }

  private keyOf(keys: AuthKeys): Uint8Array | KeyObject | JWTVerifyGetKey {
    switch (keys.kind) {
      case 'secret': return new TextEncoder().encode(keys.secret);
      case 'public-key': return keys.key;
      case 'jwks': return this.keySet(keys);
    }
  }

  /**
   * jose caches the set for `cacheMs` and refetches it for a `kid` it does not know, at most once per
   * `cooldownMs`: a rotated-in key is accepted at the first token that names it once the cooldown since
   * the last fetch has passed; a removed key stays accepted until the set is next fetched.
   */
  private keySet(keys: Extract<AuthKeys, { kind: 'jwks' }>): JWTVerifyGetKey {
    const remote = createRemoteJWKSet(keys.url, { cooldownDuration: keys.cooldownMs, cacheMaxAge: keys.cacheMs, timeoutDuration: keys.timeoutMs });
    // The path only: a query string may carry a credential of the key server.
    const where = `${keys.url.origin}${keys.url.pathname}`;
    return async (header, token) => {
      try {
        const key = await remote(header, token);
        if (this.keySetDown) this.log.info('JWKS reachable again', { jwks: where });
        this.keySetDown = false;
        return key;
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        if (!this.keySetDown) this.log.warn('cannot fetch the JWKS: token upgrades answer 503 until it can', { jwks: where, error });
        this.keySetDown = true;
        throw new KeySetUnavailable(String(error));
      }
    };
  }
}

function algorithmsOf(keys: AuthKeys): string[] {
  switch (keys.kind) {
    case 'secret': return ['HS256'];
    case 'public-key': return [keys.algorithm];
    case 'jwks': return ['RS256', 'ES256', 'EdDSA'];
  }
}

/** A short reason for the 401 body; jose's messages name the failed check but never echo the token. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `${error.claim} claim ${error.reason === 'missing' ? 'missing' : 'rejected'}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no known key matches the token';
  if (error instanceof errors.JOSEError) return 'not a valid JWT';
  return 'invalid token';
}
