/**
 * `npm run cluster`: the docker-compose topology without Docker. Redis and Mosquitto from PATH on
 * free ports, three gateways on 8081-8083 (GATEWAY_PORTS to change), one MQTT bridge; prints the
 * URLs and stops everything on Ctrl-C. Extra environment (RATE_LIMIT, API_KEY...) passes through.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, portOpen, repoRoot, startBridge, startGateway, startMosquitto, startRedis, type Service } from './processes.js';

const gatewayPorts = (process.env.GATEWAY_PORTS ?? '8081,8082,8083').split(',').map(Number);
const bridgePort = Number(process.env.BRIDGE_PORT ?? 9464);
const started: Service[] = [];

async function main(): Promise<void> {
  const redis = await startRedis();
  started.push(redis);
  // The broker as deployed: the project's ACL (a device may post only as itself), the bridge's
  // account admitted only with its password (a fresh one per run), queues sized for bursts.
  const bridgePassword = randomBytes(18).toString('base64url');
  const mosquitto = await startMosquitto({
    port: await preferred(1883),
    wsPort: await preferred(9001),
    config: `allow_anonymous true\npassword_file ${bridgePasswordFile(bridgePassword)}\nacl_file ${join(repoRoot, 'deploy/mosquitto/acl')}\nmax_inflight_messages 100\nmax_queued_messages 10000\n`,
  });
  started.push(mosquitto);
  const logLevel = process.env.LOG_LEVEL ?? 'info';
  const gateways = [];
  for (const [i, port] of gatewayPorts.entries()) {
    const gateway = await startGateway({ redisUrl: redis.url, port, env: { NODE_ID: `gateway-${i + 1}`, LOG_LEVEL: logLevel } });
    started.push(gateway);
    gateways.push(gateway);
  }
  const bridge = await startBridge({ redisUrl: redis.url, port: bridgePort, env: { NODE_ID: 'bridge-1', MQTT_URL: mosquitto.url, MQTT_PASSWORD: bridgePassword, LOG_LEVEL: logLevel } });
  started.push(bridge);

  const lines = [
    'chat cluster is up (Ctrl-C stops it)',
    ...gateways.map((g) => `  ${g.nodeId}: ${g.url}  (chat page; WebSocket ${g.wsUrl}; metrics ${g.url}/metrics)`),
    `  mqtt-bridge: http://127.0.0.1:${bridgePort}/metrics`,
    `  redis:       ${redis.url}`,
    `  mosquitto:   ${mosquitto.url}  (WebSockets ws://127.0.0.1:${mosquitto.wsPort})`,
    `  try:         mosquitto_sub -p ${mosquitto.port} -i watcher-1 -t 'chat/rooms/lobby/messages' -v`,
    `               mosquitto_pub -p ${mosquitto.port} -i sensor-1 -t 'chat/rooms/lobby/send/sensor-1' -m 'hello from a device'`,
    `  load test:   TARGET=${gateways.map((g) => g.wsUrl).join(',')} npm run loadtest`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const service of started) {
    void service.exited.then((code) => {
      if (!stopping) {
        process.stderr.write(`a cluster process exited (${code}); stopping the rest\n${service.output().slice(-2000)}\n`);
        void stop(1);
      }
    });
  }
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
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
main().catch(async (error: unknown) => {
  process.stderr.write(`cluster: ${(error as Error).message}\n`);
  await stop(1);
});
