import { BusUnavailableError } from './bus.js';
import { guarded, isReady, type RedisClient, type RedisConnections } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseRoomPayload } from './room-wire.js';
import type { RoomTap, RoomTapListener } from './room-tap.js';

const noop: RoomTapListener = { message() {}, room() {}, resync() {} };

/** How often the tap reads the room list again, in case an announcement was missed. */
const RELIST_MS = 30_000;
/** How long start() waits for the tap's own subscriber to connect. */
const CONNECT_WAIT_MS = 5_000;
/** Keys per SCAN step when the tap lists logs that predate the room index. */
const SCAN_COUNT = 1_000;

/**
 * The tap on Redis. It needs no pattern subscription (a Redis Cluster's sharded pub/sub has none):
 * it subscribes to every room in the room index, and to the index channel that announces new
 * rooms, on a subscriber of its own.
 */
export class RedisRoomTap implements RoomTap {
  private readonly command: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly sharded: boolean;
  private listener = noop;
  /** channel -> room, for the rooms subscribed. */
  private readonly channels = new Map<string, string>();
  private readonly indexChannel: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(connections: RedisConnections, private readonly keys: RedisKeys, name: string) {
    this.command = connections.command;
    this.sharded = connections.sharded;
    this.subscriber = connections.newSubscriber(`${name}:tap`);
    this.indexChannel = keys.roomIndexChannel();
    this.subscriber.on('error', () => { /* the bus reports Redis outages */ });
    this.subscriber.on(this.sharded ? 'smessage' : 'message', (channel: string, payload: string) => this.onMessage(channel, payload));
    if (this.sharded) this.subscriber.on('subscribersReady', () => this.tapping && this.listener.resync());
    else this.subscriber.on('ready', () => void this.restore());
    this.subscriber.connect().catch(() => undefined);
  }

  get tapping(): boolean {
    return this.listener !== noop;
  }

  /**
   * Subscribes to the index channel and every listed room. Its subscriber may still be connecting
   * (it was opened with the tap): this waits for it, a few seconds at most.
   */
  async start(listener: RoomTapListener): Promise<void> {
    this.listener = listener;
    try {
      await this.connected();
      await guarded(this.subscribe([this.indexChannel]));
      await this.relist();
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.timer = setInterval(() => void this.relist().catch(() => undefined), RELIST_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.listener = noop;
    clearInterval(this.timer);
    const channels = [this.indexChannel, ...this.channels.keys()];
    this.channels.clear();
    await Promise.allSettled(channels.map((channel) => (this.sharded ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel))));
  }

  /** Every listed room (and, the first time, every log that predates the index). */
  async rooms(): Promise<string[]> {
    if (!isReady(this.command)) throw new BusUnavailableError('Redis: not connected');
    if ((await guarded(this.command.exists(this.keys.roomIndexComplete()))) === 0) await this.indexOldLogs();
    return guarded(this.command.smembers(this.keys.roomIndex()));
  }

  async close(): Promise<void> {
    this.listener = noop;
    clearInterval(this.timer);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  /** Subscribes to every listed room not subscribed yet. */
  private async relist(): Promise<void> {
    const fresh = (await this.rooms()).filter((room) => !this.channels.has(this.keys.roomChannel(room)));
    await this.add(fresh);
  }

  private async add(rooms: string[]): Promise<void> {
    const channels = rooms.map((room) => this.keys.roomChannel(room));
    rooms.forEach((room, i) => this.channels.set(channels[i]!, room));
    await guarded(this.subscribe(channels));
  }

  private async connected(): Promise<void> {
    const deadline = Date.now() + CONNECT_WAIT_MS;
    while (!isReady(this.subscriber)) {
      if (Date.now() > deadline) throw new BusUnavailableError('Redis: the tap\'s subscriber is not connected');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** One Redis forgets subscriptions with its connection; ioredis's cluster subscriber group does not. */
  private async restore(): Promise<void> {
    if (!this.tapping) return;
    try {
      await this.subscribe([this.indexChannel, ...this.channels.keys()]);
    } catch {
      return; // lost again; the next 'ready' retries
    }
    this.listener.resync();
  }

  private subscribe(channels: string[]): Promise<unknown> {
    if (channels.length === 0) return Promise.resolve();
    if (!this.sharded) return this.subscriber.subscribe(...channels);
    return Promise.all(channels.map((channel) => this.subscriber.ssubscribe(channel)));
  }

  private onMessage(channel: string, payload: string): void {
    if (channel === this.indexChannel) {
      if (this.channels.has(this.keys.roomChannel(payload))) return;
      this.add([payload]).then(() => this.listener.room(payload), () => this.listener.resync());
      return;
    }
    const room = this.channels.get(channel);
    if (room === undefined || payload[0] !== 'm') return; // presence is not parsed at all
    const event = parseRoomPayload(room, payload);
    if (event?.kind === 'message') this.listener.message(room, event.prev, event.message.id, event.message.event);
  }

  /** Lists the logs written before the room index existed: a key scan of every master, once per deployment. */
  private async indexOldLogs(): Promise<void> {
    const head = `${this.keys.prefix}{`;
    const nodes = 'nodes' in this.command ? this.command.nodes('master') : [this.command];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, batch] = await guarded(node.scan(cursor, 'MATCH', `${head}*}:log`, 'COUNT', SCAN_COUNT, 'TYPE', 'stream'));
        cursor = next;
        const rooms = batch.map((key) => key.slice(head.length, key.length - '}:log'.length));
        if (rooms.length > 0) await guarded(this.command.sadd(this.keys.roomIndex(), ...rooms));
      } while (cursor !== '0');
    }
    await guarded(this.command.set(this.keys.roomIndexComplete(), '1'));
  }
}
