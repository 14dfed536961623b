// The measured scenarios. Each starts its own Redis and server nodes, so no figure inherits
// another's memory or subscriptions, and stops everything before it returns.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { systems, startRedis, startNodes, rssBytes, cpuMs } from './systems.mjs';
import { startWorkers, stopWorkers, resetAll, reportAll } from './driver.mjs';

const run = promisify(execFile);

/** Connections one driver worker holds at most, well under the per-process open-file limit. */
const CONNECTIONS_PER_WORKER = 10_000;
const OPEN_CONCURRENCY_PER_WORKER = 200;

async function withCluster(systemName, nodeCount, body) {
  const redis = await startRedis();
  let cluster;
  try {
    cluster = await startNodes(systemName, nodeCount, redis.url);
    return await body(cluster, redis);
  } finally {
    await cluster?.stop();
    await redis.stop();
  }
}

async function withWorkers(count, body) {
  const workers = startWorkers(count);
  try {
    return await body(workers);
  } finally {
    stopWorkers(workers);
  }
}

/** Splits `specs` into `workerCount` contiguous slices, one per worker. */
function slices(specs, workerCount) {
  const size = Math.ceil(specs.length / workerCount);
  return Array.from({ length: workerCount }, (_, i) => specs.slice(i * size, (i + 1) * size));
}

async function openAll(workers, protocol, specSlices) {
  const results = await Promise.all(workers.map((w, i) => w.call('open', {
    protocol, specs: specSlices[i], concurrency: OPEN_CONCURRENCY_PER_WORKER, localAddresses: w.localAddresses,
  })));
  return {
    opened: results.reduce((a, r) => a + r.opened, 0),
    failed: results.reduce((a, r) => a + r.failed, 0),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
    ms: Math.max(...results.map((r) => r.ms)),
  };
}

/**
 * `count` connections to one node, upgraded and welcomed, in no room, or with `roomSize` each in
 * a room of that many. Gives the server's RSS per connection and the accept rate (bounded by the
 * driver on this machine; the server's CPU time per accepted connection is reported beside it as
 * the driver-independent figure; with rooms it includes the joins).
 */
export async function idleConnections(systemName, { count, roomSize = 0, settleMs = 3000 }) {
  const system = systems[systemName];
  return withCluster(systemName, 1, async ({ nodes: [node] }) => {
    await sleep(1000);
    const rssBefore = rssBytes(node.pid);
    const cpuBefore = cpuMs(node.pid);
    const specs = Array.from({ length: count }, (_, i) => ({
      url: node.url, node: 0, user: `idle${i}`, room: roomSize ? `g${Math.floor(i / roomSize)}` : null, sender: false,
    }));
    const workerCount = Math.max(2, Math.ceil(count / CONNECTIONS_PER_WORKER));
    return withWorkers(workerCount, async (workers) => {
      const open = await openAll(workers, system.protocol, slices(specs, workerCount));
      const acceptCpuMs = cpuMs(node.pid) - cpuBefore;
      await sleep(settleMs);
      const rssAfter = rssBytes(node.pid);
      return {
        roomSize,
        connections: open.opened,
        failed: open.failed,
        firstError: open.firstError,
        rssBeforeMiB: rssBefore / 2 ** 20,
        rssAfterMiB: rssAfter / 2 ** 20,
        bytesPerConnection: (rssAfter - rssBefore) / open.opened,
        acceptPerSec: open.opened / (open.ms / 1000),
        serverCpuUsPerAccept: (acceptCpuMs * 1000) / open.opened,
      };
    });
  });
}

/** The Redis commands that took the most time between two INFO commandstats readings. */
function topCommands(before, after, count = 5) {
  return Object.entries(after)
    .map(([name, { calls, usec }]) => ({ name, calls: calls - (before[name]?.calls ?? 0), usec: usec - (before[name]?.usec ?? 0) }))
    .filter((c) => c.calls > 0)
    .sort((a, b) => b.usec - a.usec)
    .slice(0, count);
}

