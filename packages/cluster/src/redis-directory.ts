import type { Redis } from 'ioredis';
import { BusUnavailableError } from './bus.js';
import { guarded } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Users per SADD when the whole list is written again. */
const RESTORE_CHUNK = 1_000;
/** After a failed write (a timeout, an error reply) on a live connection, the list is rewritten this much later. */
const RETRY_MS = 1_000;

/**
 * Which users this node holds, as Redis sees it: the node's entry in the directory that the
 * chatDirect script reads. One set per node rather than one channel per user, so a connection costs
 * a set member instead of a subscription (the bookkeeping ioredis and Redis keep for each channel
 * made up half of a gateway's memory per idle connection).
 *
 * Changes are coalesced for one event-loop turn and written as one pipeline; a reconnect storm
 * becomes a few large SADDs. After Redis comes back (it may have lost everything) the whole list
 * is written again, and a write that failed while the connection stayed up is made good by rewriting
 * the whole list a second later. A node that dies leaves its entry behind until a direct message for
 * one of its users, or a node start, finds that nobody listens on its channel any more and removes it.
 */
export class RedisDirectory {
  /** The users with a connection here: what Redis must list for this node. */
  readonly users = new Set<string>();
  private added = new Set<string>();
  private removed = new Set<string>();
  private flush: Promise<void> | undefined;
  private restoring: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  /** `live`: this node's channel is subscribed and commands can run, so writing the list means something. */
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys, readonly node: string, private readonly live: () => boolean) {}

  /** Resolves once Redis lists the user here; rejects (BusUnavailableError) when it could not be written. */
  add(user: string): Promise<void> {
    this.users.add(user);
    this.removed.delete(user);
    this.added.add(user);
    return this.scheduleFlush();
  }

  remove(user: string): Promise<void> {
    if (!this.users.delete(user)) return Promise.resolve();
    this.added.delete(user);
    this.removed.add(user);
    return this.scheduleFlush();
  }

  /**
   * Writes the whole list again, atomically, and forgets dead nodes. Call it once this node's channel
   * is subscribed: a node is live for the others exactly while its channel has a subscriber.
   */
  restore(): Promise<void> {
    this.restoring ??= this.rewrite().finally(() => {
      this.restoring = undefined;
    });
    return this.restoring;
  }

  /** Takes this node out of the directory (a clean shutdown); nothing is written for it afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await exec(this.redis.multi().del(this.keys.directoryUsers(this.node)).srem(this.keys.directoryNodes(), this.node).exec());
  }

  private async rewrite(): Promise<void> {
    clearTimeout(this.retry);
    if (this.closed) return;
    const own = this.keys.directoryUsers(this.node);
    const batch = this.redis.multi().sadd(this.keys.directoryNodes(), this.node).del(own);
    const users = [...this.users];
    for (let i = 0; i < users.length; i += RESTORE_CHUNK) batch.sadd(own, ...users.slice(i, i + RESTORE_CHUNK));
    try {
      await exec(batch.exec());
      await guarded(this.redis.chatDirectoryPrune(this.keys.directoryNodes(), this.keys.directoryUsers(''), this.keys.nodeChannel('')));
    } catch (error) {
      this.retryLater();
      throw error;
    }
  }

  /** Whatever was lost, a full rewrite puts right; when the node is not live, its next 'ready' does it instead. */
  private retryLater(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.live()) this.restore().catch(() => undefined);
    }, RETRY_MS);
    this.retry.unref();
  }

  private scheduleFlush(): Promise<void> {
    this.flush ??= new Promise<void>((turn) => setImmediate(turn)).then(() => {
      this.flush = undefined;
      return this.write();
    });
    return this.flush;
  }

  private async write(): Promise<void> {
    if (this.closed) return;
    const own = this.keys.directoryUsers(this.node);
    const batch = this.redis.pipeline();
    if (this.added.size > 0) batch.sadd(this.keys.directoryNodes(), this.node).sadd(own, ...this.added);
    if (this.removed.size > 0) batch.srem(own, ...this.removed);
    this.added = new Set();
    this.removed = new Set();
    try {
      await exec(batch.exec());
    } catch (error) {
      this.retryLater();
      throw error;
    }
  }
}

async function exec(run: Promise<[error: Error | null, result: unknown][] | null>): Promise<void> {
  const results = await guarded(run);
  const failed = results?.find(([error]) => error !== null)?.[0];
  if (failed) throw new BusUnavailableError(`Redis: ${failed.message}`, { cause: failed });
}
