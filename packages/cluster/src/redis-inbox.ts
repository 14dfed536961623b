import { messageJson } from '@chat/protocol';
import { BusUnavailableError, type DirectDraft, type MessageDraft, type RoomMessage } from './bus.js';
import { publishArgs } from './redis-bus.js';
import { directPayload, storedBody } from './room-wire.js';
import { guarded, type RedisClient } from './redis-connection.js';
import { sendDirect } from './redis-directory.js';
import { RoomLister } from './redis-room-index.js';
import type { RedisKeys } from './redis-keys.js';
import type { PublishCommand } from './redis-scripts.js';

/**
 * One delivery of a message by a broker that may deliver it again (MQTT QoS 1): `id` names the
 * delivery stably across redeliveries (for MQTT, the session and packet id), `fingerprint` the
 * content, so that an id reused later for another message is not taken for a redelivery.
 */
export interface Delivery {
  id: string;
  fingerprint: string;
}

/**
 * Exactly-once intake for at-least-once deliveries. A message is written together with a receipt
 * of its delivery in one MULTI/EXEC, so after any crash either both exist or neither: a redelivery
 * whose receipt is found was handled already and must only be acknowledged. Receipts expire after
 * `receiptTtlMs`, which must exceed the longest time a broker may hold a message before redelivering.
 *
 * Room posts take the same script as RedisBus.publish (append to the room log and publish, in one
 * step), so they get ids, history and order like any other message.
 */
export class RedisInbox {
  private readonly lister: RoomLister;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly historyLimit: number,
    /** Also the window of a draft's own idempotency key, should one carry it. */
    private readonly receiptTtlMs: number,
    /** PUBLISH on one Redis, SPUBLISH on a Redis Cluster (RedisConnections.sharded). */
    private readonly publishCommand: PublishCommand = 'PUBLISH',
  ) {
    this.lister = new RoomLister(redis, keys, publishCommand);
  }

  /** True when this delivery was already handled. `room` is the room of a post, undefined for a direct. */
  async handled(room: string | undefined, delivery: Delivery): Promise<boolean> {
    const stored = await guarded(this.redis.get(this.receiptKey(room, delivery)));
    return stored === delivery.fingerprint;
  }

  /** Stores and publishes a room message and its receipt atomically. Rejects with BusUnavailableError. */
  async publish(draft: MessageDraft, delivery: Delivery): Promise<RoomMessage> {
    const body = storedBody(draft);
    const receipt = this.receiptKey(draft.room, delivery);
    const batch = this.redis.multi()
      .chatPublish(...publishArgs(this.keys, this.historyLimit, this.receiptTtlMs, draft, body, this.publishCommand))
      .set(receipt, delivery.fingerprint, 'PX', this.receiptTtlMs);
    const [id] = await this.exec<[string, number, string]>(batch.exec(), receipt);
    this.lister.list(draft.room).catch(() => undefined); // retried at the next post to the room
    return { room: draft.room, id, event: messageJson(draft.room, id, body) };
  }

  /**
   * RedisBus.direct with a receipt: delivers `event` to `to`'s connections and the sender's other
   * ones (all but `originConn`); false when `to` has none. The receipt is claimed before delivery and
   * given back when nobody was reached; directs are at most once, so a crash after the claim loses
   * the direct rather than doubling it.
   */
  async direct(to: string, from: string, event: string, originConn: string, receivedAt: number, delivery: Delivery): Promise<boolean> {
    const draft: DirectDraft = { to, from, event, originConn, receivedAt, id: '' };
    const claim = { key: this.receiptKey(undefined, delivery), value: delivery.fingerprint, ttlMs: this.receiptTtlMs };
    const outcome = await sendDirect(this.redis, this.keys, this.publishCommand, draft, directPayload(draft), claim);
    return outcome.reached;
  }

  /** A room's receipts share its hash slot, so the MULTI stays single-slot on Redis Cluster. */
  private receiptKey(room: string | undefined, delivery: Delivery): string {
    return room === undefined ? `${this.keys.prefix}inbox:${delivery.id}` : `${this.keys.prefix}{${room}}:inbox:${delivery.id}`;
  }

  /**
   * The script's result. When the script itself failed inside the transaction (say NOSCRIPT after a
   * SCRIPT FLUSH), the receipt written beside it is removed, so the redelivery is not skipped.
   */
  private async exec<T>(run: Promise<[error: Error | null, result: unknown][] | null>, receipt: string): Promise<T> {
    const results = await guarded(run);
    const first = results?.[0];
    if (first === undefined) throw new BusUnavailableError('Redis: transaction aborted');
    if (first[0] !== null) {
      await this.redis.del(receipt).catch(() => undefined);
      throw new BusUnavailableError(`Redis: ${first[0].message}`, { cause: first[0] });
    }
    return first[1] as T;
  }
}
