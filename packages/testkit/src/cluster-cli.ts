/**
 * `npm run cluster`: the docker-compose topology without Docker. Redis and Mosquitto from PATH on
 * free ports, three gateways on 8081-8083 (GATEWAY_PORTS to change), one MQTT bridge; prints the
 * URLs, then every line the processes write, each after its process's name (`gateway-1 | ...`).
 * A process that exits is reported and the others keep running; Ctrl-C (or SIGTERM) stops them all.
 * Extra environment (RATE_LIMIT, API_KEY, LOG_LEVEL...) passes through.
 * `--redis-cluster` puts the bus on a Redis Cluster instead of one Redis; `--help` lists the flags.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findBinary, freePort, portOpen, repoRoot, startBridge, startGateway, startMosquitto, startRedis, type Service } from './processes.js';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';

const usage = `usage: npm run cluster [-- [flags]]

Starts Redis, Mosquitto, gateways on 8081-8083 (GATEWAY_PORTS=...) and an MQTT bridge on 9464
(BRIDGE_PORT=...), all from PATH on loopback; prints the URLs and pids, then each process's output
prefixed with its name ("gateway-1 | ..."; colored on a terminal unless NO_COLOR is set). A process
that dies (kill <pid>) is reported with its exit code and the others keep running; Ctrl-C or
SIGTERM stops everything. LOG_LEVEL=debug (default info) reaches the gateways and the bridge.

  --redis-cluster   run the bus on a Redis Cluster of 3 masters with a replica each (redis-server
                    in cluster mode) instead of one Redis: gateways and the bridge get
                    REDIS_CLUSTER_NODES=<seeds> and no REDIS_URL. They use it once the bus has its
                    Redis Cluster backend. A Redis node that dies (kill -9 <pid>) stays dead and the
                    rest keeps running: its replica takes over, which is reported here.
  --gateways N      start N gateways (default: one per GATEWAY_PORTS entry, 3); 0 starts none
  --no-bridge       do not start the MQTT bridge
  -h, --help        this text
`;

const flags = (() => {
  try {
    return parseArgs({
      options: {
        'redis-cluster': { type: 'boolean', default: false },
        gateways: { type: 'string' },
        'no-bridge': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`cluster: ${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
})();
if (flags.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const gatewayPorts = (process.env.GATEWAY_PORTS ?? '8081,8082,8083').split(',').map(Number)
  .slice(0, flags.gateways === undefined ? undefined : gatewayCount(flags.gateways));
const bridgePort = Number(process.env.BRIDGE_PORT ?? 9464);
const started: Service[] = [];
const names = new Map<Service, string>();
/** Every name is padded to the longest one that can occur, so the output's columns line up. */
const nameWidth = Math.max(...['mosquitto', `gateway-${gatewayPorts.length}`, 'bridge-1', flags['redis-cluster'] ? 'redis-65535' : 'redis'].map((n) => n.length));
const colored = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const COLORS = [36, 33, 32, 35, 34, 31, 96, 93, 92, 95];

/** Counts `service` among the cluster's processes and shows its output, each line after its name. */
function show(name: string, service: Service): void {
  started.push(service);
  names.set(service, name);
  const label = name.padEnd(nameWidth);
  const prefix = colored ? `\x1b[${COLORS[(names.size - 1) % COLORS.length]}m${label} |\x1b[0m ` : `${label} | `;
  service.follow((line) => process.stdout.write(`${prefix}${line}\n`));
}

function gatewayCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`cluster: --gateways ${text} is not a count\n`);
    process.exit(2);
  }
  return n;
}

/** What gateways and the bridge are given to reach the bus, and the lines that describe it. */
interface Bus { redisUrl?: string; env: Record<string, string>; lines: string[] }

let redisCluster: RedisCluster | undefined;

async function startBus(): Promise<Bus> {
  if (!flags['redis-cluster']) {
    const redis = await startRedis();
    show('redis', redis);
    return { redisUrl: redis.url, env: {}, lines: [`  redis:       ${redis.url}  pid ${redis.pid}`] };
  }
  redisCluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  for (const node of redisCluster.nodes) show(`redis-${node.port}`, node);
  // REDIS_URL and REDIS_CLUSTER_NODES exclude each other (docs/protocol.md#configuration): one set in this shell
  // must not reach the nodes beside the cluster's seeds.
  delete process.env.REDIS_URL;
  const lines = [`  redis cluster (REDIS_CLUSTER_NODES=${redisCluster.seeds}):`];
  const masters = await redisCluster.masters();
  for (const master of masters) {
    const replicas = await redisCluster.replicasOf(master);
    lines.push(`    master  ${master.address}  pid ${master.pid}  id ${master.id.slice(0, 12)}`);
    for (const replica of replicas) lines.push(`      replica ${replica.address}  pid ${replica.pid}  id ${replica.id.slice(0, 12)}`);
  }
  lines.push('    a node killed (kill -9 <pid>) stays dead; its replica takes over its slots');
  return { env: { REDIS_CLUSTER_NODES: redisCluster.seeds }, lines };
}

