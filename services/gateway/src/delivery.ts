import { joinedJson, type PresenceEvent } from '@chat/protocol';
import type { FeedSink, PresenceStore, RoomMessage, UserEvent } from '@chat/cluster';
import { nowMs, type GatewayMetrics, type Logger } from '@chat/runtime';
import { roomTopic, type LocalTopics } from './connection.js';
import type { Membership } from './membership.js';
import type { RoomSizes } from './room-sizes.js';
import type { SlowConsumers } from './slow-consumers.js';

/**
 * Local fan-out of what the bus brings: one uWS topic publish per message, however many members.
 * uWS writes every message to every subscriber (its ceiling is above MAX_BACKPRESSURE); members
 * that fall behind are closed by SlowConsumers, never skipped.
 */
export class Delivery implements FeedSink {
  private topics: LocalTopics = { publish: () => 0 };

  constructor(
    private readonly membership: Membership,
    private readonly presenceStore: PresenceStore,
    private readonly sizes: RoomSizes,
    private readonly slowConsumers: SlowConsumers,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  attach(topics: LocalTopics): void {
    this.topics = topics;
  }

  messages(room: string, messages: RoomMessage[], receivedAt?: number): void {
    for (const message of messages) this.publish(room, message.event);
    if (receivedAt !== undefined) this.metrics.deliveryLatency(Math.max(0, nowMs() - receivedAt) / 1000);
  }

  /** Per-user presence, unless the room is large (then its members get counts: see RoomSizes). */
  presence(room: string, event: PresenceEvent, json: string): void {
    if (this.sizes.admit(room, event.state)) this.publish(room, json);
  }

  /**
   * An event about one user (typing, a receipt) skips that user's own connections, which the room's
   * topic cannot do: those go to each other connection in turn.
   */
  signal(room: string, json: string, exceptUser?: string): void {
    if (exceptUser === undefined) {
      this.metrics.delivered(this.topics.publish(roomTopic(room), json));
      return;
    }
    let written = 0;
    for (const session of this.membership.sessionsIn(room)) {
      if (session.user !== exceptUser && session.write(json)) written += 1;
    }
    this.metrics.delivered(written);
  }

  /**
   * Lost messages cannot be replayed: members get a `joined` with gap true, as a client resuming
   * would, before anything stored after the loss (the feed waits for this). When the cluster's
   * presence cannot be read, the members known here stand in: the gap is never left untold.
   */
  async gap(room: string): Promise<void> {
    this.log.warn('messages lost before this node could backfill them', { room });
    const members = await this.presenceStore.members(room).catch((error: unknown) => {
      this.log.warn('presence unreadable; telling members about a gap with the members known here', { room, error });
      return this.membership.usersIn(room);
    });
    this.publish(room, joinedJson(room, members, [], true));
  }

  /** A direct (or a sync of the user's own state) reaches every local connection of the user but the one that sent it. */
  user(event: UserEvent): void {
    for (const session of this.membership.connectionsOf(event.user)) {
      if (session.conn.id !== event.originConn) session.write(event.event);
    }
    if (event.sync !== true) this.metrics.deliveryLatency(Math.max(0, nowMs() - event.receivedAt) / 1000);
  }

  /** One frame to every local member of a room; SlowConsumers checks sockets by the bytes published. */
  private publish(room: string, json: string): void {
    this.metrics.delivered(this.topics.publish(roomTopic(room), json));
    this.slowConsumers.published(room, Buffer.byteLength(json));
  }
}
