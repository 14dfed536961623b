/**
 * Shared steps of the gateway's black-box tests. Exists for tests only: add a step here when two
 * test files would otherwise repeat it.
 */
import { connectClient, startRedis, startRedisCluster, type Frame, type RedisCluster, type RedisServer, type TestClient } from '@chat/testkit';

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
