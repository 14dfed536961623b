/**
 * The bridge's one door to the broker (the only file that imports mqtt.js): MQTT 5, QoS 1 both
 * ways, and an inbound handler whose promise decides the acknowledgement.
 */
import { randomUUID } from 'node:crypto';
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

/** A publish that was never acknowledged because its connection ended first: the broker may or may not have it. */
export class LinkLostError extends Error {
  constructor() {
    super('the broker connection ended before the publish was acknowledged');
    this.name = 'LinkLostError';
  }
}

export interface Credentials {
  url: string;
  username: string;
  password: string | undefined;
}

export interface MqttLinkOptions extends Credentials {
  clientId: string;
  /**
   * Set: a persistent session (clean start off) that the broker keeps this long while no client
   * holds it, queueing for its subscriptions. Unset: a fresh session on every connection.
   */
  sessionExpirySec?: number;
  /** Subscribed (QoS 1, with these retain-handling options) on every connection. */
  filters: { topic: string; rh: 0 | 1 | 2 }[];
  log: Logger;
  onStatus?: (up: boolean) => void;
  /** Asked before every reconnect; false leaves the broker for good (say, a term that ended). */
  mayConnect?: () => boolean;
  /** The broker closed this connection because another client connected with the same client id. */
  onTakenOver?: () => void;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
/** MQTT 5 DISCONNECT reason: another connection took this client id. */
const SESSION_TAKEN_OVER = 0x8e;

/**
 * One MQTT connection, reconnected with backoff. Nothing is ever resent by mqtt.js across a
 * reconnection: every publish still waiting for its PUBACK when a connection ends is rejected with
 * LinkLostError, and publishing while disconnected is refused, so a caller that must not send a
 * message twice decides itself what to send again (a QoS 1 resend the broker already had is a duplicate).
 */
export class MqttLink {
  private readonly client: MqttClient;
  private ready = false;
  /** Not connecting: before start, while Redis is away, and once closed. */
  private suspended = true;
  private started = false;
  private closed = false;
  private handling = 0;
  /**
   * The connection (stream) on which a message could not be handled. mqtt.js goes on to the next
   * packet anyway; the rest of that connection's messages are left unacknowledged too, so that the
   * broker redelivers them after the failed one, in their order, on the next connection.
   */
  private failedStream: unknown;
  private backoffMs = BACKOFF_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: MqttLinkOptions, private readonly handler: InboundHandler) {
    const expiry = options.sessionExpirySec;
    const persistent = expiry !== undefined;
    const clientOptions: IClientOptions = {
      protocolVersion: 5,
      clientId: options.clientId,
      username: options.username,
      clean: !persistent,
      keepalive: 30,
      connectTimeout: 5_000,
      // Reconnection is ours (see onClose): mqtt.js would resend unacknowledged publishes.
      reconnectPeriod: 0,
      resubscribe: false,
      manualConnect: true,
      properties: persistent ? { sessionExpiryInterval: expiry } : {},
      customHandleAcks: (_topic, _message, packet, done) => {
        // mqtt.js handles the next packet only after `done`: a session's messages are stored in order.
        if (this.client.stream === this.failedStream) {
          done(new Error('left for redelivery: an earlier message on this connection was not handled'));
          return;
        }
        this.handling++;
        this.handler(inbound(options.clientId, packet))
          .then(
            () => done(0),
            (error: unknown) => {
              this.failedStream = this.client.stream;
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
      qos0 = qos0.then(() => this.handler(inbound(options.clientId, packet))).catch((error: unknown) => {
        options.log.warn('a QoS 0 device message failed', { topic: packet.topic, error });
      });
    });
    this.client.on('connect', (connack) => void this.onConnect(connack.sessionPresent));
    this.client.on('close', () => this.onClose());
    this.client.on('disconnect', (packet) => {
      if (packet.reasonCode === SESSION_TAKEN_OVER) {
        options.log.warn('another connection took this client id', { clientId: options.clientId });
        options.onTakenOver?.();
      }
    });
    this.client.on('error', (error) => options.log.warn('mqtt error', { clientId: options.clientId, error }));
  }

  /** Connected and subscribed: what /readyz and the outbound feed rely on. */
  get connected(): boolean {
    return this.ready && this.client.connected;
  }

  /**
   * QoS 1 publish; resolves on the broker's PUBACK. Refused at once while disconnected, rejected
   * with LinkLostError when the connection ends first, and refused for a topic that is not publishable.
   */
  publish(topic: string, payload: string, options: { retain?: boolean } = {}): Promise<void> {
    if (!isPublishableTopic(topic)) return Promise.reject(new Error(`refusing to publish to topic ${JSON.stringify(topic)}`));
    if (!this.connected) return Promise.reject(new LinkLostError());
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1, retain: options.retain ?? false }, (error) => {
        if (error === undefined || error === null) resolve();
        else reject(error.message === 'Message removed' ? new LinkLostError() : error);
      });
    });
  }

  /** Leaves the broker (a persistent session stays) until resume(): while Redis is away nothing can be stored. */
  suspend(): void {
    if (this.suspended) return;
    this.suspended = true;
    clearTimeout(this.retryTimer);
    this.client.stream?.destroy();
  }

  /** Connects (the first time) or reconnects after suspend(). */
  resume(): void {
    if (!this.suspended || this.closed || this.options.mayConnect?.() === false) return;
    this.suspended = false;
    if (!this.started) {
      this.started = true;
      this.client.connect();
      return;
    }
    if (!this.client.connected) this.reconnect();
  }

  /**
   * Graceful end: let messages being stored finish and be acknowledged, then disconnect. A
   * persistent session stays at the broker with its subscriptions, queueing for the next holder.
   */
  async close(timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.closed = true;
    this.suspended = true;
    clearTimeout(this.retryTimer);
    while (this.handling > 0 && Date.now() < deadline) await sleep(20);
    await withTimeout(this.client.endAsync(false), deadline).catch(() => this.client.end(true));
  }

  private async onConnect(sessionPresent: boolean): Promise<void> {
    // mqtt.js leaves Nagle on: small PUBACKs and publishes would wait for the peer's delayed ACK.
    const socket = this.client.stream as { setNoDelay?: (on: boolean) => void };
    socket.setNoDelay?.(true);
    this.backoffMs = BACKOFF_MIN_MS;
    const { log, clientId, filters } = this.options;
    log.info('mqtt connected', { clientId, sessionPresent });
    try {
      // Subscribing again is harmless and heals a session the broker lost.
      const granted = await this.client.subscribeAsync(Object.fromEntries(filters.map((f) => [f.topic, { qos: 1 as const, rh: f.rh }])));
      const refused = granted.filter((g) => g.qos > 2);
      if (refused.length > 0) throw new Error(`subscriptions refused: ${refused.map((g) => g.topic).join(', ')}`);
    } catch (error) {
      log.error('mqtt subscribe failed; the link stays not ready', { clientId, error });
      return;
    }
    this.ready = true;
    this.options.onStatus?.(this.connected);
  }

  private onClose(): void {
    // Whatever the broker did with these, mqtt.js must not send them again on the next connection.
    for (const id of Object.keys(this.client.outgoing)) this.client.removeOutgoingMessage(Number(id));
    const wasReady = this.ready;
    this.ready = false;
    if (wasReady) {
      this.options.log.warn('mqtt connection lost', { clientId: this.options.clientId });
      this.options.onStatus?.(false);
    }
    if (this.suspended || this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.reconnect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }

  private reconnect(): void {
    if (this.suspended || this.closed || this.client.connected) return;
    if (this.options.mayConnect?.() === false) {
      this.options.log.info('not reconnecting', { clientId: this.options.clientId });
      return;
    }
    this.client.reconnect();
  }

  /** A message could not be stored: drop the connection (not the session) so the broker redelivers it. */
  private restart(): void {
    if (!this.suspended) this.client.stream?.destroy();
  }
}

