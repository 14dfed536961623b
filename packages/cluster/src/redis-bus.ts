import { encodeChangeBody } from '@chat/protocol';
import type { Bus, BusListener, ChangeDraft, ChangeRefusal, DirectDraft, DirectOutcome, MessageDraft, Published } from './bus.js';
import type { LeftReason } from '@chat/protocol';
import { guarded, isReady, type RedisClient, type RedisConnections } from './redis-connection.js';
import { RedisDirectory } from './redis-directory.js';
import { RoomAppends } from './redis-room-appends.js';
import { RoomLister } from './redis-room-index.js';
import type { RedisKeys } from './redis-keys.js';
import type { PublishCommand } from './redis-scripts.js';
import { randomBytes } from 'node:crypto';
import {
  closedPayload, directPayload, disconnectPayload, evictPayload, parseDirectPayload, parseNodeControl, parseRoomPayload, signalPayload, syncPayload,
} from './room-wire.js';

const ignore: BusListener = { room() {}, user() {}, resync() {}, status() {} };

/** How long a disconnect waits for the nodes that heard it to say how many connections they closed. */
const DISCONNECT_REPLY_MS = 1_000;

interface PendingDisconnect {
  /** How many nodes heard the request; undefined until the publishes answered (a reply may come first). */
  expected: number | undefined;
  replies: number;
  closed: number;
  done(): void;
}

/**
 * The cluster bus on Redis or a Redis Cluster: a room message is XADDed to the room's stream and
 * published in one Lua script, so the stream id is the message id and pub/sub order is stream order.
 * A node holds a room's channel only while it has members there. Direct messages travel on one
 * channel per node, to the nodes the directory lists for the user (RedisDirectory).
 *
 * On one Redis, channels are classic (SUBSCRIBE on a connection of its own, which RedisBus restores
 * after a reconnect). On a Redis Cluster they are sharded (SSUBSCRIBE/SPUBLISH: a shard carries only
 * its rooms' traffic), held by ioredis's subscriber group, one connection per master, which
 * resubscribes after a slot migration or a failover. Either way, whenever the subscriptions are
 * (re)established the directory is written again and the listener is told to resync (backfill).
 */
export class RedisBus implements Bus {
  private listener = ignore;
  private readonly rooms = new Map<string, string>();
  private readonly directory: RedisDirectory;
  private readonly lister: RoomLister;
  private readonly appends: RoomAppends;
  private readonly nodeChannel: string;
  private readonly node: string;
  private readonly disconnects = new Map<string, PendingDisconnect>();
  private readonly command: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly sharded: boolean;
  private readonly publishCommand: PublishCommand;
  private wasConnected: boolean;
  /** The subscriber side is up with every channel subscribed. */
  private subscribed = false;

  /**
   * `node` names this process in the directory: unique, and new for every start. An idempotency key
   * is kept `idempotencyMs` after the message it first stored.
   */
  constructor(
    connections: RedisConnections,
    private readonly keys: RedisKeys,
    private readonly historyLimit: number,
    node: string,
    private readonly idempotencyMs: number,
  ) {
    ({ command: this.command, subscriber: this.subscriber, sharded: this.sharded } = connections);
    this.publishCommand = this.sharded ? 'SPUBLISH' : 'PUBLISH';
    this.directory = new RedisDirectory(this.command, keys, node, this.publishCommand, () => this.subscribed && isReady(this.command));
    this.lister = new RoomLister(this.command, keys, this.publishCommand);
    this.appends = new RoomAppends(this.command, keys, historyLimit, idempotencyMs, this.publishCommand);
    this.node = node;
    this.nodeChannel = keys.nodeChannel(node);
    this.wasConnected = this.connected;
    if (this.sharded) {
      this.subscriber.on('smessage', (channel: string, payload: string) => this.onMessage(channel, payload));
      // The subscriber group resubscribed every channel (after a start, a slot move, a failover).
      this.subscriber.on('subscribersReady', () => this.onSubscribed());
      this.subscriber.on('ready', () => void this.restoreSubscriptions());
      this.subscriber.on('-subscriber', () => (this.subscribed = false));
    } else {
      this.subscriber.on('message', (channel: string, payload: string) => this.onMessage(channel, payload));
      this.subscriber.on('ready', () => void this.restoreSubscriptions());
    }
    this.subscriber.on('close', () => (this.subscribed = false));
    // Directory writes fail while the command connection is down; once both are up it is rewritten.
    this.command.on('ready', () => this.subscribed && this.restoreDirectory());
    for (const client of [this.command, this.subscriber]) {
      client.on('ready', () => this.reportStatus());
      client.on('close', () => this.reportStatus());
      client.on('end', () => this.reportStatus());
    }
  }

