import { Redis } from 'ioredis';
import { BusUnavailableError } from './bus.js';
import { parseRoomPayload } from './room-wire.js';
import { guarded, type RedisConnections } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

export interface RoomTapListener {
  /** A message stored in `room` with `id`, right after `prev` ('' for the room's first). */
  message(room: string, prev: string, id: string, event: string): void;
  /** The pattern subscription was lost and is back: messages may have been missed meanwhile. */
  resync(): void;
}

const noop: RoomTapListener = { message() {}, resync() {} };

/**
 * Every room's traffic at once, for a service that must see all rooms (the MQTT bridge's outbound
 * leader) rather than the rooms its members are in: a PSUBSCRIBE on the room channels, on a
 * subscriber connection of its own. Like the bus, delivery is at-most-once; `rooms()` lists every
 * room log in Redis, so a caller that lost traffic can compare each log with where it stands.
 */
export class RedisRoomTap {
  private readonly command: Redis;
  private readonly subscriber: Redis;
  private listener = noop;
  private readonly pattern: string;
  private readonly logPattern: string;

  constructor(connections: RedisConnections, private readonly keys: RedisKeys, name: string) {
    if (!(connections.command instanceof Redis) || !(connections.subscriber instanceof Redis)) {
      throw new Error('the room tap pattern-subscribes, which only one Redis (REDIS_URL) offers');
    }
    this.command = connections.command;
    this.subscriber = connections.subscriber.duplicate({ connectionName: `${name}:tap` });
    // Room channels are `<prefix>{<room>}`; the prefix has no glob characters (see the config check).
    this.pattern = `${keys.prefix}{*}`;
    this.logPattern = `${keys.prefix}{*}:log`;
    this.subscriber.on('error', () => { /* the bus reports Redis outages */ });
    this.subscriber.on('pmessage', (_pattern: string, channel: string, payload: string) => this.onMessage(channel, payload));
    this.subscriber.on('ready', () => void this.restore());
    this.subscriber.connect().catch(() => undefined);
  }

  get tapping(): boolean {
    return this.listener !== noop;
  }

  async start(listener: RoomTapListener): Promise<void> {
    this.listener = listener;
    try {
      await guarded(this.subscriber.psubscribe(this.pattern));
    } catch (error) {
      this.listener = noop;
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.listener = noop;
    await this.subscriber.punsubscribe(this.pattern).catch(() => undefined);
  }

  /** Every room that has a log (SCAN: the whole keyspace is walked, so call it rarely). */
  async rooms(): Promise<string[]> {
    if (this.command.status !== 'ready') throw new BusUnavailableError('Redis: not connected');
    const found = new Set<string>();
    const head = `${this.keys.prefix}{`;
    let cursor = '0';
    do {
      const [next, batch] = await guarded(this.command.scan(cursor, 'MATCH', this.logPattern, 'COUNT', 1000, 'TYPE', 'stream'));
      cursor = next;
      for (const key of batch) found.add(key.slice(head.length, key.length - '}:log'.length));
    } while (cursor !== '0');
    return [...found];
  }

  async close(): Promise<void> {
    this.listener = noop;
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private async restore(): Promise<void> {
    if (!this.tapping) return;
    try {
      await this.subscriber.psubscribe(this.pattern);
    } catch {
      return; // lost again; the next 'ready' retries
    }
    this.listener.resync();
  }

  /** Messages only: presence payloads are not parsed at all. */
  private onMessage(channel: string, payload: string): void {
    if (payload[0] !== 'm') return;
    const event = parseRoomPayload(channel.slice(this.keys.prefix.length + 1, -1), payload);
    if (event?.kind === 'message') this.listener.message(event.message.room, event.prev, event.message.id, event.message.event);
  }
}