async function measureWindow({ workers, senderWorkers, nodes, redis, ratePerSender, warmupMs, measureMs, drainMs = 300, acked = false }) {
  await Promise.all(senderWorkers.map((w) => w.call('send', { ratePerSender, durationMs: warmupMs, acked })));
  await resetAll(workers);
  const serverCpuBefore = nodes.map((n) => cpuMs(n.pid));
  const redisCpuBefore = await redis.cpuSeconds();
  const commandsBefore = await redis.commandStats();
  const redisWindowStarted = Date.now();
  const sendResults = await Promise.all(senderWorkers.map((w) => w.call('send', { ratePerSender, durationMs: measureMs, acked })));
  await sleep(drainMs);
  const latency = await reportAll(workers);
  const redisCpuMs = ((await redis.cpuSeconds()) - redisCpuBefore) * 1000;
  const redisTopCommands = topCommands(commandsBefore, await redis.commandStats());
  const redisWindowMs = Date.now() - redisWindowStarted;
  const serverCpuMs = nodes.reduce((a, n, i) => a + cpuMs(n.pid) - serverCpuBefore[i], 0);
  const deliveries = latency.all.total;
  return {
    sent: sendResults.reduce((a, r) => a + r.sent, 0),
    deliveries,
    deliveredPerSec: deliveries / (measureMs / 1000),
    latencyMs: latency.all.summary(),
    crossNodeMs: latency.crossNode.summary(),
    ...(acked && {
      acked: latency.ack.total,
      ackedPerSec: latency.ack.total / (measureMs / 1000),
      ackMs: latency.ack.summary(),
      ackErrors: latency.ackErrors,
      firstAckError: latency.firstAckError,
    }),
    serverCpuMs,
    redisCpuMs,
    redisTopCommands,
    redisWindowMs,
    driverCpuMs: latency.driverCpuMs,
    redisCpuMsPer100kDeliveries: deliveries ? (redisCpuMs * 100_000) / deliveries : null,
    serverCpuUsPerDelivery: deliveries ? (serverCpuMs * 1000) / deliveries : null,
  };
}

/**
 * One room of `roomSize` members, half on each of two nodes, one sender on node 0. Steps the
 * send rate up through `targets` (deliveries/s) until p99 passes the largest budget or the
 * system falls behind; a step is sustained when at least 95% of the deliveries its sends owe
 * arrived within the window plus a short drain.
 */
export async function roomFanout(systemName, { roomSize, targets, budgetsMs = [5, 50], warmupMs = 1000, measureMs = 3000 }) {
  const system = systems[systemName];
  return withCluster(systemName, 2, async ({ nodes }, redis) => {
    const room = `fan${roomSize}`;
    const specs = Array.from({ length: roomSize }, (_, i) => {
      const node = i % 2;
      return { url: nodes[node].url, node, user: `m${i}`, room, sender: i === 0 };
    });
    return withWorkers(2, async (workers) => {
      const open = await openAll(workers, system.protocol, [specs.filter((s) => s.node === 0), specs.filter((s) => s.node === 1)]);
      if (open.failed) throw new Error(`fan-out: ${open.failed} connections failed: ${open.firstError}`);
      const steps = [];
      const withinBudget = (step) => step.sustained && step.latencyMs.p99 <= Math.max(...budgetsMs);
      for (const target of targets) {
        const measure = async () => {
          const step = await measureWindow({
            workers, senderWorkers: [workers[0]], nodes, redis, ratePerSender: target / roomSize, warmupMs, measureMs,
          });
          step.targetPerSec = target;
          step.sustained = step.deliveries >= 0.95 * step.sent * roomSize;
          return step;
        };
        // On a shared machine one window can catch another tenant's burst: a failed step gets
        // one more try, and the better of the two counts.
        let step = await measure();
        if (!withinBudget(step)) {
          const retry = await measure();
          if (withinBudget(retry) || retry.latencyMs.p99 < step.latencyMs.p99) step = retry;
        }
        steps.push(step);
        process.stdout.write(`${Math.round(step.deliveredPerSec / 1000)}k/s p99 ${step.latencyMs.p99} ms${step.sustained ? '' : ' (behind)'}; `);
        if (!withinBudget(step)) break;
        await sleep(300);
      }
      const best = Object.fromEntries(budgetsMs.map((budget) => {
        const fits = steps.filter((s) => s.sustained && s.latencyMs.p99 <= budget);
        const top = fits.at(-1);
        return [`p99under${budget}ms`, top ? {
          deliveredPerSec: top.deliveredPerSec, targetPerSec: top.targetPerSec, crossNodeMs: top.crossNodeMs,
          redisCpuMsPer100kDeliveries: top.redisCpuMsPer100kDeliveries, serverCpuUsPerDelivery: top.serverCpuUsPerDelivery,
        } : null];
      }));
      return { roomSize, ...best, steps };
    });
  });
}

