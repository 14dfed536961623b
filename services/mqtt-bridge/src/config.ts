import { createHash } from 'node:crypto';
import { NAME_PATTERN } from '@chat/protocol';
import { ConfigError, LOG_LEVELS, envChoice, envHostPorts, envInt, envName, envOptional, envString, envUrl, safeHostname, type Env, type LogLevel } from '@chat/runtime';

/** Everything the bridge reads from its environment (docs/protocol.md#mqtt, docs/protocol.md#configuration), validated once at start. */
export interface BridgeConfig {
  port: number;
  host: string;
  /** Unique per replica and stable across its restarts: it names the replica's MQTT session. */
  nodeId: string;
  mqttUrl: string;
  /** The broker account with the bridge's ACL rights (deploy/mosquitto/acl: `chat-bridge`). */
  mqttUsername: string;
  mqttPassword: string | undefined;
  /**
   * The client id of the one persistent session that takes device posts, shared by every replica:
   * only the leader holds it. Unset, it is derived from the account and password (see sessionClientId).
   */
  mqttClientId: string;
  /** How long the broker keeps that session (and queues posts for it) while no leader holds it. */
  mqttSessionExpirySec: number;
  /** One Redis, or (redisClusterNodes) the seeds of a Redis Cluster: exactly one of them is set. */
  redisUrl: string | undefined;
  redisClusterNodes: string[] | undefined;
  redisPrefix: string;
  historyLimit: number;
  maxTextChars: number;
  presenceTtlMs: number;
  /** Outbound leader lease; a dead leader's successor takes over within about this long. */
  leaderLeaseMs: number;
  logLevel: LogLevel;
}

export function readBridgeConfig(env: Env): BridgeConfig {
  const mqttUsername = envName(env, 'MQTT_USERNAME', 'chat-bridge', NAME_PATTERN);
  const mqttPassword = envOptional(env, 'MQTT_PASSWORD');
  return {
    port: envInt(env, 'PORT', 9464, 0, 65535),
    host: envString(env, 'HOST', '0.0.0.0'),
    nodeId: envName(env, 'NODE_ID', safeHostname('bridge'), NAME_PATTERN),
    mqttUrl: required('MQTT_URL', envUrl(env, 'MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:']), 'mqtt://127.0.0.1:1883'),
    mqttUsername,
    mqttPassword,
    mqttClientId: envName(env, 'MQTT_CLIENT_ID', sessionClientId(mqttUsername, mqttPassword), NAME_PATTERN),
    mqttSessionExpirySec: envInt(env, 'MQTT_SESSION_EXPIRY_SECONDS', 86_400, 10, 7 * 24 * 3600),
    ...redisTarget(env),
    redisPrefix: envName(env, 'REDIS_PREFIX', 'chat:', /^[A-Za-z0-9_.:-]{0,64}$/),
    historyLimit: envInt(env, 'HISTORY_LIMIT', 1000, 1, 1_000_000),
    maxTextChars: envInt(env, 'MAX_TEXT', 4000, 1, 1_000_000),
    presenceTtlMs: envInt(env, 'PRESENCE_TTL_SECONDS', 20, 2, 3600) * 1000,
    leaderLeaseMs: envInt(env, 'LEADER_LEASE_MS', 5000, 300, 600_000),
    logLevel: envChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}

/** REDIS_URL or REDIS_CLUSTER_NODES: the bridge needs one of them (it has no in-process bus), not both. */
function redisTarget(env: Env): { redisUrl: string | undefined; redisClusterNodes: string[] | undefined } {
  const redisUrl = envUrl(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const redisClusterNodes = envHostPorts(env, 'REDIS_CLUSTER_NODES');
  if (redisUrl !== undefined && redisClusterNodes !== undefined) throw new ConfigError('REDIS_CLUSTER_NODES', 'set it or REDIS_URL, not both');
  if (redisUrl === undefined && redisClusterNodes === undefined) {
    throw new ConfigError('REDIS_URL', 'is required (or REDIS_CLUSTER_NODES), e.g. redis://127.0.0.1:6379');
  }
  return { redisUrl, redisClusterNodes };
}

/**
 * `<username>-<16 hex digits of a digest of the password>`, or the bare username with no password.
 * Mosquitto lets any client, even an anonymous one, take over any client id; a client that took the
 * bridge's session would make the broker discard the posts queued there (it may not read them).
 * A client id that only holders of the password can compute closes that door. Changing the password
 * moves the session: set MQTT_CLIENT_ID to keep it across a rotation.
 */
export function sessionClientId(username: string, password: string | undefined): string {
  if (password === undefined || password === '') return username;
  const digest = createHash('sha256').update('chat-bridge session\u0000').update(username).update('\u0000').update(password).digest('hex');
  return `${username}-${digest.slice(0, 16)}`;
}

function required(name: string, value: string | undefined, example: string): string {
  if (value === undefined) throw new ConfigError(name, `is required, e.g. ${example}`);
  return value;
}
