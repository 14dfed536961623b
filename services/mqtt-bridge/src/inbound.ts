import { createHash, randomUUID } from 'node:crypto';
import { BusUnavailableError, type Bus, type Delivery } from '@chat/cluster';
import type { DirectMessage } from '@chat/protocol';
import { nowMs, type BridgeMetrics, type Logger } from '@chat/runtime';
import { decodeDeviceText, decodeStatus } from './device-payload.js';
import type { DevicePresence } from './device-presence.js';
import type { InboundMessage } from './mqtt-link.js';
import type { Inbox } from './ports.js';
import { DropReason, parseInboundTopic } from './topics.js';

/** The `originConn` of a device's direct message: the bridge skips the sender's own copy by it. */
export function deviceConn(device: string): string {
  return `mqtt:${device}`;
}

export interface InboundDeps {
  bus: Bus;
  inbox: Inbox;
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
    const delivery = deliveryOf(message);
    if (delivery !== undefined && message.dup && (await retrying(() => this.deps.inbox.handled(room, delivery)))) {
      return this.drop(DropReason.Redelivery, message.topic, 'already stored');
    }
    await retrying(() => this.deps.devices.posted(device, room));
    const receivedAt = nowMs();
    const draft = { room, from: device, text: decoded.text, ts: Math.floor(receivedAt), via: 'mqtt' as const, receivedAt };
    if (delivery === undefined) {
      if (!(await this.once(message.topic, () => this.deps.bus.publish(draft)))) return;
    } else {
      await exactlyOnce(() => this.deps.inbox.publish(draft, delivery), () => this.deps.inbox.handled(room, delivery));
    }
    this.deps.metrics.crossed('to_chat');
  }

  private async direct(to: string, device: string, message: InboundMessage): Promise<void> {
    const decoded = decodeDeviceText(message.payload, this.deps.maxTextChars);
    if (!decoded.ok) return this.drop(decoded.reason, message.topic, decoded.detail);
    const delivery = deliveryOf(message);
    if (delivery !== undefined && message.dup && (await retrying(() => this.deps.inbox.handled(undefined, delivery)))) {
      return this.drop(DropReason.Redelivery, message.topic, 'already delivered');
    }
    const receivedAt = nowMs();
    const event: DirectMessage = { type: 'direct', id: randomUUID(), from: device, to, text: decoded.text, ts: Math.floor(receivedAt), via: 'mqtt' };
    const json = JSON.stringify(event);
    const origin = deviceConn(device);
    const reached = delivery === undefined
      ? await this.once(message.topic, async () => (await this.deps.bus.direct({ to, from: device, id: event.id, event: json, originConn: origin, receivedAt })).reached)
      : await exactlyOnce(() => this.deps.inbox.direct(to, device, json, origin, receivedAt, delivery), () => this.deps.inbox.handled(undefined, delivery));
    if (reached === undefined) return;
    if (!reached) return this.drop(DropReason.UserOffline, message.topic, `${to} has no open connection`);
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

/** QoS 0 messages are never redelivered, so they need no receipt. */
function deliveryOf(message: InboundMessage): Delivery | undefined {
  if (message.qos === 0) return undefined;
  const fingerprint = createHash('sha256').update(message.topic).update('\u0000').update(message.payload).digest('base64url').slice(0, 22);
  return { id: `${message.session}:${message.packetId}`, fingerprint };
}

/**
 * Retries a write that carries a receipt. A failed attempt may still have run (its reply was lost),
 * so each retry first asks whether the receipt exists.
 */
async function exactlyOnce<T>(write: () => Promise<T>, written: () => Promise<boolean>): Promise<T | true> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt > 1 && (await written())) return true;
      return await write();
    } catch (error) {
      if (!(error instanceof BusUnavailableError) || attempt >= RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS * attempt));
    }
  }
}

/** Rides out a short Redis hiccup; a longer outage rejects, and the broker keeps the message. */
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