/** A sender on node 0 and one member on node 1; cross-node latency at fixed message rates. */
export async function crossNodeLatency(systemName, { rates, warmupMs = 1000, measureMs = 3000 }) {
  const system = systems[systemName];
  return withCluster(systemName, 2, async ({ nodes }, redis) => {
    const specs = [
      { url: nodes[0].url, node: 0, user: 'xsender', room: 'cross', sender: true },
      { url: nodes[1].url, node: 1, user: 'xreceiver', room: 'cross', sender: false },
    ];
    return withWorkers(2, async (workers) => {
      const open = await openAll(workers, system.protocol, [[specs[0]], [specs[1]]]);
      if (open.failed) throw new Error(`cross-node: connections failed: ${open.firstError}`);
      const byRate = [];
      for (const rate of rates) {
        const step = await measureWindow({ workers, senderWorkers: [workers[0]], nodes, redis, ratePerSender: rate, warmupMs, measureMs });
        byRate.push({ ratePerSec: rate, crossNodeMs: step.crossNodeMs });
      }
      return { byRate };
    });
  });
}

/**
 * `connections` over `nodeCount` nodes in rooms of `roomSize` whose members are spread evenly
 * over the nodes; one member per room sends `ratePerRoom` messages/s.
 */
export async function concurrency(systemName, { connections, nodeCount, roomSize, ratePerRoom = 1, measureMs = 20_000 }) {
  const system = systems[systemName];
  return withCluster(systemName, nodeCount, async ({ nodes }, redis) => {
    const specs = Array.from({ length: connections }, (_, i) => {
      const node = i % nodeCount;
      const roomIndex = Math.floor(i / roomSize);
      // The sender of room r sits on node r mod nodeCount, so every node accepts sends.
      const sender = i % roomSize === roomIndex % nodeCount;
      return { url: nodes[node].url, node, user: `c${i}`, room: `r${roomIndex}`, sender };
    });
    const workerCount = Math.ceil(connections / CONNECTIONS_PER_WORKER);
    return withWorkers(workerCount, async (workers) => {
      const specSlices = slices(specs, workerCount);
      const open = await openAll(workers, system.protocol, specSlices);
      const senderWorkers = workers.filter((_, i) => specSlices[i].some((s) => s.sender));
      const step = await measureWindow({ workers, senderWorkers, nodes, redis, ratePerSender: ratePerRoom, warmupMs: 2000, measureMs });
      return {
        connections: open.opened,
        failed: open.failed,
        firstError: open.firstError,
        openMs: open.ms,
        rssPerNodeMiB: nodes.map((n) => rssBytes(n.pid) / 2 ** 20),
        ...step,
      };
    });
  });
}

/**
 * What this Redis itself takes per second from redis-benchmark's 50 clients, 16 commands pipelined
 * each: plain SET, and a script that does what a chat message costs at the least (XADD to a
 * capped stream of 1000 plus PUBLISH, one of 1000 keys at random, EVALSHA of a loaded script).
 */