  get connected(): boolean {
    return isReady(this.command) && isReady(this.subscriber);
  }

  listen(listener: BusListener): void {
    this.listener = listener;
  }

  async publish(draft: MessageDraft | ChangeDraft): Promise<Published> {
    if ('change' in draft) return this.publishChange(draft);
    const published = await this.appends.append(draft);
    // Stored and acked whatever the listing does: a failed listing is retried at the next store here.
    this.lister.list(draft.room).catch(() => undefined);
    return published;
  }

  /** A change goes into the stream like a message, checked and applied to its target's state by chatChange. */
  private async publishChange(draft: ChangeDraft): Promise<Published> {
    const { room, change } = draft;
    const body = encodeChangeBody(change, draft.from, draft.ts);
    const log = this.keys.roomLog(room);
    const key = draft.idempotencyKey;
    const once = key === undefined ? log : this.keys.roomOnce(room, key);
    // Messages of this room handed over earlier in this turn go first, on the same connection: the
    // stream keeps the order in which the node received them.
    this.appends.flush(room);
    const [id, outcome] = await guarded(this.command.chatChange(
      log, once, this.keys.roomSerial(room), this.keys.roomState(room), this.keys.roomTip(room),
      this.historyLimit, this.keys.roomChannel(room), body, draft.receivedAt, key === undefined ? 0 : this.idempotencyMs, this.publishCommand,
      change.kind, change.target, draft.from, draft.moderator ? '1' : '0', change.kind === 'edit' ? change.text : '',
      change.kind === 'reaction' ? change.emoji : '', change.kind === 'reaction' && change.on ? '1' : '0', draft.maxReactions, draft.ts,
    ));
    const refusal = CHANGE_REFUSALS[outcome];
    if (refusal !== undefined) return { room, id: '', duplicate: false, refused: refusal };
    if (outcome === 2) return { room, id, duplicate: false, unchanged: true };
    return { room, id, duplicate: outcome === 1 };
  }

  /**
   * Asks every node listed for `user` to close its connections (on their own node channels, as a
   * direct travels), and sums the counts they send back, waiting at most DISCONNECT_REPLY_MS for them.
   */
  async disconnect(user: string): Promise<number> {
    const request = randomBytes(8).toString('hex');
    const pending: PendingDisconnect = { expected: undefined, replies: 0, closed: 0, done: () => undefined };
    const finished = new Promise<void>((resolve) => {
      pending.done = resolve;
    });
    this.disconnects.set(request, pending);
    try {
      pending.expected = await this.directory.reach(user, disconnectPayload(user, this.node, request));
      if (pending.replies >= pending.expected) return pending.closed;
      const timer = setTimeout(pending.done, DISCONNECT_REPLY_MS);
      await finished;
      clearTimeout(timer);
      return pending.closed;
    } finally {
      this.disconnects.delete(request);
    }
  }

  /** Travels as a disconnect does, on the channels of the nodes the directory lists for the user; no answer is awaited. */
  async evict(room: string, user: string, reason: LeftReason): Promise<void> {
    await this.directory.reach(user, evictPayload(user, room, reason));
  }

  async signal(room: string, json: string, exceptUser?: string): Promise<void> {
    await guarded(this.command.call(this.publishCommand, this.keys.roomChannel(room), signalPayload(json, exceptUser)));
  }

  /** Travels as a direct does, on the channels of the nodes the directory lists for the user. */
  async sync(user: string, json: string, originConn: string): Promise<void> {
    await this.directory.reach(user, syncPayload(user, originConn, json));
  }

  direct(draft: DirectDraft): Promise<DirectOutcome> {
    return this.directory.direct(draft, directPayload(draft), this.idempotencyMs);
  }