/**
 * The retained messages under `filter`, as the broker holds them now, read on a short connection of
 * its own (a fresh session, so nothing lingers). The broker queues a subscription's retained
 * messages when it handles the SUBSCRIBE, and delivers one client's QoS 1 messages in order, so a
 * marker published after the SUBACK (to `markerTopic`, which the client may read and write) comes
 * back after every one of them.
 */
export async function readRetained(credentials: Credentials, clientId: string, filter: string, markerTopic: string, timeoutMs = 10_000): Promise<Map<string, Buffer>> {
  const clientOptions: IClientOptions = {
    protocolVersion: 5, clientId, username: credentials.username, clean: true, reconnectPeriod: 0, connectTimeout: 5_000,
  };
  if (credentials.password !== undefined) clientOptions.password = credentials.password;
  const client = connect(credentials.url, clientOptions);
  const retained = new Map<string, Buffer>();
  const nonce = randomUUID();
  try {
    return await withTimeout(new Promise<Map<string, Buffer>>((resolve, reject) => {
      client.on('error', reject);
      client.on('close', () => reject(new Error('the broker closed the connection while retained messages were read')));
      client.on('message', (topic, payload, packet) => {
        if (topic === markerTopic) {
          if (payload.toString() === nonce) resolve(retained);
        } else if (packet.retain) {
          retained.set(topic, payload);
        }
      });
      client.once('connect', () => {
        client.subscribeAsync({ [filter]: { qos: 1, rh: 0 }, [markerTopic]: { qos: 1, rh: 2 } })
          .then((granted) => {
            const refused = granted.filter((g) => g.qos > 2);
            if (refused.length > 0) throw new Error(`subscriptions refused: ${refused.map((g) => g.topic).join(', ')}`);
            return client.publishAsync(markerTopic, nonce, { qos: 1 }).catch((error: unknown) => {
              throw new Error(`the broker refused the marker: its ACL must let the bridge read and write ${markerTopic}`, { cause: error });
            });
          })
          .catch(reject);
      });
    }), Date.now() + timeoutMs);
  } finally {
    client.end(true);
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