/** A Redis Cluster node that exits is reported, not fatal: showing the failover is the point. */
async function reportClusterNodeExit(cluster: RedisCluster, id: string, code: number | null): Promise<void> {
  const node = cluster.node(id);
  const replicas = await cluster.replicasOf(id).catch(() => []);
  process.stderr.write(`redis cluster node ${node.address} (pid ${node.pid}) exited (${code}); it stays down, the rest keeps running\n`);
  if (replicas.length === 0) return;
  try {
    const promoted = await cluster.waitForFailover(id, 30_000);
    process.stderr.write(`redis cluster: replica ${promoted.address} (pid ${promoted.pid}) now serves the slots of ${node.address}\n`);
  } catch (error) {
    process.stderr.write(`redis cluster: no replica took over from ${node.address}: ${(error as Error).message}\n`);
  }
}

async function main(): Promise<void> {
  const bus = await startBus();
  // The broker as deployed: the project's ACL (a device may post only as itself), the bridge's
  // account admitted only with its password (a fresh one per run), queues sized for bursts.
  const bridgePassword = randomBytes(18).toString('base64url');
  const mosquitto = await startMosquitto({
    port: await preferred(1883),
    wsPort: await preferred(9001),
    config: `allow_anonymous true\npassword_file ${bridgePasswordFile(bridgePassword)}\nacl_file ${join(repoRoot, 'deploy/mosquitto/acl')}\nmax_inflight_messages 100\nmax_queued_messages 10000\n`,
  });
  show('mosquitto', mosquitto);
  const logLevel = process.env.LOG_LEVEL ?? 'info';
  const gateways = [];
  for (const [i, port] of gatewayPorts.entries()) {
    const gateway = await startGateway({ ...busOptions(bus), port, env: { ...bus.env, NODE_ID: `gateway-${i + 1}`, LOG_LEVEL: logLevel } });
    show(gateway.nodeId, gateway);
    gateways.push(gateway);
  }
  const bridge = flags['no-bridge'] ? undefined
    : await startBridge({ ...busOptions(bus), port: bridgePort, env: { ...bus.env, NODE_ID: 'bridge-1', MQTT_URL: mosquitto.url, MQTT_PASSWORD: bridgePassword, LOG_LEVEL: logLevel } });
  if (bridge !== undefined) show('bridge-1', bridge);

  const lines = [
    'chat cluster is up (Ctrl-C stops it)',
    ...gateways.map((g) => `  ${g.nodeId}: ${g.url}  pid ${g.pid}  (chat page; WebSocket ${g.wsUrl}; metrics ${g.url}/metrics)`),
    ...(bridge === undefined ? [] : [`  mqtt-bridge: http://127.0.0.1:${bridgePort}/metrics  pid ${bridge.pid}`]),
    ...bus.lines,
    `  mosquitto:   ${mosquitto.url}  pid ${mosquitto.pid}  (WebSockets ws://127.0.0.1:${mosquitto.wsPort})`,
    `  try:         mosquitto_sub -p ${mosquitto.port} -i watcher-1 -t 'chat/rooms/lobby/messages' -v`,
    `               mosquitto_pub -p ${mosquitto.port} -i sensor-1 -t 'chat/rooms/lobby/send/sensor-1' -m 'hello from a device'`,
    ...(gateways.length === 0 ? [] : [`  load test:   TARGET=${gateways.map((g) => g.wsUrl).join(',')} npm run loadtest`]),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const clusterNodes = new Map((redisCluster?.nodes ?? []).map((node) => [node as Service, node.id]));
  let alive = started.length;
  for (const service of started) {
    void service.exited.then(async (code) => {
      alive--;
      const clusterNodeId = clusterNodes.get(service);
      if (!stopping && redisCluster !== undefined && clusterNodeId !== undefined) {
        await reportClusterNodeExit(redisCluster, clusterNodeId, code);
      } else if (!stopping) {
        const how = service.exitSignal() === null ? `exited with code ${code}` : `was killed by ${service.exitSignal()}`;
        process.stderr.write(`${names.get(service)} (pid ${service.pid}) ${how}; the others keep running (Ctrl-C stops them)\n`);
      }
      if (!stopping && alive === 0) {
        process.stderr.write('every process of the cluster has exited\n');
        void stop(1);
      }
    });
  }
}

/** `{ redisUrl }` when the bus is one Redis; nothing for a Redis Cluster (its seeds are in env). */
function busOptions(bus: Bus): { redisUrl?: string } {
  return bus.redisUrl === undefined ? {} : { redisUrl: bus.redisUrl };
}

/** A Mosquitto password file holding the bridge's account, in a folder of its own that Mosquitto (dropping to its own user) can read. */
function bridgePasswordFile(password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-cluster-passwd-'));
  chmodSync(dir, 0o755);
  const path = join(dir, 'passwd');
  writeFileSync(path, '', { mode: 0o644 });
  execFileSync(findBinary('mosquitto_passwd', 'apt-get install mosquitto'), ['-b', path, 'chat-bridge', password]);
  return path;
}

/** The conventional port when it is free (so the README's mosquitto_pub lines work as written), else any. */
async function preferred(port: number): Promise<number> {
  return (await portOpen(port)) ? freePort() : port;
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Reverse order: nodes drain before the bus they drain through goes away.
  for (const service of [...started].reverse()) await service.stop('SIGTERM');
  await redisCluster?.stop();
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
main().catch(async (error: unknown) => {
  process.stderr.write(`cluster: ${(error as Error).message}\n`);
  await stop(1);
});
