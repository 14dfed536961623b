import type { Bus, HistoryStore, ModerationStore, PresenceStore, UserEvent } from '@chat/cluster';
import { isMessageId } from '@chat/protocol';
import type { BridgeMetrics, Logger } from '@chat/runtime';
import type { BridgeConfig } from './config.js';
import { DevicePresence } from './device-presence.js';
import { Inbound, deviceConn } from './inbound.js';
import { Leadership } from './leadership.js';
import { LinkLostError, MqttLink, readRetained, type InboundMessage } from './mqtt-link.js';
import { OutboundFeed } from './outbound-feed.js';
import type { CursorStore, DeviceRoomStore, Lease, Publisher, RoomTap } from './ports.js';
import { DropReason, POST_FILTERS, ROOM_MESSAGES_FILTER, STATUS_FILTERS, roomOfMessagesTopic, syncMarkerTopic, userDirectTopic } from './topics.js';

export interface BridgeDeps {
  config: BridgeConfig;
  bus: Bus;
  history: HistoryStore;
  presence: PresenceStore;
  moderation: ModerationStore;
  state: CursorStore & DeviceRoomStore;
  lease: Lease;
  tap: RoomTap;
  metrics: BridgeMetrics;
  log: Logger;
}

/** How long a leader stepping down waits for the broker to acknowledge what it sent. */
const HANDOVER_MS = 2_000;

/** A post handled after the term ended: the broker keeps it for the next leader. */
class NotLeadingError extends Error {
  constructor() {
    super('not the leader: the post stays at the broker for the next one');
    this.name = 'NotLeadingError';
  }
}

/**
 * One replica. Every replica follows device statuses on a session of its own. The one elected
 * leader holds the single persistent session that takes every device post (one client, so one
 * device's posts are stored in the order it published them), carries chat to MQTT, and keeps device
 * presence. A leader's MQTT link lives for its term only: a new leader takes the session over on
 * the same client id, which ends any older connection at the broker, and the broker redelivers what
 * was not acknowledged first. Posts wait at the broker while Redis is unreachable or no leader is connected.
 */
export class Bridge {
  /** The client id of the shared inbound session. */
  readonly session: string;
  private readonly watch: MqttLink;
  private lead: MqttLink | undefined;
  private readonly devices: DevicePresence;
  private readonly feed: OutboundFeed;
  private readonly leadership: Leadership;
  private readonly inbound: Inbound;
  /** Posts are handled one at a time in this process, across links: a redelivery never overlaps its first delivery. */
  private posts: Promise<void> = Promise.resolve();
  private syncs = 0;
  /** Fires when the leader's link stayed down too long: see watchAway(). */
  private awayTimer: NodeJS.Timeout | undefined;
  private originFixed = false;
  private busUp = false;

  constructor(private readonly deps: BridgeDeps) {
    const { config, bus, log, metrics } = deps;
    this.session = config.mqttClientId;
    this.devices = new DevicePresence({ bus, presence: deps.presence, rooms: deps.state, presenceTtlMs: config.presenceTtlMs, log });
    this.inbound = new Inbound({ bus, moderation: deps.moderation, devices: this.devices, metrics, log, maxTextChars: config.maxTextChars });
    this.watch = new MqttLink({
      ...this.credentials(),
      clientId: `${this.session}-${config.nodeId}`,
      filters: [...STATUS_FILTERS],
      log,
      onStatus: (up) => metrics.mqttConnected(up),
    }, this.inbound.handle);
    this.leadership = new Leadership(deps.lease, config.nodeId, { elected: (token) => this.elected(token), deposed: () => this.deposed() }, log);
    this.feed = new OutboundFeed({
      history: deps.history,
      cursors: deps.state,
      link: this.publisher(),
      leading: () => this.leadership.leading,
      fenced: () => this.leadership.resign('another replica holds the lease'),
      metrics,
      log,
      // Live messages wait in mqtt.js's queue rather than fall back to the room log, which keeps only
      // HISTORY_LIMIT messages per room: a burst faster than the broker acknowledges must not outrun it.
      maxInflight: 20_000,
    });
    bus.listen({ room() {}, resync() {}, user: (event) => this.onDirect(event), status: (up) => this.onBusStatus(up) });
    metrics.mqttConnected(false);
    metrics.busConnected(bus.connected);
  }

