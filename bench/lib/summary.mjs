// Reduces the runs to one figure each: the median over runs with its spread (min..max), and the
// ratio of this product's median to each peer's.
const PRODUCT = 'gateway';

/**
 * [figure name, unit, how to read it from one run of one system, options]. `{ ratio: false }`
 * marks a figure that is not the system's (redis-benchmark on its Redis): no gateway ÷ peer.
 */
export const FIGURES = [
  ['RSS per idle connection @10k', 'bytes', (r) => r.idle10k?.bytesPerConnection],
  ['RSS per idle connection @19.5k', 'bytes', (r) => r.idle19500?.bytesPerConnection],
  ['RSS per connection in a room of 10 @10k', 'bytes', (r) => r.rooms10k?.bytesPerConnection],
  ['connections accepted/s (driver-bound)', '1/s', (r) => r.idle10k?.acceptPerSec],
  ['server CPU per accepted connection', 'µs', (r) => r.idle10k?.serverCpuUsPerAccept],
  ['room 100: deliveries/s at p99 < 5 ms', '1/s', (r) => r.fanout100?.p99under5ms?.deliveredPerSec ?? zeroIfRan(r.fanout100)],
  ['room 100: deliveries/s at p99 < 50 ms', '1/s', (r) => r.fanout100?.p99under50ms?.deliveredPerSec ?? zeroIfRan(r.fanout100)],
  ['room 100 @ p99<5ms rate: cross-node p50', 'ms', (r) => r.fanout100?.p99under5ms?.crossNodeMs?.p50],
  ['room 100 @ p99<5ms rate: cross-node p99', 'ms', (r) => r.fanout100?.p99under5ms?.crossNodeMs?.p99],
  ['room 1000: deliveries/s at p99 < 5 ms', '1/s', (r) => r.fanout1000?.p99under5ms?.deliveredPerSec ?? zeroIfRan(r.fanout1000)],
  ['room 1000: deliveries/s at p99 < 50 ms', '1/s', (r) => r.fanout1000?.p99under50ms?.deliveredPerSec ?? zeroIfRan(r.fanout1000)],
  ['room 100: server CPU per delivery (all nodes)', 'µs', (r) => r.fanout100?.p99under50ms?.serverCpuUsPerDelivery],
  ['room 1000: server CPU per delivery (all nodes)', 'µs', (r) => r.fanout1000?.p99under50ms?.serverCpuUsPerDelivery],
  ['Redis CPU per 100k deliveries (room 100)', 'ms', (r) => r.fanout100?.p99under50ms?.redisCpuMsPer100kDeliveries],
  ['Redis CPU per 100k deliveries (room 1000)', 'ms', (r) => r.fanout1000?.p99under50ms?.redisCpuMsPer100kDeliveries],
  ...[100, 1000, 5000].flatMap((rate) => ['p50', 'p99', 'max'].map((stat) => [
    `cross-node ${stat} @ ${rate} msg/s`, 'ms', (r) => r.crossNode?.byRate?.find((b) => b.ratePerSec === rate)?.crossNodeMs?.[stat],
  ])),
  ['60k conns / 4 nodes: connected', '', (r) => r.concurrency60k?.connections],
  ['60k conns / 4 nodes: deliveries/s', '1/s', (r) => r.concurrency60k?.deliveredPerSec],
  ['60k conns / 4 nodes: p50', 'ms', (r) => r.concurrency60k?.latencyMs?.p50],
  ['60k conns / 4 nodes: p99', 'ms', (r) => r.concurrency60k?.latencyMs?.p99],
  ['60k conns / 4 nodes: max', 'ms', (r) => r.concurrency60k?.latencyMs?.max],
  ['bus: acked msgs/s at ack p99 < 50 ms (1000 rooms)', '1/s', (r) => r.busIngest?.ackP99UnderBudget?.ackedPerSec ?? zeroIfRan(r.busIngest)],
  ['bus: ack p99 at that rate', 'ms', (r) => r.busIngest?.ackP99UnderBudget?.ackMs?.p99],
  ['bus: server CPU per acked message (all nodes)', 'µs', (r) => r.busIngest?.ackP99UnderBudget?.serverCpuUsPerMessage],
  ['bus: Redis CPU per 1k acked messages', 'ms', (r) => r.busIngest?.ackP99UnderBudget?.redisCpuMsPer1kMessages],
  ['bus: redis-benchmark SET on the same Redis', '1/s', (r) => r.busIngest?.redisBenchmark?.setPerSec, { ratio: false }],
  ['bus: redis-benchmark XADD+PUBLISH script on the same Redis', '1/s', (r) => r.busIngest?.redisBenchmark?.xaddPublishPerSec, { ratio: false }],
];

/** A fan-out that ran but sustained no step within the budget scores 0, not "missing". */
function zeroIfRan(fanout) {
  return fanout && !fanout.error ? 0 : undefined;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(results) {
  const systemNames = Object.keys(results.systems);
  return FIGURES.map(([name, unit, read, { ratio = true } = {}]) => {
    const bySystem = {};
    for (const system of systemNames) {
      const values = results.runs.map((run) => run[system] && read(run[system])).filter((v) => typeof v === 'number' && Number.isFinite(v));
      if (values.length) bySystem[system] = { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
    }
    const product = bySystem[PRODUCT]?.median;
    const ratios = {};
    for (const system of systemNames) {
      const peer = bySystem[system]?.median;
      if (ratio && system !== PRODUCT && product !== undefined && peer) ratios[system] = product / peer;
    }
    return { name, unit, bySystem, ratios };
  });
}
