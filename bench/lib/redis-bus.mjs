// The Redis a bench runs the gateways on, one server or a Redis Cluster, and what its masters did:
// command calls (INFO commandstats), CPU seconds (INFO cpu) and socket reads+writes (INFO stats),
// read before and after a measured window so a bench can say what one message or signal cost.
import { NodeConnection, startRedis, startRedisCluster } from '@chat/testkit';

/** A bus under test: its seeds for the gateways, and one command connection per master for counters. */
export async function startBus(kind) {
  if (kind === 'single') {
    const redis = await startRedis();
    const connection = new NodeConnection(redis.port);
    return {
      env: { REDIS_URL: redis.url },
      masters: async () => [{ port: redis.port, command: (...a) => connection.command(...a) }],
      stop: async () => { connection.close(); await redis.stop(); },
    };
  }
  if (kind !== 'cluster') throw new Error(`unknown bus "${kind}": single or cluster`);
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
  return {
    env: { REDIS_CLUSTER_NODES: cluster.seeds },
    masters: async () => (await cluster.masters()).map((m) => ({ port: m.port, command: (...a) => m.command(...a) })),
    stop: () => cluster.stop(),
  };
}

/**
 * CPU seconds, command calls (in all and by command; those a Lua script makes count as calls too)
 * and socket reads+writes of each master now.
 */
export async function snapshot(masters) {
  const out = [];
  for (const m of masters) {
    const cpu = String(await m.command('INFO', 'cpu'));
    const io = String(await m.command('INFO', 'stats'));
    const stats = String(await m.command('INFO', 'commandstats'));
    const num = (re) => Number(re.exec(cpu)?.[1] ?? 0);
    let calls = 0;
    const commands = {};
    for (const match of stats.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) {
      // The snapshots' own INFO calls are not the load under test.
      if (match[1] === 'info') continue;
      calls += Number(match[2]);
      commands[match[1]] = { calls: Number(match[2]), usec: Number(match[3]) };
    }
    const count = (re) => Number(re.exec(io)?.[1] ?? 0);
    // Socket reads and writes (Redis 7): fewer commands per read means more system calls per message.
    const syscalls = count(/total_reads_processed:(\d+)/) + count(/total_writes_processed:(\d+)/);
    out.push({ port: m.port, cpu: num(/used_cpu_user:([\d.]+)/) + num(/used_cpu_sys:([\d.]+)/), calls, commands, syscalls });
  }
  return out;
}

/** What each master did between two snapshots, with its share of all the command calls. */
export function perMasterDelta(before, after) {
  const masters = after.map((a, i) => ({ port: a.port, cpuSec: a.cpu - before[i].cpu, calls: a.calls - before[i].calls, syscalls: a.syscalls - before[i].syscalls }));
  const total = masters.reduce((sum, m) => sum + m.calls, 0);
  return masters.map((m) => ({ ...m, shareOfCalls: m.calls / Math.max(1, total) }));
}

/** Each command's calls and time inside Redis between two snapshots, all masters together, per `unit`s. */
export function commandsPer(before, after, units) {
  const commands = {};
  after.forEach((a, i) => {
    for (const [name, { calls, usec }] of Object.entries(a.commands)) {
      const was = before[i].commands[name] ?? { calls: 0, usec: 0 };
      const sum = (commands[name] ??= { calls: 0, usec: 0 });
      sum.calls += (calls - was.calls) / Math.max(1, units);
      sum.usec += (usec - was.usec) / Math.max(1, units);
    }
  });
  return Object.fromEntries(Object.entries(commands).filter(([, c]) => c.calls > 0.001));
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
