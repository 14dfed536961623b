import { BusUnavailableError, type MessageDraft, type Published } from './bus.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { PublishCommand } from './redis-scripts.js';
import { storedBody } from './room-wire.js';

/** The most messages one script call appends: bounds how long one call holds Redis (well under a millisecond). */
const MAX_PER_CALL = 100;

interface Waiting {
  draft: MessageDraft;
  resolve(published: Published): void;
  reject(error: unknown): void;
}

/**
 * Room appends grouped per event-loop turn: every message a room gets in one turn (the frames of
 * one read, a burst from the API) goes to Redis in one chatPublish call, in the order they were
 * handed over. The script's fixed cost (its call, the read and write of the room's newest id) is
 * then paid once per room and turn rather than once per message; each message is still stored,
 * checked against its own idempotency key and published on its own.
 *
 * A call that fails rejects every message in it with BusUnavailableError: none, some or all of
 * them may be stored, as for a single message whose reply was lost, so a sender resends with its key.
 */
export class RoomAppends {
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly historyLimit: number,
    private readonly idempotencyMs: number,
    private readonly publishCommand: PublishCommand,
  ) {}

  append(draft: MessageDraft): Promise<Published> {
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) setImmediate(() => this.flushAll());
      const entry = { draft, resolve, reject };
      const room = this.waiting.get(draft.room);
      if (room === undefined) this.waiting.set(draft.room, [entry]);
      else room.push(entry);
    });
  }

  /**
   * Sends what waits for `room` at once: a caller about to write something else of the room on the
   * same connection (a change) keeps the stream in the order the node received them.
   */
  flush(room: string): void {
    const batch = this.waiting.get(room);
    if (batch === undefined) return;
    this.waiting.delete(room);
    this.sendInCalls(batch);
  }

  private flushAll(): void {
    const rooms = [...this.waiting.values()];
    this.waiting.clear();
    for (const batch of rooms) this.sendInCalls(batch);
  }

  private sendInCalls(batch: Waiting[]): void {
    for (let at = 0; at < batch.length; at += MAX_PER_CALL) this.send(batch.slice(at, at + MAX_PER_CALL));
  }

  private send(batch: Waiting[]): void {
    const args = appendArgs(this.keys, this.historyLimit, this.idempotencyMs, batch.map((w) => w.draft), this.publishCommand);
    // Forgotten safely: both outcomes go to the senders waiting on this batch, and neither handler throws.
    void guarded(this.redis.chatPublish(...args)).then(
      (results) => batch.forEach((w, i) => {
        const result = results[i];
        if (result === undefined) w.reject(new BusUnavailableError('Redis: the append answered for fewer messages than it was given'));
        else w.resolve({ room: w.draft.room, id: result[0], duplicate: result[1] === 1 });
      }),
      (error: unknown) => batch.forEach((w) => w.reject(error)),
    );
  }
}

/** The chatPublish script's arguments for drafts of one room; every caller of the script goes through here. */
export function appendArgs(keys: RedisKeys, historyLimit: number, idempotencyMs: number, drafts: readonly MessageDraft[], publish: PublishCommand): [number, ...(string | number)[]] {
  const room = drafts[0]!.room;
  const log = keys.roomLog(room);
  const onceKeys = drafts.map((d) => (d.idempotencyKey === undefined ? log : keys.roomOnce(room, d.idempotencyKey)));
  const perMessage = drafts.flatMap((d) => [d.receivedAt, d.idempotencyKey === undefined ? 0 : idempotencyMs, storedBody(d)]);
  return [3 + drafts.length, log, keys.roomTip(room), keys.roomSerial(room), ...onceKeys, historyLimit, keys.roomChannel(room), publish, ...perMessage];
}
