/**
 * The gateway URLs a client may use, tried in turn. Behind a load balancer one URL is enough;
 * given several nodes directly, a client whose node fails or drains moves to the next one.
 */
export class Endpoints {
  readonly #urls: readonly string[];
  #index = 0;

  constructor(urls: string | readonly string[]) {
    const list = typeof urls === 'string' ? [urls] : [...urls];
    if (list.length === 0) throw new TypeError('at least one gateway URL is needed');
    for (const url of list) new URL(url); // throws a TypeError naming the bad URL
    this.#urls = list;
  }

  get current(): string {
    return this.#urls[this.#index] as string;
  }

  get all(): readonly string[] {
    return this.#urls;
  }

  /** Moves to the next URL (wrapping around) and returns it. */
  advance(): string {
    this.#index = (this.#index + 1) % this.#urls.length;
    return this.current;
  }
}

export interface Identity {
  user?: string | undefined;
  token?: string | undefined;
}

/** The URL to open: the gateway URL with `?token=` (auth on) or `?user=` (auth off) set. */
export function withIdentity(url: string, identity: Identity): string {
  const target = new URL(url);
  if (identity.token !== undefined) target.searchParams.set('token', identity.token);
  else if (identity.user !== undefined) target.searchParams.set('user', identity.user);
  return target.toString();
}
