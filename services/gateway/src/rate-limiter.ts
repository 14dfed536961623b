/** A flooding client is told `rate_limited` at most once per this long (docs/protocol.md#connect). */
export const RATE_LIMITED_REPLY_EVERY_MS = 1_000;

/**
 * A token bucket per connection: `rate` frames per second, bursts up to twice that. A connection
 * that keeps hitting the limit for `abuseMs` (with no pause of a second or more) is abusive.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private limitedSince = 0;
  private lastLimited = 0;
  private lastReply = Number.NEGATIVE_INFINITY;

  constructor(private readonly rate: number, private readonly abuseMs: number, now = Date.now()) {
    this.tokens = rate * 2;
    this.last = now;
  }

  /** 'ok' to accept the frame, 'limited' to drop it, 'abusive' to drop it and close the connection. */
  take(now = Date.now()): 'ok' | 'limited' | 'abusive' {
    const capacity = this.rate * 2;
    this.tokens = Math.min(capacity, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    if (now - this.lastLimited > 1000) this.limitedSince = now;
    this.lastLimited = now;
    return now - this.limitedSince >= this.abuseMs ? 'abusive' : 'limited';
  }

  /**
   * True when a dropped frame may be answered with `rate_limited`: at most once per
   * RATE_LIMITED_REPLY_EVERY_MS, so a flood does not turn into a flood of replies.
   */
  mayReply(now = Date.now()): boolean {
    if (now - this.lastReply < RATE_LIMITED_REPLY_EVERY_MS) return false;
    this.lastReply = now;
    return true;
  }
}