  /**
   * /readyz: the broker and Redis are both reachable, the outbound origin is fixed, and the lead is
   * settled; the leader is ready once its session is subscribed (so that from the first ready
   * replica on, the broker keeps every device post for the bridge) and its outbound cursors are read.
   */
  get ready(): boolean {
    const leader = this.leadership.leading ? this.lead?.connected === true && this.feed.sending : this.leadership.settled;
    return leader && this.watch.connected && this.deps.bus.connected && this.originFixed;
  }

  start(): void {
    if (this.deps.bus.connected) this.onBusStatus(true);
    this.leadership.start();
  }

  /** SIGTERM: hand the lead over (the inbound session stays at the broker for the next leader), then leave. */
  async stop(): Promise<void> {
    clearTimeout(this.awayTimer);
    await this.leadership.stop();
    await this.watch.close();
  }

  private credentials() {
    const { mqttUrl, mqttUsername, mqttPassword } = this.deps.config;
    return { url: mqttUrl, username: mqttUsername, password: mqttPassword };
  }

  /** The outbound feed's view of the broker: the current term's link, or a refusal between terms. */
  private publisher(): Publisher {
    const lead = () => this.lead;
    return {
      get connected() { return lead()?.connected ?? false; },
      publish: (topic, payload, options) => lead()?.publish(topic, payload, options) ?? Promise.reject(new LinkLostError()),
    };
  }

  private async elected(token: string): Promise<void> {
    await this.feed.start(token);
    await this.deps.tap.start({
      message: (room, prev, id, event) => this.feed.message(room, prev, id, event),
      // A new room's first messages may have gone by before the tap subscribed: read it from its cursor.
      room: (room) => void this.feed.catchUp([room]).catch((error: unknown) => this.deps.log.warn('reading a new room failed; the next catch-up retries', { room, error })),
      resync: () => void this.catchUp(),
    });
    await this.devices.lead();
    if (!this.leadership.leading) return; // the term ended meanwhile: deposed() has run or will
    this.lead = new MqttLink({
      ...this.credentials(),
      clientId: this.session,
      sessionExpirySec: this.deps.config.mqttSessionExpirySec,
      filters: [...POST_FILTERS],
      log: this.deps.log,
      onStatus: (up) => this.onLeadLink(up),
      mayConnect: () => this.leadership.leading,
      onTakenOver: () => this.leadership.resign('another connection took the inbound session'),
    }, (message) => this.post(message));
    this.watchAway();
    if (this.busUp) this.lead.resume();
  }

  private async deposed(): Promise<void> {
    this.syncs++;
    clearTimeout(this.awayTimer);
    await this.deps.tap.stop();
    await this.feed.stop(HANDOVER_MS);
    await this.devices.follow();
    const lead = this.lead;
    this.lead = undefined;
    // Ends the connection, not the session: the broker keeps queueing posts for the next leader.
    await lead?.close();
  }

  /** A device post or direct on the leader's session: stored only while this replica leads. */
  private post(message: InboundMessage): Promise<void> {
    const run = this.posts.then(async () => {
      if (!this.leadership.leading) throw new NotLeadingError();
      await this.inbound.handle(message);
    });
    this.posts = run.catch(() => undefined);
    return run;
  }

  private onLeadLink(up: boolean): void {
    if (!up) {
      this.syncs++;
      this.feed.unsync();
      this.watchAway();
      return;
    }
    clearTimeout(this.awayTimer);
    void this.sync(++this.syncs);
  }

