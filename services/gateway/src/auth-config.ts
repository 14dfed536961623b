import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, envInt, envList, envOptional, envUrl, type Env } from '@chat/runtime';

/** The algorithms a verifying key may carry; each key type allows exactly one (no algorithm confusion). */
export type KeyAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

/** Where the token's signing key comes from (docs/protocol.md#configuration): exactly one of these, or auth is off. */
export type AuthKeys =
  | { kind: 'secret'; secret: string }
  | { kind: 'jwks'; url: URL; cooldownMs: number; cacheMs: number; timeoutMs: number }
  | { kind: 'public-key'; key: KeyObject; algorithm: KeyAlgorithm };

export interface AuthConfig {
  keys: AuthKeys;
  /** `iss` must equal this when set. */
  issuer: string | undefined;
  /** `aud` must name one of these when set. */
  audience: string[] | undefined;
}

/** An HMAC key shorter than the SHA-256 output can be brute-forced offline from one token (RFC 7518 3.2). */
export const MIN_SECRET_BYTES = 32;

const KEY_SOURCES = ['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'AUTH_JWT_PUBLIC_KEY'] as const;

/** The example manifests ship `REPLACE-ME-…`: deploying them unchanged must fail, not run with a public secret. */
const PLACEHOLDER = /^(REPLACE|CHANGE)[-_ ]?ME/i;

/** Reads the auth variables; undefined means auth is off. Values never appear in the errors. */
export function readAuthConfig(env: Env): AuthConfig | undefined {
  const set = KEY_SOURCES.filter((name) => envOptional(env, name) !== undefined);
  const issuer = envOptional(env, 'AUTH_JWT_ISSUER');
  const audience = envList(env, 'AUTH_JWT_AUDIENCE');
  if (set.length > 1) throw new ConfigError(set[0]!, `${set.join(' and ')} are both set; set only one of ${KEY_SOURCES.join(', ')}`);
  if (set.length === 0) {
    const orphan = issuer !== undefined ? 'AUTH_JWT_ISSUER' : audience !== undefined ? 'AUTH_JWT_AUDIENCE' : undefined;
    if (orphan !== undefined) throw new ConfigError(orphan, `is set but auth is off: set one of ${KEY_SOURCES.join(', ')} too`);
    return undefined;
  }
  return { keys: readKeys(env, set[0]!), issuer, audience };
}

function readKeys(env: Env, source: (typeof KEY_SOURCES)[number]): AuthKeys {
  switch (source) {
    case 'AUTH_JWT_SECRET': return { kind: 'secret', secret: readSecret(env) };
    case 'AUTH_JWKS_URL': return {
      kind: 'jwks',
      url: new URL(envUrl(env, 'AUTH_JWKS_URL', ['https:', 'http:'])!),
      // jose's own defaults: a refetch for an unknown kid at most every 30 s, a full refresh every 10 min.
      cooldownMs: envInt(env, 'AUTH_JWKS_COOLDOWN_SECONDS', 30, 0, 3600) * 1000,
      cacheMs: envInt(env, 'AUTH_JWKS_CACHE_SECONDS', 600, 1, 86_400) * 1000,
      timeoutMs: envInt(env, 'AUTH_JWKS_TIMEOUT_MS', 5000, 100, 60_000),
    };
    case 'AUTH_JWT_PUBLIC_KEY': return readPublicKey(env);
  }
}

function readSecret(env: Env): string {
  const secret = envOptional(env, 'AUTH_JWT_SECRET')!;
  if (PLACEHOLDER.test(secret)) {
    throw new ConfigError('AUTH_JWT_SECRET', 'is still the placeholder of the example configuration; set it to a random secret (e.g. `openssl rand -base64 48`)');
  }
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_SECRET_BYTES) {
    throw new ConfigError('AUTH_JWT_SECRET', `is ${bytes} bytes; an HS256 secret needs at least ${MIN_SECRET_BYTES} (e.g. \`openssl rand -base64 48\`)`);
  }
  return secret;
}

/**
 * An SPKI PEM (`-----BEGIN PUBLIC KEY-----`), with real newlines or `\n` escapes as env files often
 * carry them. A private key is refused rather than reduced to its public half: it does not belong here.
 */
function readPublicKey(env: Env): AuthKeys {
  const pem = envOptional(env, 'AUTH_JWT_PUBLIC_KEY')!.replace(/\\n/g, '\n');
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new ConfigError('AUTH_JWT_PUBLIC_KEY', 'is not a PEM public key (expected -----BEGIN PUBLIC KEY-----, SPKI)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new ConfigError('AUTH_JWT_PUBLIC_KEY', `cannot be parsed as a PEM public key (${(error as Error).message})`);
  }
  return { kind: 'public-key', key, algorithm: algorithmOf(key) };
}

function algorithmOf(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      // jose refuses RS256 with a modulus under 2048 bits at every token; better to say so now.
      if ((details.modulusLength ?? 0) < 2048) throw new ConfigError('AUTH_JWT_PUBLIC_KEY', `an RSA key needs at least 2048 bits, this one has ${details.modulusLength}`);
      return 'RS256';
    case 'ec':
      if (details.namedCurve !== 'prime256v1') throw new ConfigError('AUTH_JWT_PUBLIC_KEY', `an EC key must be on P-256 (ES256), this one is on ${details.namedCurve}`);
      return 'ES256';
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new ConfigError('AUTH_JWT_PUBLIC_KEY', `a ${key.asymmetricKeyType} key is not supported; use RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA)`);
  }
}
