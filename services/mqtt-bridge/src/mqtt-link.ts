/**
 * The bridge's one door to the broker (the only file that imports mqtt.js): MQTT 5, a persistent
 * session, QoS 1 both ways, and an inbound handler whose promise decides the acknowledgement.
 */
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '@chat/runtime';
import { isPublishableTopic } from './topics.js';

export interface InboundMessage {
  /** The client id of the session the broker delivered on: with `packetId`, stable across redeliveries. */
  session: string;
  topic: string;
  payload: Buffer;
  /** Set by the broker on a redelivery (a message sent before on this session but never acknowledged). */
  dup: boolean;
  /** 0 when the device published at QoS 0: then there is no acknowledgement and no redelivery. */
  qos: number;
  packetId: number;
}

/**
 * Resolves once the message is safely stored (or deliberately dropped): only then does the broker
 * get its PUBACK. A rejection leaves it unacknowledged; the link reconnects so the broker redelivers.
 */
export type InboundHandler = (message: InboundMessage) => Promise<void>;

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  username: string;
  password: string | undefined;
  sessionExpirySec: number;
  /**
   * `own`: subscribe `filters` (QoS 1) on every connect and reconnect with backoff.
   * `drain`: take over another replica's session once, unsubscribe `filters` so nothing new is
   * queued for it, and receive only what it still holds.
   */
  mode: 'own' | 'drain';
  filters: string[];
  log: Logger;
  onStatus?: (up: boolean) => void;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;

export class MqttLink {
  private readonly client: MqttClient;
  private ready = false;
  /** Not connecting: before start, and while Redis is away. */
  private suspended = true;
  private started = false;
  private handling = 0;
  /** Epoch ms of the last inbound message or connect: lets a drain tell when a session is empty. */
  lastActivityMs = Date.now();
  /** Resolves when a `drain` link has been closed by the broker (the session's owner came back). */
  readonly ended: Promise<void>;

  constructor(private readonly options: MqttLinkOptions, private readonly handler: InboundHandler) {
    const clientOptions: IClientOptions = {
      protocolVersion: 5,
      clientId: options.clientId,
      username: options.username,
      clean: false,
      keepalive: 30,
      connectTimeout: 5_000,
      reconnectPeriod: options.mode === 'own' ? BACKOFF_MIN_MS : 0,
      resubscribe: false,
      manualConnect: true,
      properties: { sessionExpiryInterval: options.sessionExpirySec },
      customHandleAcks: (_topic, _message, packet, done) => {
        // mqtt.js handles the next packet only after `done`: a session's messages are stored in order.
        this.lastActivityMs = Date.now();
        this.handling++;
        this.handler(inbound(options.clientId, packet))
          .then(
            () => done(0),
            (error: unknown) => {
              done(error instanceof Error ? error : new Error(String(error)));
              this.restart();
            },
          )
          .finally(() => this.handling--);
      },
    };
    if (options.password !== undefined) clientOptions.password = options.password;
    this.client = connect(options.url, clientOptions);
    // QoS 0 messages bypass customHandleAcks: they are handled here, one after another, in order.
    let qos0 = Promise.resolve();
    this.client.on('message', (_topic, _payload, packet) => {
      if (packet.qos !== 0) return;
      this.lastActivityMs = Date.now();
      qos0 = qos0.then(() => this.handler(inbound(options.clientId, packet))).catch((error: unknown) => {
        options.log.warn('a QoS 0 device message failed', { topic: packet.topic, error });
      });
    });
    this.client.on('connect', (connack) => void this.onConnect(connack.sessionPresent));
    this.client.on('close', () => this.onClose());
    this.client.on('error', (error) => options.log.warn('mqtt error', { clientId: options.clientId, error }));
    this.ended = new Promise((resolve) => {
      this.client.once('end', () => resolve());
      // A drain link never reconnects: losing it (say, to the session's owner coming back) ends it.
      if (options.mode === 'drain') this.client.once('close', () => resolve());
    });
  }

  /** Connected and subscribed: what /readyz and the outbound pump rely on. */
  get connected(): boolean {
    return this.ready && this.client.connected;
  }

