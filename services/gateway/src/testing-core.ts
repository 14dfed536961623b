/**
 * The gateway core without a transport, for in-process tests: fake connections record what the core
 * writes, and a map of topics stands in for uWS's. Exists for tests only; add what a new test needs
 * of a socket here (its buffer, its close) rather than in the test.
 */
import { openCluster, type Bus } from '@chat/cluster';
import { createGatewayMetrics, createLogger, type TokenClaims } from '@chat/runtime';
import { readGatewayConfig } from './config.js';
import type { Connection, LocalTopics } from './connection.js';
import { Gateway } from './gateway.js';
import type { Session } from './session.js';

export class FakeConnection implements Connection {
  readonly frames: Array<Record<string, unknown>> = [];
  closedWith: number | undefined;
  buffered = 0;

  constructor(readonly id: string, private readonly topics: FakeTopics) {}

  send(json: string): boolean {
    if (this.closedWith !== undefined) return false;
    this.frames.push(JSON.parse(json) as Record<string, unknown>);
    return true;
  }

  subscribe(topic: string): void {
    this.topics.add(topic, this);
  }

  unsubscribe(topic: string): void {
    this.topics.remove(topic, this);
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  close(code: number): void {
    this.closedWith ??= code;
  }

  /** Frames of one type, in arrival order. */
  of(type: string): Array<Record<string, unknown>> {
    return this.frames.filter((f) => f.type === type);
  }
}

export class FakeTopics implements LocalTopics {
  private readonly subscribers = new Map<string, Set<FakeConnection>>();

  add(topic: string, conn: FakeConnection): void {
    let set = this.subscribers.get(topic);
    if (set === undefined) this.subscribers.set(topic, (set = new Set()));
    set.add(conn);
  }

  remove(topic: string, conn: FakeConnection): void {
    this.subscribers.get(topic)?.delete(conn);
  }

  publish(topic: string, json: string): number {
    const set = this.subscribers.get(topic) ?? new Set();
    for (const conn of set) conn.send(json);
    return set.size;
  }
}

/**
 * A gateway core on the in-process bus, configured as `env` says. `subscribeUser` stands in for the
 * bus's listing of a user in the directory, to hold it back or fail it.
 */
export function coreOnMemory(env: Record<string, string> = {}, options: { subscribeUser?: (user: string, listed: (user: string) => Promise<void>) => Promise<void> } = {}) {
  const config = readGatewayConfig({ NODE_ID: 'core-test', ...env });
  const cluster = openCluster({ redisUrl: undefined, prefix: '', historyLimit: config.historyLimit, presenceTtlMs: config.presenceTtlMs, idempotencyMs: config.idempotencyMs, name: 'core-test' });
  const { subscribeUser } = options;
  const bus: Bus = subscribeUser === undefined ? cluster.bus : new Proxy(cluster.bus, {
    get: (target, key) => {
      if (key === 'subscribeUser') return (user: string) => subscribeUser(user, (u) => target.subscribeUser(u));
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const gateway = new Gateway({ config, ...cluster, bus, metrics: createGatewayMetrics('core-test'), log: createLogger('error', {}, () => undefined) });
  const topics = new FakeTopics();
  gateway.attach(topics);
  let next = 0;
  /** `claims`: as a verified token would give them (auth on). */
  const connect = (user: string, claims?: Omit<TokenClaims, 'sub'>): { conn: FakeConnection; session: Session } => {
    const conn = new FakeConnection(`c${++next}`, topics);
    return { conn, session: gateway.open(conn, claims === undefined ? { user } : { user, claims: { sub: user, ...claims } }) };
  };
  return { gateway, connect, stop: async () => { await gateway.stop(); await cluster.close(); } };
}

/** Lets the microtasks and timers the memory bus defers run. */
export const settle = (ms = 20) => new Promise((r) => setTimeout(r, ms));
