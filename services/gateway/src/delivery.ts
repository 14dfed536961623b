import type { PresenceEvent } from '@chat/protocol';
import type { FeedSink, PresenceStore, RoomMessage, UserEvent } from '@chat/cluster';
import { nowMs, type GatewayMetrics, type Logger } from '@chat/runtime';
import { roomTopic, type LocalTopics } from './connection.js';
import type { Session } from './session.js';

/**
 * Local fan-out of what the bus brings: one uWS topic publish per message, however many members.
 * uWS skips a subscriber whose buffer is over maxBackpressure; `congested` tracks those so the
 * skipped frames are counted (a sampler adds sessions over the limit, drain removes them).
 */
export class Delivery implements FeedSink {
  readonly congested = new Set<Session>();
  private topics: LocalTopics = { publish: () => 0 };

  constructor(
    private readonly users: ReadonlyMap<string, readonly Session[]>,
    private readonly presenceStore: PresenceStore,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  attach(topics: LocalTopics): void {
    this.topics = topics;
  }

  messages(room: string, messages: RoomMessage[], receivedAt?: number): void {
    const topic = roomTopic(room);
    const skipped = this.congestedIn(room);
    let written = 0;
    for (const message of messages) written += this.topics.publish(topic, message.event) - skipped;
    this.metrics.delivered(written);
    if (skipped > 0) this.metrics.backpressureDropped(skipped * messages.length);
    if (receivedAt !== undefined) this.metrics.deliveryLatency(Math.max(0, nowMs() - receivedAt) / 1000);
  }

  presence(room: string, _event: PresenceEvent, json: string): void {
    this.metrics.delivered(this.topics.publish(roomTopic(room), json));
  }

  signal(room: string, json: string): void {
    this.metrics.delivered(this.topics.publish(roomTopic(room), json));
  }

  /** Lost messages cannot be replayed: members get a `joined` with gap true, as a client resuming would. */
  gap(room: string): void {
    this.log.warn('messages lost before this node could backfill them', { room });
    this.presenceStore.members(room).then(
      (members) => {
        const frame = JSON.stringify({ type: 'joined', room, members, history: [], gap: true });
        this.metrics.delivered(this.topics.publish(roomTopic(room), frame));
      },
      (error: unknown) => this.log.warn('could not tell members about a gap', { room, error }),
    );
  }

  /** A direct reaches every local connection of the user but the one that sent it. */
  user(event: UserEvent): void {
    for (const session of this.users.get(event.user) ?? []) {
      if (session.conn.id !== event.originConn) session.conn.send(event.event);
    }
    this.metrics.deliveryLatency(Math.max(0, nowMs() - event.receivedAt) / 1000);
  }

  /** Adds sessions whose buffer passed `limit`; called by a timer. */
  sample(sessions: Iterable<Session>, limitBytes: number): void {
    for (const session of sessions) if (session.conn.bufferedBytes() > limitBytes) this.congested.add(session);
  }

  relieve(session: Session, limitBytes: number): void {
    if (session.closed || session.conn.bufferedBytes() <= limitBytes) this.congested.delete(session);
  }

  private congestedIn(room: string): number {
    if (this.congested.size === 0) return 0;
    let n = 0;
    for (const session of this.congested) if (session.rooms.has(room)) n++;
    return n;
  }
}
