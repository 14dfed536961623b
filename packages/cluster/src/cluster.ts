import { randomBytes } from 'node:crypto';
import type { Bus } from './bus.js';
import type { HistoryStore } from './history-store.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryHistory } from './memory-history.js';
import { MemoryPresence } from './memory-presence.js';
import { MemoryReadMarkers } from './memory-read-markers.js';
import { MemoryNodeRegistry, type NodeRegistry } from './node-registry.js';
import type { PresenceStore } from './presence-store.js';
import type { ReadMarkers } from './read-markers.js';
import { RedisBus } from './redis-bus.js';
import { connectRedis, type RedisConnections, type RedisTarget } from './redis-connection.js';
import { RedisHistory } from './redis-history.js';
import { RedisKeys } from './redis-keys.js';
import { RedisNodeRegistry } from './redis-node-registry.js';
import { RedisPresence } from './redis-presence.js';
import { RedisReadMarkers } from './redis-read-markers.js';

export interface ClusterOptions {
  /** Unset (with no redisClusterNodes): the embedded in-process bus, for a single node. */
  redisUrl: string | undefined;
  /** The `host:port` seeds of a Redis Cluster, instead of redisUrl. */
  redisClusterNodes?: readonly string[] | undefined;
  prefix: string;
  historyLimit: number;
  presenceTtlMs: number;
  /** How long an idempotency key (a send's `mid`, an API Idempotency-Key) is remembered; 300 s by default. */
  idempotencyMs?: number;
  /** Shown in Redis's CLIENT LIST, e.g. the node id. */
  name: string;
  onError?: (error: Error) => void;
}

/** The shared stores a node works with, on one backend. */
export interface Cluster {
  bus: Bus;
  history: HistoryStore;
  presence: PresenceStore;
  /** Each user's read marker per room. */
  markers: ReadMarkers;
  /** The live gateways as they report themselves (a report older than the presence TTL is gone). */
  nodes: NodeRegistry;
  /** The Redis connections, when on Redis (a service may need them for its own keys). */
  redis: RedisConnections | undefined;
  keys: RedisKeys;
  close(): Promise<void>;
}

/** IDEMPOTENCY_SECONDS's default (SPEC section 7). */
export const DEFAULT_IDEMPOTENCY_MS = 300_000;

/** The backend options name: none (memory), one Redis, or a Redis Cluster. */
export function redisTarget(options: Pick<ClusterOptions, 'redisUrl' | 'redisClusterNodes'>): RedisTarget | undefined {
  if (options.redisClusterNodes !== undefined && options.redisClusterNodes.length > 0) return { clusterNodes: options.redisClusterNodes };
  return options.redisUrl === undefined ? undefined : { url: options.redisUrl };
}

export function openCluster(options: ClusterOptions): Cluster {
  const idempotencyMs = options.idempotencyMs ?? DEFAULT_IDEMPOTENCY_MS;
  const keys = new RedisKeys(options.prefix);
  const target = redisTarget(options);
  if (target === undefined) {
    const history = new MemoryHistory(options.historyLimit);
    const bus = new MemoryBus(history, idempotencyMs);
    const nodes = new MemoryNodeRegistry(options.presenceTtlMs);
    const markers = new MemoryReadMarkers(history);
    return { bus, history, presence: new MemoryPresence(bus, options.presenceTtlMs), markers, nodes, redis: undefined, keys, close: () => bus.close() };
  }
  const redis = connectRedis(target, options.name, options.onError);
  // A restarted process is a new node: what Redis lists for the old one is not its users.
  const bus = new RedisBus(redis, keys, options.historyLimit, `${options.name}.${randomBytes(4).toString('hex')}`, idempotencyMs);
  return {
    bus,
    history: new RedisHistory(redis.command, keys),
    presence: new RedisPresence(redis.command, keys, redis.sharded ? 'SPUBLISH' : 'PUBLISH', options.presenceTtlMs),
    markers: new RedisReadMarkers(redis.command, keys),
    nodes: new RedisNodeRegistry(redis.command, keys, options.presenceTtlMs),
    redis,
    keys,
    close: () => bus.close(),
  };
}
