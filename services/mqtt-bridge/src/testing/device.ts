/**
 * A recording MQTT device for tests (mqtt.js, like a real device would use): every message it
 * receives is kept, so a test can await "the next message like X" without racing the socket.
 * Exists for tests only; add a wait helper here when a test needs a new one.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  text: string;
  json: Record<string, unknown> | undefined;
  retain: boolean;
  /** The broker's redelivery flag: set on a message it sent before on this session without seeing the PUBACK. */
  dup: boolean;
}

export interface TestDevice {
  client: MqttClient;
  id: string;
  received: Received[];
  publish(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(filter: string): Promise<number>;
  /** Resolves with (and removes) the oldest received message that satisfies `match`. */
  next(match: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Waits `ms` and returns every received message that satisfies `match` (for "nothing else came"). */
  collect(match: (m: Received) => boolean, ms: number): Promise<Received[]>;
  /** Clean DISCONNECT: the broker does not publish the Will. */
  end(): Promise<void>;
  /** The socket dies without DISCONNECT, like a device losing power: the broker publishes the Will. */
  drop(): void;
}

/**
 * `noDelay` (default true) turns Nagle's algorithm off on the device's socket, so a test's timing
 * does not hang on it; false leaves it on, as plain mqtt.js and most device stacks do.
 */
export async function connectDevice(url: string, id: string, options: Partial<IClientOptions> & { online?: boolean; noDelay?: boolean } = {}): Promise<TestDevice> {
  const { online, noDelay = true, ...rest } = options;
  const statusTopic = `chat/devices/${id}/status`;
  const client = connect(url, {
    protocolVersion: 5,
    clientId: id,
    reconnectPeriod: 200,
    connectTimeout: 3_000,
    ...(online ? { will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true } } : {}),
    ...rest,
  });
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    received.push({ topic, text, json, retain: packet.retain, dup: packet.dup });
    for (const wake of waiters) wake();
  });
  client.on('error', () => undefined);
  if (noDelay) client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  if (online) client.on('connect', () => client.publish(statusTopic, 'online', { qos: 1, retain: true }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });

  const next = (match: (m: Received) => boolean, timeoutMs = 8_000) =>
    new Promise<Received>((resolve, reject) => {
      const check = () => {
        const i = received.findIndex(match);
        if (i < 0) return;
        const [found] = received.splice(i, 1);
        done();
        resolve(found!);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`device ${id}: no matching message within ${timeoutMs} ms; last: ${JSON.stringify(received.slice(-3))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    client,
    id,
    received,
    async publish(topic, payload, opts = {}) {
      await client.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
    },
    async subscribe(filter) {
      const [grant] = await client.subscribeAsync(filter, { qos: 1 });
      return grant?.qos ?? 128;
    },
    next,
    async collect(match, ms) {
      await new Promise((r) => setTimeout(r, ms));
      return received.filter(match);
    },
    async end() {
      await client.endAsync();
    },
    drop() {
      client.options.reconnectPeriod = 0;
      client.stream.destroy();
    },
  };
}
