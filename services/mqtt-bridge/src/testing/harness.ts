/**
 * Real peers for the bridge's integration tests: Redis, Mosquitto with the deploy/mosquitto ACL,
 * bridge processes, and a "chat side" (the cluster package on the same Redis) to read room logs and
 * publish as a WebSocket user would. Exists for tests only; add a helper here when a test needs one.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeKeys, openCluster, type Cluster } from '@chat/cluster';
import {
  findBinary, portOpen, repoRoot, startBridge, startMosquitto, startProcess, startRedis, startRedisCluster, waitFor,
  type MosquittoBroker, type NodeService, type RedisServer, type Service,
} from '@chat/testkit';

/** The bridge's password in the tests' password files. */
export const BRIDGE_PASSWORD = 'bridge-test-secret';

/** A Mosquitto password file with these accounts, readable by Mosquitto once it dropped to its own user. */
export function passwordFile(accounts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-passwd-'));
  chmodSync(dir, 0o755);
  const path = join(dir, 'passwd');
  writeFileSync(path, '', { mode: 0o644 });
  const tool = findBinary('mosquitto_passwd', 'apt-get install mosquitto');
  for (const [user, password] of Object.entries(accounts)) execFileSync(tool, ['-b', path, user, password]);
  return path;
}

/**
 * The shipped local configuration of deploy/mosquitto: anonymous devices pinned by client id, and
 * the bridge's account admitted only with its password.
 */
export function aclConfig(): string {
  return `allow_anonymous true\npassword_file ${passwordFile({ 'chat-bridge': BRIDGE_PASSWORD })}\nacl_file ${join(repoRoot, 'deploy/mosquitto/acl')}\n`;
}

/** The broker and the bus the bridge and the chat side share. */
export interface BusPeers {
  broker: MosquittoBroker;
  /** What points a process at the bus: REDIS_URL or REDIS_CLUSTER_NODES. */
  busEnv: Record<string, string>;
  stop(): Promise<void>;
}

export interface Peers extends BusPeers {
  redis: RedisServer;
}

/** `brokerConfig` is appended to the ACL configuration (say, the queue limits of deploy/mosquitto). */
export async function startPeers(brokerConfig = ''): Promise<Peers> {
  const [redis, broker] = await Promise.all([startRedis(), startMosquitto({ config: aclConfig() + brokerConfig })]);
  return { redis, broker, busEnv: { REDIS_URL: redis.url }, stop: async () => { await Promise.all([redis.kill(), broker.kill()]); } };
}

/** The broker and a Redis Cluster of 3 masters with a replica each. */
export async function startClusterPeers(): Promise<BusPeers> {
  const [redis, broker] = await Promise.all([startRedisCluster(), startMosquitto({ config: aclConfig() })]);
  return { broker, busEnv: { REDIS_CLUSTER_NODES: redis.seeds }, stop: async () => { await Promise.all([redis.stop(), broker.kill()]); } };
}

/**
 * Mosquitto again, after `broker` stopped: the same configuration, so the same port and persistence
 * file (startMosquitto's folder is writable by the user Mosquitto drops to). Resolves once it listens.
 */
export async function startBrokerAgain(broker: MosquittoBroker): Promise<Service> {
  const again = startProcess(findBinary('mosquitto', 'apt-get install mosquitto'), ['-c', broker.configPath]);
  await waitFor('the broker back', async () => ((await portOpen(broker.port)) ? true : undefined), 10_000);
  return again;
}

let seq = 0;
/** A key prefix of its own per test, so tests sharing a Redis never see each other. */
export function uniquePrefix(): string {
  return `t${process.pid}n${++seq}:`;
}

/** Short lease and presence TTL so takeovers and expiries happen within a test's time. */
export async function bridgeProcess(peers: BusPeers, prefix: string, env: Record<string, string> = {}): Promise<NodeService> {
  return startBridge({
    env: { ...peers.busEnv, MQTT_URL: peers.broker.url, MQTT_PASSWORD: BRIDGE_PASSWORD, REDIS_PREFIX: prefix, LEADER_LEASE_MS: '1000', PRESENCE_TTL_SECONDS: '3', ...env },
  });
}

/** The cluster as a gateway sees it: publish as a user, read room logs, follow a room. */
export function chatSide(peers: BusPeers, prefix: string): Cluster {
  const clusterNodes = peers.busEnv.REDIS_CLUSTER_NODES?.split(',');
  return openCluster({ redisUrl: peers.busEnv.REDIS_URL, redisClusterNodes: clusterNodes, prefix, historyLimit: 1000, presenceTtlMs: 3000, name: 'test-chat' });
}

export async function connected(cluster: Cluster): Promise<void> {
  await waitFor('the chat side to reach Redis', async () => (cluster.bus.connected ? true : undefined), 5_000);
}

/** The value of one series of a bridge's /metrics, 0 when absent. */
export async function metric(bridge: NodeService, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** The NODE_ID of the replica holding the leader lease, once one does. */
export function leaderOf(chat: Cluster, prefix: string): Promise<string> {
  return waitFor('an outbound leader', async () => {
    const value = await chat.redis!.command.get(new BridgeKeys(prefix).leader);
    return value === null ? undefined : value.slice(0, value.indexOf('#'));
  });
}