  async subscribeRoom(room: string): Promise<void> {
    const channel = this.keys.roomChannel(room);
    this.rooms.set(channel, room);
    try {
      await guarded(this.subscribe(channel));
    } catch (error) {
      this.rooms.delete(channel);
      throw error;
    }
  }

  async unsubscribeRoom(room: string): Promise<void> {
    const channel = this.keys.roomChannel(room);
    if (!this.rooms.delete(channel)) return;
    // While disconnected there is nothing to undo: only channels still listed are restored.
    await (this.sharded ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel)).catch(() => undefined);
  }

  subscribeUser(user: string): Promise<void> {
    return this.directory.add(user);
  }

  unsubscribeUser(user: string): Promise<void> {
    return this.directory.remove(user);
  }

  async close(): Promise<void> {
    this.listener = ignore;
    await this.directory.close().catch(() => undefined);
    await Promise.allSettled([this.command.quit(), this.subscriber.quit()]);
  }

  /** Sharded channels must be subscribed one slot at a time: one call per channel. */
  private subscribe(...channels: string[]): Promise<unknown> {
    if (!this.sharded) return this.subscriber.subscribe(...channels);
    return Promise.all(channels.map((channel) => this.subscriber.ssubscribe(channel)));
  }

  /**
   * After the subscriber side (re)connects. One Redis forgets subscriptions with the connection, so
   * every channel is subscribed again; ioredis's cluster subscriber group keeps its own list and
   * only needs this node's channel once (a repeat would be harmless).
   */
  private async restoreSubscriptions(): Promise<void> {
    try {
      await this.subscribe(this.nodeChannel, ...(this.sharded ? [] : this.rooms.keys()));
    } catch {
      return; // the connection dropped again; the next 'ready' retries
    }
    this.onSubscribed();
  }

  private onSubscribed(): void {
    this.subscribed = true;
    if (isReady(this.command)) this.restoreDirectory();
    this.listener.resync();
    this.reportStatus();
  }

  /** Redis may have lost the directory (a restart), or a sender dropped this node from it while it was away. */
  private restoreDirectory(): void {
    this.directory.restore().catch(() => undefined); // retried by the directory itself, or at the next 'ready'
  }

  private reportStatus(): void {
    const connected = this.connected;
    if (connected === this.wasConnected) return;
    this.wasConnected = connected;
    this.listener.status(connected);
  }

  private onMessage(channel: string, payload: string): void {
    const room = this.rooms.get(channel);
    if (room !== undefined) {
      const event = parseRoomPayload(room, payload);
      if (event !== undefined) this.listener.room(event);
      return;
    }
    if (channel === this.nodeChannel) this.onDirectPayload(payload);
  }

  private onDirectPayload(payload: string): void {
    const control = parseNodeControl(payload);
    if (control !== undefined) {
      this.onControl(control);
      return;
    }
    const { users, originConn, receivedAt, event } = parseDirectPayload(payload);
    for (const user of users) {
      if (this.directory.users.has(user)) this.listener.user({ user, originConn, receivedAt, event });
    }
  }

  private onControl(control: NonNullable<ReturnType<typeof parseNodeControl>>): void {
    if (control.kind === 'closed') {
      const pending = this.disconnects.get(control.request);
      if (pending === undefined) return;
      pending.closed += control.count;
      pending.replies += 1;
      if (pending.expected !== undefined && pending.replies >= pending.expected) pending.done();
      return;
    }
    if (control.kind === 'sync') {
      if (this.directory.users.has(control.user)) {
        this.listener.user({ user: control.user, event: control.json, originConn: control.originConn, receivedAt: Date.now(), sync: true });
      }
      return;
    }
    if (control.kind === 'evict') {
      if (this.directory.users.has(control.user)) this.listener.evict?.(control.room, control.user, control.reason);
      return;
    }
    const closed = this.listener.disconnect?.(control.user) ?? 0;
    const reply = closedPayload(control.request, closed);
    // Best effort: an unanswered request only makes the asking node wait out its timeout.
    this.command.call(this.publishCommand, this.keys.nodeChannel(control.replyNode), reply).catch(() => undefined);
  }
}

/** The refusals chatChange answers with, by outcome number. */
const CHANGE_REFUSALS: Partial<Record<number, ChangeRefusal>> = { 3: 'not_found', 4: 'forbidden', 5: 'too_many_reactions' };
