import { createHash, randomUUID } from 'node:crypto';
import { BusUnavailableError, isActive, type Bus, type ModerationStore } from '@chat/cluster';
import type { DirectMessage } from '@chat/protocol';
import { nowMs, type BridgeMetrics, type Logger } from '@chat/runtime';
import { decodeDeviceText, decodeStatus } from './device-payload.js';
import type { DevicePresence } from './device-presence.js';
import type { InboundMessage } from './mqtt-link.js';
import { DropReason, parseInboundTopic } from './topics.js';

/** The `originConn` of a device's direct message: the bridge skips the sender's own copy by it. */
export function deviceConn(device: string): string {
  return `mqtt:${device}`;
}

export interface InboundDeps {
  bus: Bus;
  /** A room's bans and mutes hold for devices as for users: a banned or muted device's posts are dropped. */
  moderation: ModerationStore;
  devices: DevicePresence;
  metrics: BridgeMetrics;
  log: Logger;
  maxTextChars: number;
}

const RETRIES = 3;
const RETRY_MS = 200;

/**
 * Device to chat. Every message the broker delivers ends in exactly one of: stored (room post),
 * delivered (direct), or dropped with a reason counted and logged. Only a Redis outage makes the
 * handler reject, which leaves the message unacknowledged for the broker to redeliver.
 *
 * Exactly once: a QoS 1 delivery is stored under an idempotency key naming it (the session and
 * packet id, with a digest of topic and payload, since packet ids are reused), through the bus's
 * one append, so a redelivery, or a retry whose first attempt's reply was lost, stores nothing and
 * reaches nobody.
 */
export class Inbound {
  constructor(private readonly deps: InboundDeps) {}

  readonly handle = async (message: InboundMessage): Promise<void> => {
    const topic = parseInboundTopic(message.topic);
    switch (topic.kind) {
      case 'invalid':
        return this.drop(topic.reason, message.topic, 'topic does not match the contract');
      case 'status': {
        const status = decodeStatus(message.payload);
        if (status === undefined) return this.drop(DropReason.MalformedStatus, message.topic, 'status must be online or offline');
        return this.deps.devices.onStatus(topic.device, status);
      }
      case 'post':
        return this.post(topic.room, topic.device, message);
      case 'direct':
        return this.direct(topic.to, topic.device, message);
      default:
        return assertNever(topic);
    }
  };

  private async post(room: string, device: string, message: InboundMessage): Promise<void> {
    const decoded = decodeDeviceText(message.payload, this.deps.maxTextChars);
    if (!decoded.ok) return this.drop(decoded.reason, message.topic, decoded.detail);
    // One read per post: devices post rarely, and a ban must hold from the moment it is stored.
    // (Slow mode is for people typing; a device's posts are not held to it.)
    const rules = await retrying(() => this.deps.moderation.rules(room));
    const now = Date.now();
    if (isActive(rules.bans.get(device), now)) return this.drop(DropReason.Banned, message.topic, `${device} is banned from ${room}`);
    if (isActive(rules.mutes.get(device), now)) return this.drop(DropReason.Muted, message.topic, `${device} is muted in ${room}`);
    await retrying(() => this.deps.devices.posted(device, room));
    const receivedAt = nowMs();
    const draft = { room, from: device, text: decoded.text, ts: Math.floor(receivedAt), via: 'mqtt' as const, receivedAt };
    const key = deliveryKey(message);
    const stored = key === undefined
      ? await this.once(message.topic, () => this.deps.bus.publish(draft))
      : await retrying(() => this.deps.bus.publish({ ...draft, idempotencyKey: key }));
    if (stored === undefined) return;
    if (stored.duplicate) return this.drop(DropReason.Redelivery, message.topic, 'already stored');
    this.deps.metrics.crossed('to_chat');
  }

  private async direct(to: string, device: string, message: InboundMessage): Promise<void> {
    const decoded = decodeDeviceText(message.payload, this.deps.maxTextChars);
    if (!decoded.ok) return this.drop(decoded.reason, message.topic, decoded.detail);
    const receivedAt = nowMs();
    const event: DirectMessage = { type: 'direct', id: randomUUID(), from: device, to, text: decoded.text, ts: Math.floor(receivedAt), via: 'mqtt' };
    const draft = { to, from: device, id: event.id, event: JSON.stringify(event), originConn: deviceConn(device), receivedAt };
    const key = deliveryKey(message);
    const outcome = key === undefined
      ? await this.once(message.topic, () => this.deps.bus.direct(draft))
      : await retrying(() => this.deps.bus.direct({ ...draft, idempotencyKey: key }));
    if (outcome === undefined) return;
    if (outcome.duplicate) return this.drop(DropReason.Redelivery, message.topic, 'already delivered');
    if (!outcome.reached) return this.drop(DropReason.UserOffline, message.topic, `${to} has no open connection`);
    this.deps.metrics.crossed('to_chat');
  }

  /** QoS 0 is at most once: one attempt, and a failure is a counted drop rather than a retry. */
  private async once<T>(topic: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof BusUnavailableError)) throw error;
      this.drop(DropReason.BusUnavailable, topic, 'Redis is unreachable and a QoS 0 message cannot be redelivered');
      return undefined;
    }
  }

  private drop(reason: DropReason, topic: string, detail: string): void {
    this.deps.metrics.dropped(reason);
    this.deps.log.warn('dropped a device message', { reason, topic: topic.slice(0, 200), detail });
  }
}

/** The idempotency key of a QoS 1 delivery; QoS 0 messages are never redelivered, so they need none. */
function deliveryKey(message: InboundMessage): string | undefined {
  if (message.qos === 0) return undefined;
  const digest = createHash('sha256').update(message.topic).update('\u0000').update(message.payload).digest('base64url').slice(0, 22);
  return `mqtt:${message.session}:${message.packetId}:${digest}`;
}

/**
 * Rides out a short Redis hiccup; a longer outage rejects, and the broker keeps the message. Safe
 * for writes: each carries its idempotency key, so an attempt that did run is not repeated.
 */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof BusUnavailableError) || attempt >= RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS * attempt));
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
