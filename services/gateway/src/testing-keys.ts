/**
 * Asymmetric signing keys and a JWKS endpoint for the auth tests. Exists for tests only. Tokens are
 * signed with node:crypto, not jose, so the gateway's verifier is checked against an independent
 * signer; add an algorithm by adding its key type to `KEY_TYPES`.
 */
import { generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Algorithm = 'RS256' | 'ES256' | 'EdDSA';

export interface SigningKey {
  kid: string;
  alg: Algorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public half as a JWKS entry. */
  jwk: JsonWebKey;
  /** The public half as an SPKI PEM (what AUTH_JWT_PUBLIC_KEY takes). */
  pem: string;
}

const KEY_TYPES = {
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: () => generateKeyPairSync('ed25519'),
} satisfies Record<Algorithm, () => { privateKey: KeyObject; publicKey: KeyObject }>;

export function signingKey(alg: Algorithm, kid: string): SigningKey {
  const { privateKey, publicKey } = KEY_TYPES[alg]();
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk, pem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

/** A compact JWS of `claims`, with `kid` in the header unless `withKid` is false. */
export function signToken(key: SigningKey, claims: Record<string, unknown>, withKid = true): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: key.alg, typ: 'JWT', ...(withKid && { kid: key.kid }) })}.${part(claims)}`;
  const data = Buffer.from(input);
  const signature = key.alg === 'EdDSA' ? sign(null, data, key.privateKey)
    : key.alg === 'ES256' ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', data, key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

export type JwksMode = 'serve' | 'fail' | 'hang';

/** A JWKS endpoint on loopback: serves `keys` (changeable at any time), counts fetches, can fail or hang. */
export interface JwksServer {
  url: string;
  keys: SigningKey[];
  mode: JwksMode;
  fetches: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const hung = new Set<ServerResponse>();
  let server: Server;
  const state: JwksServer = {
    url: '',
    keys,
    mode: 'serve',
    fetches: 0,
    close: () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
  server = createServer((_req, res) => {
    state.fetches++;
    if (state.mode === 'hang') {
      hung.add(res);
      return;
    }
    if (state.mode === 'fail') {
      res.writeHead(500).end('key server down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return state;
}