async function redisCeiling(redis, { requests }) {
  const [host, port] = redis.url.slice('redis://'.length).split(':');
  const base = ['-h', host, '-p', port, '-q', '-c', '50', '-P', '16', '-n', String(requests)];
  const perSecond = (stdout) => Number(stdout.match(/([\d.]+) requests per second/g)?.at(-1)?.match(/[\d.]+/)[0]);
  const script = "redis.call('XADD', KEYS[1], 'MAXLEN', '~', 1000, '*', 'm', ARGV[1]) return redis.call('PUBLISH', KEYS[1], ARGV[1])";
  const { stdout: sha } = await run('redis-cli', ['-h', host, '-p', port, 'SCRIPT', 'LOAD', script]);
  const payload = JSON.stringify({ type: 'message', room: 'bus-0', id: '1700000000000-0', from: 'sender0', text: 'x'.repeat(64), ts: 1700000000000 });
  const set = await run('redis-benchmark', [...base, '-t', 'set']);
  const xaddPublish = await run('redis-benchmark', [...base, '-r', '1000', 'evalsha', sha.trim(), '1', 'bench:room:__rand_int__', payload]);
  return { setPerSec: perSecond(set.stdout), xaddPublishPerSec: perSecond(xaddPublish.stdout), clients: 50, pipeline: 16 };
}

/**
 * The bus's intake: `rooms` rooms over `nodeCount` nodes and `senders` senders spread evenly over
 * the nodes, each a member of `rooms / senders` rooms it sends to in turn, every message acked
 * (by the gateway and Centrifugo once it is in the room's history) and delivered back to its
 * sender. The offered rate steps up through `targets` (messages/s in all) until the ack p99 passes
 * `budgetMs`, fewer than 95% of the sends are acked or one is refused; the figure is the highest
 * acked rate within the budget. redis-benchmark's ceiling on the same Redis, measured after the
 * ladder, stands beside it.
 */
export async function busIngest(systemName, { rooms, senders, nodeCount = 2, targets, budgetMs = 50, warmupMs = 1000, measureMs = 3000, benchmarkRequests = 200_000 }) {
  const system = systems[systemName];
  return withCluster(systemName, nodeCount, async ({ nodes }, redis) => {
    const specs = Array.from({ length: senders }, (_, s) => {
      const node = s % nodeCount;
      const own = Array.from({ length: Math.ceil(rooms / senders) }, (_, k) => s + k * senders).filter((r) => r < rooms);
      return { url: nodes[node].url, node, user: `bus${s}`, rooms: own.map((r) => `bus-${r}`), sender: true };
    });
    const workerCount = 2;
    return withWorkers(workerCount, async (workers) => {
      const specSlices = slices(specs, workerCount);
      const open = await openAll(workers, system.protocol, specSlices);
      if (open.failed) throw new Error(`bus ingest: ${open.failed} connections failed: ${open.firstError}`);
      const steps = [];
      const withinBudget = (step) => step.sustained && step.ackMs.p99 !== null && step.ackMs.p99 <= budgetMs;
      for (const target of targets) {
        const measure = async () => {
          const step = await measureWindow({
            workers, senderWorkers: workers, nodes, redis, ratePerSender: target / senders, warmupMs, measureMs, acked: true,
          });
          step.targetPerSec = target;
          step.sustained = step.acked >= 0.95 * step.sent && step.ackErrors === 0;
          return step;
        };
        // As in the fan-out: a failed step gets one more try against another tenant's burst.
        let step = await measure();
        if (!withinBudget(step)) {
          const retry = await measure();
          if (withinBudget(retry) || (retry.ackMs.p99 ?? Infinity) < (step.ackMs.p99 ?? Infinity)) step = retry;
        }
        steps.push(step);
        process.stdout.write(`${Math.round(step.ackedPerSec)}/s ack p99 ${step.ackMs.p99} ms${step.sustained ? '' : ' (behind)'}; `);
        if (!withinBudget(step)) break;
        await sleep(300);
      }
      const top = steps.filter(withinBudget).at(-1);
      return {
        rooms,
        senders,
        nodeCount,
        ackP99UnderBudget: top ? {
          ackedPerSec: top.ackedPerSec, targetPerSec: top.targetPerSec, ackMs: top.ackMs,
          serverCpuUsPerMessage: (top.serverCpuMs * 1000) / top.acked, redisCpuMsPer1kMessages: (top.redisCpuMs * 1000) / top.acked,
        } : null,
        redisBenchmark: await redisCeiling(redis, { requests: benchmarkRequests }),
        steps,
      };
    });
  });
}
