/** Returns a fresh token; called before the current one expires and after the server closed with 4401. */
export type TokenSource = () => string | Promise<string>;

/**
 * Expiry of a JWT in epoch ms, read from its `exp` claim without verifying anything (the server
 * verifies); undefined for a token that is not a JWT or has no `exp`.
 */
export function tokenExpiryMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')));
    const exp = (claims as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Holds the token the next connection will use. With a `TokenSource`, it fetches a replacement
 * ahead of expiry (a fraction of the remaining life, at most `marginMs` before it), so that the
 * reconnect after the server's 4401 needs no round trip to the token issuer; a connection cannot
 * change its token in chat.v1, so the reconnect itself cannot be avoided.
 */
export class TokenKeeper {
  readonly #source: TokenSource | undefined;
  readonly #marginMs: number;
  readonly #now: () => number;
  #token: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #fetching: Promise<string> | undefined;

  constructor(initial: string | undefined, source: TokenSource | undefined, marginMs: number, now: () => number = Date.now) {
    this.#token = initial;
    this.#source = source;
    this.#marginMs = marginMs;
    this.#now = now;
  }

  /** True when connections carry a token (auth on) rather than `?user=`. */
  get enabled(): boolean {
    return this.#token !== undefined || this.#source !== undefined;
  }

  /** The token to connect with: fetched when there is none or the one held has expired. */
  async get(): Promise<string | undefined> {
    const token = this.#token;
    if (this.#source === undefined) return token;
    if (token !== undefined && !this.#expired(token)) return token;
    return this.#fetch();
  }

  /** The server refused or expired `used` (close 4401): never connect with it again. */
  invalidate(used: string | undefined): void {
    // Without a source there is nothing better to try; keep it, and let the backoff pace retries.
    if (this.#source !== undefined && used !== undefined && this.#token === used) this.#token = undefined;
  }

  /** Schedules the prefetch for the token held now; call when a connection comes up. */
  scheduleRefresh(): void {
    this.stop();
    const token = this.#token;
    const expiry = token === undefined ? undefined : tokenExpiryMs(token);
    if (this.#source === undefined || expiry === undefined) return;
    const remaining = expiry - this.#now();
    const delay = Math.max(0, remaining - Math.min(this.#marginMs, remaining / 4));
    this.#timer = setTimeout(() => {
      this.#fetch().catch(() => undefined); // retried by get() at the next connect
    }, delay);
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #expired(token: string): boolean {
    const expiry = tokenExpiryMs(token);
    return expiry !== undefined && expiry <= this.#now();
  }

  #fetch(): Promise<string> {
    const source = this.#source;
    if (source === undefined) return Promise.reject(new Error('no token source'));
    this.#fetching ??= Promise.resolve()
      .then(source)
      .then((token) => {
        if (typeof token !== 'string' || token === '') throw new TypeError('getToken() must return a non-empty string');
        this.#token = token;
        return token;
      })
      .finally(() => {
        this.#fetching = undefined;
      });
    return this.#fetching;
  }
}
