// The fault matrix (docs/protocol.md#faults): which rows exist, the bounded and full sizes, and the loop
// that runs the chosen rows one after another. run.mjs (npm run faults) and matrix.test.mjs
// (npm test) both call runMatrix.
import { gatewayKilled } from './rows/gateway-kill.mjs';
import { redisConnectionsKilled, redisPaused, redisRestarted } from './rows/redis-outages.mjs';
import { redisLagging, redisRestartedEmpty } from './rows/redis-loss.mjs';
import { bridgeKilled, mosquittoRestarted } from './rows/mqtt-faults.mjs';
import { slowConsumer } from './rows/slow-consumer.mjs';
import { flooder } from './rows/flooder.mjs';
import { hostileFrames } from './rows/hostile-frames.mjs';
import { rowError } from './lib/row.mjs';

export const ROWS = {
  'gateway-kill': gatewayKilled,
  'redis-paused': redisPaused,
  'redis-restarted': redisRestarted,
  'redis-conn-killed': redisConnectionsKilled,
  'redis-empty': redisRestartedEmpty,
  'redis-lagging': redisLagging,
  'mosquitto-restarted': mosquittoRestarted,
  'bridge-killed': bridgeKilled,
  'slow-consumer': slowConsumer,
  flooder,
  'hostile-frames': hostileFrames,
};

/** Sizes per mode: the bounded default fits `npm test`; --full is the protocol reference's scale. */
export function sizes(full, seed) {
  return {
    full,
    seed,
    members: full ? 300 : 60,
    sdkMembers: full ? 1000 : 300,
    warmMs: full ? 3000 : 1500,
    afterMs: full ? 5000 : 2500,
    pauseMs: 10_000,
    downMs: full ? 2000 : 1000,
    devices: full ? 20 : 5,
    postsPerDevice: full ? 200 : 40,
    fuzzFrames: full ? 10_000 : 1500,
    rateAbuseSeconds: full ? 10 : 3,
  };
}

/** Runs the named rows in order; a row that throws is a FAIL with the reason, the others still run. */
export async function runMatrix(names, opts, log = () => {}) {
  const results = [];
  for (const name of names) {
    const row = ROWS[name];
    if (row === undefined) throw new Error(`unknown row "${name}"; rows: ${Object.keys(ROWS).join(', ')}`);
    const startedAt = Date.now();
    log(`running ${name}...`);
    let result;
    try {
      result = await row(opts);
    } catch (error) {
      result = rowError(name, error, startedAt);
    }
    log(`  ${name}: ${result.pass ? 'PASS' : 'FAIL'} in ${result.seconds} s`);
    results.push(result);
  }
  return results;
}
