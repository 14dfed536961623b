import { DEFAULT_MAX_REACTIONS, NAME_PATTERN } from '@chat/protocol';
import { ConfigError, LOG_LEVELS, envChoice, envHostPorts, envInt, envList, envName, envOptional, envString, envUrl, safeHostname, type Env, type LogLevel } from '@chat/runtime';
import { readAuthConfig, type AuthConfig } from './auth-config.js';

/** Everything a gateway reads from its environment (docs/protocol.md#configuration), validated once at start. */
export interface GatewayConfig {
  port: number;
  host: string;
  nodeId: string;
  redisUrl: string | undefined;
  /** The seeds of a Redis Cluster (REDIS_CLUSTER_NODES), instead of redisUrl. */
  redisClusterNodes: string[] | undefined;
  redisPrefix: string;
  historyLimit: number;
  historyJoin: number;
  maxTextChars: number;
  maxPayloadBytes: number;
  /** Frames per second per connection; bursts up to twice this. */
  rateLimit: number;
  /** How long a connection may stay over its rate before it is closed with 4429. */
  rateAbuseMs: number;
  /** Rooms one connection may be in at once; a `join` beyond is answered `too_many_rooms`. */
  maxRooms: number;
  /** How long a `mid` (send, direct) or an Idempotency-Key (HTTP API) is remembered: a repeat within it is stored once. */
  idempotencyMs: number;
  /** Token checks (AUTH_JWT_SECRET, AUTH_JWKS_URL or AUTH_JWT_PUBLIC_KEY); undefined means auth is off. */
  auth: AuthConfig | undefined;
  apiKey: string | undefined;
  allowedOrigins: string[] | undefined;
  drainMs: number;
  heartbeatMs: number;
  /** Bytes a slow client may have buffered (unsent) before the connection is closed with 4008. */
  maxBackpressureBytes: number;
  presenceTtlMs: number;
  /** At most one `typing` per connection and room is relayed within this (a stop always is). */
  typingIntervalMs: number;
  /** How long members show a user as typing after its last `typing` (the `ttl` they get). */
  typingTtlMs: number;
  /** Members get a `receipt` when another member's read marker moves. */
  readReceipts: boolean;
  /** Most distinct emoji one message may carry: a reaction with a new one beyond it is refused. */
  maxReactions: number;
  /** Above this many members (cluster-wide) a room's presence is counts only (LARGE_ROOM). */
  largeRoom: number;
  /** How often a large room's members are told its member count, when it changed (PRESENCE_COUNT_INTERVAL_MS). */
  presenceCountIntervalMs: number;
  logLevel: LogLevel;
}

export function readGatewayConfig(env: Env): GatewayConfig {
  const historyLimit = envInt(env, 'HISTORY_LIMIT', 1000, 1, 1_000_000);
  const redisUrl = envUrl(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const redisClusterNodes = envHostPorts(env, 'REDIS_CLUSTER_NODES');
  if (redisUrl !== undefined && redisClusterNodes !== undefined) throw new ConfigError('REDIS_CLUSTER_NODES', 'set it or REDIS_URL, not both');
  const typingIntervalMs = envInt(env, 'TYPING_INTERVAL_MS', 2000, 100, 60_000);
  // A ttl shorter than the interval would make a steady typer blink off between two relays.
  const typingTtlMs = envInt(env, 'TYPING_TTL_MS', 5000, 1000, 600_000);
  if (typingTtlMs < typingIntervalMs) throw new ConfigError('TYPING_TTL_MS', `must be at least TYPING_INTERVAL_MS (${typingIntervalMs})`);
  return {
    port: envInt(env, 'PORT', 8080, 0, 65535),
    host: envString(env, 'HOST', '0.0.0.0'),
    nodeId: envName(env, 'NODE_ID', safeHostname('gateway'), NAME_PATTERN),
    redisUrl,
    redisClusterNodes,
    redisPrefix: envName(env, 'REDIS_PREFIX', 'chat:', /^[A-Za-z0-9_.:-]{0,64}$/),
    historyLimit,
    historyJoin: envInt(env, 'HISTORY_JOIN', 50, 0, historyLimit),
    maxTextChars: envInt(env, 'MAX_TEXT', 4000, 1, 1_000_000),
    maxPayloadBytes: envInt(env, 'MAX_PAYLOAD', 65536, 256, 16 * 1024 * 1024),
    rateLimit: envInt(env, 'RATE_LIMIT', 20, 1, 1_000_000),
    rateAbuseMs: envInt(env, 'RATE_ABUSE_SECONDS', 10, 1, 3600) * 1000,
    maxRooms: envInt(env, 'MAX_ROOMS', 100, 1, 100_000),
    idempotencyMs: envInt(env, 'IDEMPOTENCY_SECONDS', 300, 1, 7 * 24 * 3600) * 1000,
    auth: readAuthConfig(env),
    apiKey: envOptional(env, 'API_KEY'),
    allowedOrigins: envList(env, 'ALLOWED_ORIGINS'),
    drainMs: envInt(env, 'DRAIN_SECONDS', 10, 0, 3600) * 1000,
    // uWS counts its idle timeout in whole seconds and wants at least 8: so 4 s is the floor here.
    heartbeatMs: envInt(env, 'HEARTBEAT_MS', 25_000, 4_000, 480_000),
    maxBackpressureBytes: envInt(env, 'MAX_BACKPRESSURE', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    presenceTtlMs: envInt(env, 'PRESENCE_TTL_SECONDS', 20, 2, 3600) * 1000,
    typingIntervalMs,
    typingTtlMs,
    readReceipts: envChoice(env, 'READ_RECEIPTS', ['true', 'false'], 'false') === 'true',
    maxReactions: envInt(env, 'MAX_REACTIONS', DEFAULT_MAX_REACTIONS, 1, 1000),
    largeRoom: envInt(env, 'LARGE_ROOM', 1000, 1, 10_000_000),
    presenceCountIntervalMs: envInt(env, 'PRESENCE_COUNT_INTERVAL_MS', 5000, 100, 3_600_000),
    logLevel: envChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}
