import { randomBytes } from 'node:crypto';
import { MemoryBridgeState, MemoryLease, type BridgeStores } from './bridge-stores.js';
import type { Bus } from './bus.js';
import type { HistoryStore } from './history-store.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryHistory } from './memory-history.js';
import { MemoryPresence } from './memory-presence.js';
import { MemoryModeration } from './memory-moderation.js';
import { MemoryReadMarkers } from './memory-read-markers.js';
import type { ModerationStore } from './moderation-store.js';
import { MemoryNodeRegistry, type NodeRegistry } from './node-registry.js';
import type { PresenceStore } from './presence-store.js';
import type { ReadMarkers } from './read-markers.js';
import { BridgeKeys, RedisBridgeState } from './redis-bridge-state.js';
import { RedisBus } from './redis-bus.js';
import { connectRedis, type RedisConnections, type RedisTarget } from './redis-connection.js';
import { RedisHistory } from './redis-history.js';
import { RedisKeys } from './redis-keys.js';
import { RedisLease } from './redis-lease.js';
import { RedisModeration } from './redis-moderation.js';
import { RedisNodeRegistry } from './redis-node-registry.js';
import { RedisPresence } from './redis-presence.js';
import { RedisReadMarkers } from './redis-read-markers.js';
import { RedisRoomTap } from './redis-room-tap.js';
import { MemoryRoomTap, type RoomTap } from './room-tap.js';

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
  /** Each room's bans, mutes, slow mode and granted moderators. */
  moderation: ModerationStore;
  /** The live gateways as they report themselves (a report older than the presence TTL is gone). */
  nodes: NodeRegistry;
  /** The Redis connections, when on Redis (a service may need them for its own keys). */
  redis: RedisConnections | undefined;
  keys: RedisKeys;
  /** A tap of every room's messages, on a subscriber of its own (the bridge's outbound leader). */
  openTap(name: string): RoomTap;
  /** The bridge replicas' shared state and leader lease, on the same backend. */
  bridgeStores(leaseMs: number): BridgeStores;
  close(): Promise<void>;
}

/** IDEMPOTENCY_SECONDS's default (docs/protocol.md#configuration). */
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
    return {
      bus,
      history,
      presence: new MemoryPresence(bus, options.presenceTtlMs),
      markers: new MemoryReadMarkers(history),
      moderation: new MemoryModeration(),
      nodes,
      redis: undefined,
      keys,
      openTap: () => new MemoryRoomTap(bus, history),
      bridgeStores: (leaseMs) => {
        const lease = new MemoryLease(leaseMs);
        return { state: new MemoryBridgeState(lease), lease };
      },
      close: () => bus.close(),
    };
  }
  const redis = connectRedis(target, options.name, options.onError);
  // A restarted process is a new node: what Redis lists for the old one is not its users.
  const bus = new RedisBus(redis, keys, options.historyLimit, `${options.name}.${randomBytes(4).toString('hex')}`, idempotencyMs);
  return {
    bus,
    history: new RedisHistory(redis.command, keys),
    presence: new RedisPresence(redis.command, keys, redis.sharded ? 'SPUBLISH' : 'PUBLISH', options.presenceTtlMs),
    markers: new RedisReadMarkers(redis.command, keys),
    moderation: new RedisModeration(redis.command, keys),
    nodes: new RedisNodeRegistry(redis.command, keys, options.presenceTtlMs),
    redis,
    keys,
    openTap: (name) => new RedisRoomTap(redis, keys, name),
    bridgeStores: (leaseMs) => {
      const bridgeKeys = new BridgeKeys(options.prefix);
      return {
        state: new RedisBridgeState(redis.command, bridgeKeys),
        lease: new RedisLease(redis.command, bridgeKeys.leader, bridgeKeys.epoch, leaseMs),
      };
    },
    close: () => bus.close(),
  };
}
