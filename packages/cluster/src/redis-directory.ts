import type { DirectDraft, DirectOutcome } from './bus.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { PublishCommand } from './redis-scripts.js';

/** Users written at once when the whole list is written again. */
const RESTORE_CHUNK = 500;
/** After a failed write (a timeout, an error reply) on a live connection, the list is rewritten this much later. */
const RETRY_MS = 1_000;

/**
 * Where direct messages go: for each user, the set of nodes holding a connection of it (one key per
 * user, in the user's own hash slot, so it works the same on a Redis Cluster). A node adds itself
 * to the sets of the users it holds and listens on a channel of its own; a direct is published to
 * the channel of every node listed for the recipient (and then for the sender's other connections).
 *
 * Liveness needs no heartbeat: PUBLISH and SPUBLISH answer how many subscribers got the message,
 * and a node nobody listens for (its process died) is dropped from the set at that moment. A node
 * whose subscriber connection comes back writes its whole list again (Redis may have lost it, or a
 * sender may have dropped it meanwhile). Changes are coalesced for one event-loop turn.
 *
 * Directs are at most once, like pub/sub. With an idempotency key, a repeat within the window is
 * acked with the first id and not delivered: the key is claimed (SET NX) before delivery, and given
 * back when nobody was reached, so the sender may try again once the user is online.
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
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    readonly node: string,
    private readonly publishCommand: PublishCommand,
    private readonly live: () => boolean,
  ) {}

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

  /** Writes the whole list again. Call it once this node's channel is subscribed. */
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
    await this.write([], [...this.users]);
  }

  /** Publishes `draft` to the nodes holding its recipient, then to those holding only its sender. */
  async direct(draft: DirectDraft, payload: string, onceTtlMs: number): Promise<DirectOutcome> {
    const once = draft.idempotencyKey === undefined ? undefined : this.keys.directOnce(draft.idempotencyKey);
    if (once !== undefined && (await guarded(this.redis.set(once, draft.id, 'PX', onceTtlMs, 'NX'))) !== 'OK') {
      const first = await guarded(this.redis.get(once));
      if (first !== null) return { reached: true, id: first, duplicate: true };
    }
    try {
      const recipients = await this.nodesOf(draft.to);
      const reached = await this.publishTo(draft.to, recipients, payload);
      if (reached > 0 && draft.from !== draft.to) {
        const senders = await this.nodesOf(draft.from);
        await this.publishTo(draft.from, senders.filter((node) => !recipients.includes(node)), payload);
      }
      if (reached === 0 && once !== undefined) await guarded(this.redis.del(once));
      return { reached: reached > 0, id: draft.id, duplicate: false };
    } catch (error) {
      if (once !== undefined) await this.redis.del(once).catch(() => undefined);
      throw error;
    }
  }

  /** Publishes `payload` on the channel of every node holding `user`; resolves with how many heard it. */
  async reach(user: string, payload: string): Promise<number> {
    return this.publishTo(user, await this.nodesOf(user), payload);
  }

  private nodesOf(user: string): Promise<string[]> {
    return guarded(this.redis.smembers(this.keys.userNodes(user)));
  }

  /** Publishes to each node's channel; a node with no listener is dropped from the user's set. Returns how many heard. */
  private async publishTo(user: string, nodes: string[], payload: string): Promise<number> {
    const heard = await Promise.all(nodes.map((node) => guarded(this.redis.call(this.publishCommand, this.keys.nodeChannel(node), payload) as Promise<number>)));
    const dead = nodes.filter((_, i) => heard[i] === 0);
    if (dead.length > 0) await this.redis.srem(this.keys.userNodes(user), ...dead).catch(() => undefined);
    return heard.filter((n) => n > 0).length;
  }

  private async rewrite(): Promise<void> {
    clearTimeout(this.retry);
    if (this.closed) return;
    const users = [...this.users];
    try {
      for (let i = 0; i < users.length; i += RESTORE_CHUNK) await this.write(users.slice(i, i + RESTORE_CHUNK), []);
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
      if (this.closed) return undefined;
      const added = [...this.added];
      const removed = [...this.removed];
      this.added = new Set();
      this.removed = new Set();
      return this.write(added, removed).catch((error: unknown) => {
        this.retryLater();
        throw error;
      });
    });
    return this.flush;
  }

  /** One command per user (each user's set is in its own slot), all sent without waiting for each other. */
  private async write(added: string[], removed: string[]): Promise<void> {
    await guarded(Promise.all([
      ...added.map((user) => this.redis.sadd(this.keys.userNodes(user), this.node)),
      ...removed.map((user) => this.redis.srem(this.keys.userNodes(user), this.node)),
    ]));
  }
}
