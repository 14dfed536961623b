import { openCluster } from '@chat/cluster';
import { createGatewayMetrics, createLogger, readConfigOrExit, stopOnSignals } from '@chat/runtime';
import { readGatewayConfig } from './config.js';
import { Gateway } from './gateway.js';
import { JoseTokenVerifier } from './jose-token-verifier.js';
import { loadStaticFiles } from './static-files.js';
import { UwsTransport, assertNativeUws } from './uws-transport.js';

// config -> bus, history, presence, metrics -> gateway core -> transport -> listen -> shutdown in reverse.
const config = readConfigOrExit('gateway', () => readGatewayConfig(process.env));
const log = createLogger(config.logLevel, { service: 'gateway', node: config.nodeId });
try {
  assertNativeUws();
} catch (error) {
  log.error('refusing to start', { error });
  process.exit(1);
}
const metrics = createGatewayMetrics(config.nodeId);
const cluster = openCluster({
  redisUrl: config.redisUrl,
  redisClusterNodes: config.redisClusterNodes,
  prefix: config.redisPrefix,
  historyLimit: config.historyLimit,
  presenceTtlMs: config.presenceTtlMs,
  idempotencyMs: config.idempotencyMs,
  name: config.nodeId,
  onError: (error) => log.warn('bus connection problem', { error }),
});
const gateway = new Gateway({ config, ...cluster, metrics, log });
const verifier = config.auth === undefined ? undefined : new JoseTokenVerifier(config.auth, log);
const transport = new UwsTransport(gateway, config, verifier, metrics, loadStaticFiles(), log);
const port = await transport.listen().catch((error: unknown) => {
  log.error('cannot start', { error });
  process.exit(1);
});
log.info('gateway listening', { url: `http://${config.host}:${port}`, bus: config.redisClusterNodes !== undefined ? 'redis-cluster' : config.redisUrl === undefined ? 'in-process' : 'redis', auth: config.auth?.keys.kind ?? 'off' });
if (config.apiKey === undefined) log.warn('API_KEY is not set: the HTTP publish routes accept anyone who can reach this port');

stopOnSignals(async (signal) => {
  log.info('draining', { signal, drainSeconds: config.drainMs / 1000 });
  await gateway.drain();
  transport.stopListening();
  await gateway.stop();
  await cluster.close();
  log.info('stopped');
  process.exit(0);
});