  /**
   * A leader that cannot reach the broker holds up every device post (they wait in the session) and
   * all of chat to MQTT, while Redis would keep renewing its lease: after three lease periods
   * without its link, it gives the lease back so a replica that can reach the broker takes over.
   */
  private watchAway(): void {
    clearTimeout(this.awayTimer);
    const awayMs = this.deps.config.leaderLeaseMs * 3;
    this.awayTimer = setTimeout(() => {
      if (!this.leadership.leading || this.lead?.connected === true || !this.busUp) return;
      void this.leadership.stepDown('the broker has been unreachable for three lease periods', awayMs);
    }, awayMs);
  }

  /**
   * Reads the broker's retained latest message of every room, after this connection was established
   * (so the previous leader's connection is gone) and before anything is sent on it.
   */
  private async sync(generation: number): Promise<void> {
    const { log, config } = this.deps;
    const clientId = `${this.session}-${config.nodeId}-sync`;
    const marker = syncMarkerTopic(clientId);
    if (marker === undefined) {
      log.error('cannot read the retained room messages: the client id is not a valid topic level', { clientId });
      return;
    }
    while (generation === this.syncs && this.leadership.leading) {
      try {
        const retained = await readRetained(this.credentials(), clientId, ROOM_MESSAGES_FILTER, marker);
        if (generation !== this.syncs) return;
        this.feed.sync(retainedIds(retained));
        log.info('outbound cursors read from the broker', { rooms: retained.size });
        await this.catchUp();
        return;
      } catch (error) {
        log.warn('reading the retained room messages failed; retrying', { error });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /** Compares every room log with its cursor: after a sync, and whenever the tap lost traffic. */
  private async catchUp(): Promise<void> {
    while (this.leadership.leading) {
      try {
        await this.feed.catchUp(await this.deps.tap.rooms());
        return;
      } catch (error) {
        this.deps.log.warn('outbound catch-up failed; retrying', { error });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /** Direct messages to online devices (the leader lists them in the directory). At most once, like every direct. */
  private onDirect(event: UserEvent): void {
    // A sync (a user's read marker for its other connections) is no message for a device.
    if (event.sync === true || !this.leadership.leading || event.originConn === deviceConn(event.user)) return;
    const topic = userDirectTopic(event.user);
    if (topic === undefined || this.lead === undefined) return;
    this.lead.publish(topic, event.event).then(
      () => this.deps.metrics.crossed('to_mqtt'),
      (error: unknown) => {
        this.deps.metrics.dropped(DropReason.PublishFailed);
        this.deps.log.error('a direct message to a device was not delivered', { user: event.user, error });
      },
    );
  }

  private onBusStatus(up: boolean): void {
    this.busUp = up;
    this.deps.metrics.busConnected(up);
    if (up) {
      this.deps.log.info('redis reachable: connecting to the broker');
      this.fixOrigin();
      this.watch.resume();
      this.lead?.resume();
    } else {
      this.deps.log.warn('redis unreachable: leaving the broker until it is back; device messages wait there');
      this.watch.suspend();
      this.lead?.suspend();
    }
  }

  private fixOrigin(): void {
    if (this.originFixed) return;
    this.deps.state.ensureOrigin().then(
      () => { this.originFixed = true; },
      (error: unknown) => {
        this.deps.log.warn('cannot fix the outbound origin yet; retrying', { error });
        setTimeout(() => this.fixOrigin(), 1_000);
      },
    );
  }
}

/** room -> id of its retained message; anything that is not a room message with a valid id is ignored. */
function retainedIds(retained: Map<string, Buffer>): Map<string, string> {
  const ids = new Map<string, string>();
  for (const [topic, payload] of retained) {
    const room = roomOfMessagesTopic(topic);
    if (room === undefined) continue;
    try {
      const id = (JSON.parse(payload.toString()) as { id?: unknown }).id;
      if (isMessageId(id)) ids.set(room, id);
    } catch {
      // not JSON: not one of the bridge's messages
    }
  }
  return ids;
}
