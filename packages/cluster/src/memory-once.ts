/**
 * Idempotency keys for the in-process bus: each remembers the id first stored under it for `ttlMs`.
 * Every key lives equally long, so insertion order is expiry order and expired keys are dropped
 * from the front as new ones arrive: memory is bounded by what one window holds.
 */
export class MemoryOnce {
  private readonly ids = new Map<string, { id: string; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  /** The id stored under `key` within the window, undefined when there is none. */
  get(key: string, now = Date.now()): string | undefined {
    this.expire(now);
    return this.ids.get(key)?.id;
  }

  set(key: string, id: string, now = Date.now()): void {
    this.ids.delete(key);
    this.ids.set(key, { id, expiresAt: now + this.ttlMs });
  }

  private expire(now: number): void {
    for (const [key, entry] of this.ids) {
      if (entry.expiresAt > now) return;
      this.ids.delete(key);
    }
  }
}
