/**
 * Shared steps of the gateway's black-box tests. Exists for tests only: add a step here when two
 * test files would otherwise repeat it.
 */
import { after, before } from 'node:test';
import { connectClient, startGateway, startRedis, startRedisCluster, type Frame, type GatewayService, type RedisCluster, type RedisServer, type TestClient } from '@chat/testkit';

/** The two buses the cross-node suites run on. */
export const BUS_BACKENDS = ['one Redis', 'a Redis Cluster'] as const;
export type BusBackend = (typeof BUS_BACKENDS)[number];

export interface TestBus {
  /** What points a gateway at it: REDIS_URL or REDIS_CLUSTER_NODES. */
  env: Record<string, string>;
  redis: RedisServer | undefined;
  cluster: RedisCluster | undefined;
  stop(): Promise<void>;
}

/** A real Redis, or a real Redis Cluster (3 masters, 3 replicas), on free loopback ports. */
export async function startBus(backend: BusBackend): Promise<TestBus> {
  if (backend === 'one Redis') {
    const redis = await startRedis();
    return { env: { REDIS_URL: redis.url }, redis, cluster: undefined, stop: async () => { await redis.stop(); } };
  }
  const cluster = await startRedisCluster();
  return { env: { REDIS_CLUSTER_NODES: cluster.seeds }, redis: undefined, cluster, stop: () => cluster.stop() };
}

/** The cluster a cross-node suite runs on, filled in by its `before`. */
export interface CrossNodeSuite {
  /** The bus, once started. */
  bus: TestBus | undefined;
  /** One gateway per env given, in that order; a test may replace one (the old one stopped). */
  nodes: GatewayService[];
  /** Every client the suite's tests opened: closed after them. */
  open: TestClient[];
  /** Connects `user` to `node` and joins `room` (from `since`), kept in `open`. */
  member(node: GatewayService, user: string, room: string, since?: string): Promise<{ client: TestClient; reply: Frame }>;
}

/**
 * Registers, in the calling describe, a bus on `backend` and one gateway per entry of `envs` (each
 * with the bus's env), started before its tests and stopped after them with every client in `open`.
 */
export function crossNodeSuite(backend: BusBackend, envs: Array<Record<string, string>>): CrossNodeSuite {
  const suite: CrossNodeSuite = {
    bus: undefined,
    nodes: [],
    open: [],
    member: async (node, user, room, since) => {
      const r = await joined(node.wsUrl, user, room, since);
      suite.open.push(r.client);
      return r;
    },
  };
  before(async () => {
    const bus = (suite.bus = await startBus(backend));
    suite.nodes.push(...(await Promise.all(envs.map((env) => startGateway({ env: { ...env, ...bus.env } })))));
  });
  after(async () => {
    await Promise.all(suite.open.map((c) => c.close()));
    await Promise.all(suite.nodes.map((n) => n.stop()));
    await suite.bus?.stop();
  });
  return suite;
}

export async function joined(url: string, user: string, room: string, since?: string): Promise<{ client: TestClient; reply: Frame }> {
  const client = await connectClient(url, { user });
  const reply = await client.request(since === undefined ? { type: 'join', room } : { type: 'join', room, since });
  if (reply.type !== 'joined') throw new Error(`join failed: ${JSON.stringify(reply)}`);
  return { client, reply };
}

/** Collects `count` message events of a room, in arrival order. */
export async function messages(client: TestClient, room: string, count: number, timeoutMs = 10_000): Promise<Frame[]> {
  const got: Frame[] = [];
  while (got.length < count) got.push(await client.next((f) => f.type === 'message' && f.room === room, timeoutMs));
  return got;
}

/** Sums the samples of a metric (`name`), or of the series starting with `name{label="..."`. */
export async function metricValue(baseUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const exact = series.includes('{') || line[series.length] === ' ' || line[series.length] === '{';
    if (line.startsWith(series) && exact) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
