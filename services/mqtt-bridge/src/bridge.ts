import type { Bus, HistoryStore, PresenceStore, UserEvent } from '@chat/cluster';
import type { BridgeMetrics, Logger } from '@chat/runtime';
import type { BridgeConfig } from './config.js';
import { DevicePresence } from './device-presence.js';
import { Inbound, deviceConn } from './inbound.js';
import { Leadership } from './leadership.js';
import { MqttLink } from './mqtt-link.js';
import { OutboundFeed } from './outbound-feed.js';
import type { CursorStore, DeviceRoomStore, Inbox, Lease, RoomTap, SessionStore } from './ports.js';
import { SessionAdoption } from './session-adoption.js';
import { DropReason, inboundFilters, userDirectTopic } from './topics.js';

export interface BridgeDeps {
  config: BridgeConfig;
  bus: Bus;
  history: HistoryStore;
  presence: PresenceStore;
  inbox: Inbox;
  state: CursorStore & DeviceRoomStore & SessionStore;
  lease: Lease;
  tap: RoomTap;
  metrics: BridgeMetrics;
  log: Logger;
}

/** How long a leader stepping down waits for the broker to acknowledge what it sent. */
const HANDOVER_MS = 2_000;

/**
 * One replica. Every replica carries device messages into chat (shared subscription) and follows
 * device statuses; the one elected leader also carries chat to MQTT and keeps device presence.
 * The MQTT session is held only while Redis is reachable: what cannot be stored stays at the broker.
 */
export class Bridge {
  /** This replica's MQTT client id, stable across restarts so a restarted replica finds its session. */
  readonly session: string;
  private readonly link: MqttLink;
  private readonly devices: DevicePresence;
  private readonly feed: OutboundFeed;
  private readonly leadership: Leadership;
  private readonly adoption: SessionAdoption;
  private readonly inbound: Inbound;
  private originFixed = false;

  constructor(private readonly deps: BridgeDeps) {
    const { config, bus, log, metrics } = deps;
    this.session = `chat-bridge-${config.nodeId}`;
    this.devices = new DevicePresence({ bus, presence: deps.presence, rooms: deps.state, presenceTtlMs: config.presenceTtlMs, log });
    this.inbound = new Inbound({ bus, inbox: deps.inbox, devices: this.devices, metrics, log, maxTextChars: config.maxTextChars });
    this.link = this.openLink(this.session, 'own');
    this.leadership = new Leadership(deps.lease, config.nodeId, { elected: (token) => this.lead(token), deposed: () => this.follow() }, log);
    this.feed = new OutboundFeed({
      history: deps.history,
      cursors: deps.state,
      link: this.link,
      leading: () => this.leadership.leading,
      fenced: () => this.leadership.resign('another replica holds the lease'),
      metrics,
      log,
      // Live messages wait in mqtt.js's queue rather than fall back to the room log, which keeps only
      // HISTORY_LIMIT messages per room: a burst faster than the broker acknowledges must not outrun it.
      maxInflight: 20_000,
    });
    this.adoption = new SessionAdoption({
      store: deps.state,
      session: this.session,
      staleMs: config.leaderLeaseMs * 3,
      open: (session) => this.openLink(session, 'drain'),
      log,
    });
    bus.listen({ room() {}, resync() {}, user: (event) => this.onDirect(event), status: (up) => this.onBusStatus(up) });
    metrics.mqttConnected(false);
    metrics.busConnected(bus.connected);
  }

  /** /readyz: the broker and Redis are both reachable (and the outbound origin is fixed). */
  get ready(): boolean {
    return this.link.connected && this.deps.bus.connected && this.originFixed;
  }

  start(): void {
    if (this.deps.bus.connected) this.onBusStatus(true);
    this.leadership.start();
    this.adoption.start();
  }

  /** SIGTERM: hand the lead over, finish what is being stored, end the MQTT session, forget it. */
  async stop(): Promise<void> {
    await this.adoption.stop();
    await this.leadership.stop();
    await this.link.close(true);
    await this.deps.state.forgetSession(this.session).catch(() => undefined);
  }

  private openLink(clientId: string, mode: 'own' | 'drain'): MqttLink {
    const { config, log } = this.deps;
    const link = new MqttLink({
      url: config.mqttUrl,
      clientId,
      username: config.mqttUsername,
      password: config.mqttPassword,
      sessionExpirySec: config.mqttSessionExpirySec,
      mode,
      filters: inboundFilters(config.mqttShareGroup),
      log,
      ...(mode === 'own' ? { onStatus: (up: boolean) => this.onLinkStatus(up) } : {}),
    }, this.inbound.handle);
    if (mode === 'drain') link.resume();
    return link;
  }

  private async lead(token: string): Promise<void> {
    await this.feed.start(token);
    await this.deps.tap.start({
      message: (room, prev, id, event) => this.feed.message(room, prev, id, event),
      // A new room's first messages may have gone by before the tap subscribed: read it from its cursor.
      room: (room) => void this.feed.catchUp([room]).catch((error: unknown) => this.deps.log.warn('reading a new room failed; the next catch-up retries', { room, error })),
      resync: () => void this.catchUp(),
    });
    await this.devices.lead();
    void this.catchUp();
  }

  private async follow(): Promise<void> {
    await this.deps.tap.stop();
    await this.feed.stop(HANDOVER_MS);
    await this.devices.follow();
  }

  /** Compares every room log with its cursor: after taking the lead, and whenever the tap lost traffic. */
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
    if (!this.leadership.leading || event.originConn === deviceConn(event.user)) return;
    const topic = userDirectTopic(event.user);
    if (topic === undefined) return;
    this.link.publish(topic, event.event).then(
      () => this.deps.metrics.crossed('to_mqtt'),
      (error: unknown) => {
        this.deps.metrics.dropped(DropReason.PublishFailed);
        this.deps.log.error('a direct message to a device was not delivered', { user: event.user, error });
      },
    );
  }

  private onBusStatus(up: boolean): void {
    this.deps.metrics.busConnected(up);
    if (up) {
      this.deps.log.info('redis reachable: connecting to the broker');
      this.fixOrigin();
      this.link.resume();
    } else {
      this.deps.log.warn('redis unreachable: leaving the broker until it is back; device messages wait there');
      this.link.suspend();
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

  private onLinkStatus(up: boolean): void {
    this.deps.metrics.mqttConnected(up);
    if (up) this.feed.resume();
  }
}
