import { openCluster, redact } from '@chat/cluster';
import { createBridgeMetrics, createLogger, readConfigOrExit, serveOps, stopOnSignals } from '@chat/runtime';
import { Bridge } from './bridge.js';
import { readBridgeConfig } from './config.js';

// config -> Redis stores, metrics -> bridge (MQTT link, inbound, outbound leader) -> ops port -> shutdown in reverse.
const config = readConfigOrExit('mqtt-bridge', () => readBridgeConfig(process.env));
const log = createLogger(config.logLevel, { service: 'mqtt-bridge', node: config.nodeId });
const metrics = createBridgeMetrics(config.nodeId);
const cluster = openCluster({
  redisUrl: config.redisUrl,
  redisClusterNodes: config.redisClusterNodes,
  prefix: config.redisPrefix,
  historyLimit: config.historyLimit,
  presenceTtlMs: config.presenceTtlMs,
  // A device post's idempotency key must outlive any wait before a redelivery: the next leader
  // resumes the session within a lease period, a restarted broker within minutes; an hour leaves
  // room for a long broker outage.
  idempotencyMs: Math.max(3_600_000, config.leaderLeaseMs * 20),
  name: `bridge-${config.nodeId}`,
  onError: (error) => log.warn('redis connection problem', { error }),
});
const tap = cluster.openTap(`bridge-${config.nodeId}`);
const bridge = new Bridge({
  config,
  bus: cluster.bus,
  history: cluster.history,
  presence: cluster.presence,
  moderation: cluster.moderation,
  ...cluster.bridgeStores(config.leaderLeaseMs),
  tap,
  metrics,
  log,
});
bridge.start();
const ops = await serveOps(config.port, config.host, () => bridge.ready, metrics).catch((error: unknown) => {
  log.error('cannot start', { error });
  process.exit(1);
});
log.info('bridge started', { ops: `http://${config.host}:${config.port}`, mqtt: redact(config.mqttUrl), session: bridge.session });

stopOnSignals(async (signal) => {
  log.info('stopping', { signal });
  await bridge.stop();
  ops.close();
  await tap.close();
  await cluster.close();
  log.info('stopped');
  process.exit(0);
});