  /** QoS 1 publish; resolves on the broker's PUBACK. A topic that is not publishable is refused here. */
  publish(topic: string, payload: string): Promise<void> {
    if (!isPublishableTopic(topic)) return Promise.reject(new Error(`refusing to publish to topic ${JSON.stringify(topic)}`));
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1 }, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Leaves the broker (the session stays) until resume(): while Redis is away nothing can be stored. */
  suspend(): void {
    if (this.suspended) return;
    this.suspended = true;
    this.client.options.reconnectPeriod = 0;
    this.client.stream?.destroy();
  }

  /** Connects (the first time) or reconnects after suspend(), keeping unacknowledged publishes. */
  resume(): void {
    if (!this.suspended) return;
    this.suspended = false;
    this.client.options.reconnectPeriod = this.options.mode === 'own' ? BACKOFF_MIN_MS : 0;
    if (!this.started) {
      this.started = true;
      this.client.connect();
      return;
    }
    this.client.reconnect({ incomingStore: this.client.incomingStore, outgoingStore: this.client.outgoingStore });
  }

  /**
   * Graceful end: stop new deliveries, let messages being stored finish and be acknowledged, then
   * disconnect. With `endSession` the broker forgets the session, so it queues nothing for it.
   */
  async close(endSession: boolean, timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.suspended = true;
    this.client.options.reconnectPeriod = 0;
    if (this.client.connected && this.options.mode === 'own') {
      await withTimeout(this.client.unsubscribeAsync(this.options.filters), deadline).catch(() => undefined);
    }
    while (this.handling > 0 && Date.now() < deadline) await sleep(20);
    const disconnect = endSession ? { properties: { sessionExpiryInterval: 0 } } : {};
    await withTimeout(this.client.endAsync(false, disconnect), deadline).catch(() => this.client.end(true));
  }

  private async onConnect(sessionPresent: boolean): Promise<void> {
    // mqtt.js leaves Nagle on: small PUBACKs and publishes would wait for the peer's delayed ACK.
    const socket = this.client.stream as { setNoDelay?: (on: boolean) => void };
    socket.setNoDelay?.(true);
    this.client.options.reconnectPeriod = this.options.mode === 'own' ? BACKOFF_MIN_MS : 0;
    this.lastActivityMs = Date.now();
    const { log, clientId, mode, filters } = this.options;
    log.info('mqtt connected', { clientId, sessionPresent, mode });
    try {
      if (mode === 'drain') {
        await this.client.unsubscribeAsync(filters);
      } else {
        // Subscribing again is harmless and heals a session the broker lost. Retained statuses are
        // sent only when the subscription is new (retain handling 1).
        const granted = await this.client.subscribeAsync(Object.fromEntries(filters.map((topic) => [topic, { qos: 1 as const, rh: 1 }])));
        const refused = granted.filter((g) => g.qos > 2);
        if (refused.length > 0) throw new Error(`subscriptions refused: ${refused.map((g) => g.topic).join(', ')}`);
      }
    } catch (error) {
      log.error('mqtt subscribe failed; the bridge stays not ready', { clientId, error });
      return;
    }
    this.ready = true;
    this.options.onStatus?.(this.connected);
  }

  private onClose(): void {
    const wasReady = this.ready;
    this.ready = false;
    if (wasReady) {
      this.options.log.warn('mqtt connection lost', { clientId: this.options.clientId });
      this.options.onStatus?.(false);
    }
    const period = this.client.options.reconnectPeriod ?? 0;
    if (!this.suspended && period > 0) this.client.options.reconnectPeriod = Math.min(period * 2, BACKOFF_MAX_MS);
  }

  /** A message could not be stored: drop the connection (not the session) so the broker redelivers it. */
  private restart(): void {
    if (!this.suspended) this.client.stream?.destroy();
  }
}

function inbound(session: string, packet: IPublishPacket): InboundMessage {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  return { session, topic: packet.topic, payload, dup: packet.dup, qos: packet.qos, packetId: packet.messageId ?? 0 };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
