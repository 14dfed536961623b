import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { BusUnavailableError } from './bus.js';
import { defineScripts } from './redis-scripts.js';

/** How long one Redis command may take before the caller is told the bus is unavailable. */
export const COMMAND_TIMEOUT_MS = 2_000;

const common = {
  lazyConnect: true,
  // Never queue: ioredis's offline queue would hold a message while Redis is away and could lose
  // it later without an error. A command issued while disconnected fails at once instead.
  enableOfflineQueue: false,
  // A command whose reply was lost with the connection may or may not have run: re-sending it could
  // store a message twice, so it fails and the client is told `unavailable` (and resends with its mid).
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2_000),
} satisfies RedisOptions;

/**
 * The command connection sends every command issued in one event-loop turn in one write (ioredis's
 * auto-pipelining): many commands at once cost Redis one read and one reply write for all of them,
 * not one each. Each command still gets its own reply, error and timeout. The room append is left
 * out: it is batched per room and turn already (RoomAppends), and ioredis would route its calls on a
 * Redis Cluster by their first argument, which for that script is the number of keys, not a key.
 */
const batched = { enableAutoPipelining: true, autoPipeliningIgnoredCommands: ['chatPublish'] } satisfies RedisOptions;

/** One Redis, or the seeds of a Redis Cluster. */
export type RedisTarget = { url: string } | { clusterNodes: readonly string[] };

/** A connection to one Redis or to a whole Redis Cluster: the commands both share. */
export type RedisClient = Redis | Cluster;

export interface RedisConnections {
  /** Commands and scripts. */
  command: RedisClient;
  /**
   * Pub/sub only. On one Redis, classic SUBSCRIBE on a connection of its own; on a Redis Cluster,
   * sharded SSUBSCRIBE through one subscriber connection per master (ioredis's subscriber group).
   */
  subscriber: RedisClient;
  /** True on a Redis Cluster: room and node traffic goes by SPUBLISH / SSUBSCRIBE. */
  sharded: boolean;
  /** Where the connections go, without passwords, for logs. */
  where: string;
  /** Another subscriber like `subscriber`, for a part that subscribes on its own (the room tap). Not yet connecting. */
  newSubscriber(name: string): RedisClient;
}

/**
 * Creates the connections and starts connecting. It does not wait: while Redis is unreachable the
 * clients keep retrying with backoff and the bus reports itself not connected (readiness fails).
 */
export function connectRedis(target: RedisTarget, name: string, onError: (error: Error) => void = () => undefined): RedisConnections {
  const connections = 'url' in target ? single(target.url, name) : cluster(target.clusterNodes, name);
  defineScripts(connections.command);
  let lastReport = 0;
  for (const client of [connections.command, connections.subscriber]) {
    client.on('error', (error: Error) => {
      // ioredis reports every failed attempt; one line per 10 s is enough for an operator.
      if (Date.now() - lastReport < 10_000) return;
      lastReport = Date.now();
      onError(new Error(`Redis at ${connections.where}: ${error.message}`));
    });
    client.connect().catch(() => undefined);
  }
  return connections;
}

function single(url: string, name: string): RedisConnections {
  const command = new Redis(url, { ...common, ...batched, commandTimeout: COMMAND_TIMEOUT_MS, connectionName: `${name}:cmd` });
  // Subscriptions are restored by their owners after a reconnect, followed by a backfill.
  const newSubscriber = (label: string) => new Redis(url, { ...common, autoResubscribe: false, connectionName: label });
  return { command, subscriber: newSubscriber(`${name}:sub`), sharded: false, where: redact(url), newSubscriber };
}

function cluster(seeds: readonly string[], name: string): RedisConnections {
  const startup = seeds.map((seed) => {
    const cut = seed.lastIndexOf(':');
    return { host: seed.slice(0, cut), port: Number(seed.slice(cut + 1)) };
  });
  const options = {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    scaleReads: 'master',
    clusterRetryStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2_000),
    // A master that dies is replaced by its replica: reconnect to nodes so the topology is relearnt.
    clusterNodeRetryStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2_000),
    slotsRefreshInterval: 1_000,
    redisOptions: { ...common, commandTimeout: COMMAND_TIMEOUT_MS },
  } satisfies ClusterOptions;
  const command = new Cluster(startup, { ...options, ...batched, redisOptions: { ...options.redisOptions, connectionName: `${name}:cmd` } });
  // ioredis resubscribes sharded channels after a slot moves or a master fails over ('subscribersReady');
  // their owners still treat every such reset as a possible hole and backfill.
  const newSubscriber = (label: string) => new Cluster(startup, { ...options, shardedSubscribers: true, redisOptions: { ...options.redisOptions, connectionName: label } });
  return { command, subscriber: newSubscriber(`${name}:sub`), sharded: true, where: `Redis Cluster ${seeds.join(',')}`, newSubscriber };
}

/** Runs a Redis call, turning every connection or timeout failure into BusUnavailableError. */
export async function guarded<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw new BusUnavailableError(`Redis: ${(error as Error).message}`, { cause: error });
  }
}

/** True while the client can take commands. */
export function isReady(client: RedisClient): boolean {
  return client.status === 'ready';
}

/** A URL (Redis, MQTT...) without its password, for logs and errors. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}
