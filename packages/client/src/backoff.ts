export interface BackoffOptions {
  /** Ceiling of the first retry's delay, in ms. */
  initialMs: number;
  /** No delay is longer than this, in ms. */
  maxMs: number;
  /** Each failed attempt multiplies the ceiling by this. */
  multiplier: number;
  /**
   * Fraction of each delay that is random: with 0.5, a delay whose ceiling is d lands in
   * [d/2, d]. Jitter keeps a thousand clients of a dead node from returning in one wave.
   */
  jitter: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  random: () => number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = {
  initialMs: 500,
  maxMs: 15_000,
  multiplier: 2,
  jitter: 0.5,
  random: Math.random,
};

/**
 * Jittered, capped exponential backoff. `next()` counts one more failed attempt and returns how
 * long to wait before it; `reset()` starts over, which the client does only once a connection has
 * stayed up for a while, so a node that accepts and then drops at once does not get hammered.
 */
export class Backoff {
  readonly options: Readonly<BackoffOptions>;
  #attempt = 0;

  constructor(options: Partial<BackoffOptions> = {}) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
    const { initialMs, maxMs, multiplier, jitter } = this.options;
    if (!(initialMs >= 0 && maxMs >= initialMs && multiplier >= 1 && jitter >= 0 && jitter <= 1)) {
      throw new RangeError('backoff needs 0 <= initialMs <= maxMs, multiplier >= 1 and 0 <= jitter <= 1');
    }
  }

  /** Failed attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before jitter for the n-th retry (0-based): min(maxMs, initialMs * multiplier^n). */
  ceilingMs(n: number): number {
    return Math.min(this.options.maxMs, this.options.initialMs * this.options.multiplier ** n);
  }

  next(): number {
    const ceiling = this.ceilingMs(this.#attempt);
    this.#attempt += 1;
    return Math.round(ceiling * (1 - this.options.jitter * this.options.random()));
  }

  /** The longest delay there is, for a server that asked us to back off (close 4429). */
  longest(): number {
    this.#attempt += 1;
    return this.options.maxMs;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
