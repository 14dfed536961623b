// The systems under test and the processes they run: a fresh Redis per system, N server nodes
// on 127.0.0.1, and readers of a process's RSS and CPU time from /proc.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { GATEWAY_NODE_FLAGS } from '@chat/testkit';
import { clientClasses } from './clients.mjs';

const repoRoot = new URL('../../', import.meta.url).pathname;
const CLOCK_TICKS_PER_SEC = 100;

/** The Centrifugo binary (built once by bench/install-centrifugo.sh), looked up on first use. */
let centrifugoBinary;
let centrifugoConfigDir;

/**
 * One Centrifugo node's configuration (v6 format), chosen to match what the gateway does for every
 * room message: the Redis engine on the same Redis as the other systems; a history of 1000 per
 * channel kept for 5 minutes with recovery forced (the gateway keeps every message in a stream and
 * resumes from it); clients connect without a token, as the gateway's do, and may subscribe in the
 * `chat` namespace and publish to what they subscribed. The HTTP API is off: the driver publishes
 * over the client protocol (see BENCHMARKS.md). Anything not set here is Centrifugo's default.
 */
export function centrifugoConfig(port, redisUrl) {
  return {
    http_server: { address: '127.0.0.1', port },
    log: { level: 'warn' },
    engine: { type: 'redis', redis: { address: redisUrl } },
    // Up to 64 commands of one connection at once: sequential, one sender's publishes each wait for
    // the previous one's Redis round trip, which caps a single fan-out sender (about 13k against 30k
    // publishes/s from one connection here). The price: one connection's publishes may be stored
    // in another order than they were sent.
    client: { allow_anonymous_connect_without_token: true, concurrency: 64 },
    channel: {
      namespaces: [{
        name: 'chat',
        history_size: 1000,
        history_ttl: '300s',
        force_recovery: true,
        // Anonymous clients need both flags; publishing needs a subscription, as a send needs a join.
        allow_subscribe_for_client: true,
        allow_subscribe_for_anonymous: true,
        allow_publish_for_subscriber: true,
        allow_publish_for_anonymous: true,
      }],
    },
    // Its documented memory saving for many mostly idle connections: a write buffer is taken
    // from a pool for a write instead of being held by every connection.
    websocket: { use_write_buffer_pool: true },
    http_api: { disabled: true },
    usage_stats: { disabled: true },
  };
}

/**
 * How to start a Centrifugo node with `config` (written to a file removed when this process
 * exits); the binary is built the first time it is asked for.
 */
export function centrifugoCommand(port, config) {
  centrifugoBinary ??= execFileSync('bash', [`${repoRoot}bench/install-centrifugo.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  if (!centrifugoConfigDir) {
    centrifugoConfigDir = mkdtempSync(join(tmpdir(), 'bench-centrifugo-'));
    process.once('exit', () => rmSync(centrifugoConfigDir, { recursive: true, force: true }));
  }
  const configPath = join(centrifugoConfigDir, `node-${port}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { cmd: centrifugoBinary, args: ['--config', configPath] };
}

/** How to start one node of each system, and how its clients reach it. */
export const systems = {
  gateway: {
    label: 'chat gateway',
    protocol: 'chat.v1',
    script: 'services/gateway/dist/main.js',
    // Started as it ships (npm start, the Docker image).
    nodeFlags: GATEWAY_NODE_FLAGS,
    env: (port, redisUrl) => ({
      PORT: String(port), HOST: '127.0.0.1', NODE_ID: `gw-${port}`, REDIS_URL: redisUrl,
      RATE_LIMIT: '1000000', LOG_LEVEL: 'warn', DRAIN_SECONDS: '1',
    }),
    url: (port) => `ws://127.0.0.1:${port}/ws`,
  },
  relay: {
    label: 'bare uWS + ioredis relay',
    protocol: 'chat.v1',
    script: 'bench/peers/uws-relay.mjs',
    env: (port, redisUrl) => ({ PORT: String(port), REDIS_URL: redisUrl, NODE_ID: `relay-${port}` }),
    url: (port) => `ws://127.0.0.1:${port}/ws`,
  },
  socketio: {
    label: 'Socket.IO 4 + redis-adapter',
    protocol: 'socket.io',
    script: 'bench/peers/socketio-server.mjs',
    env: (port, redisUrl) => ({ PORT: String(port), REDIS_URL: redisUrl, NODE_ID: `sio-${port}` }),
    url: (port) => `ws://127.0.0.1:${port}`,
  },
  centrifugo: {
    label: 'Centrifugo 6 (Redis engine)',
    protocol: 'centrifugo',
    // A Go binary: Node flags and BENCH_NODE_ARGS do not apply.
    command: (port, redisUrl) => centrifugoCommand(port, centrifugoConfig(port, redisUrl)),
    url: (port) => `ws://127.0.0.1:${port}/connection/websocket`,
  },
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function rssBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** User + system CPU time of a process so far, in milliseconds. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC;
}

async function waitFor(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function spawnLogged(name, cmd, args, env = {}) {
  const child = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  child.on('exit', (code, signal) => {
    if (!child.stopping) console.error(`[bench] ${name} exited early (${code ?? signal}): ${stderr}`);
  });
  return child;
}

/** SIGTERM lets a node write its profile on the way out; SIGKILL follows after `graceMs`. */
function stopChild(child, signal = 'SIGKILL', graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.stopping = true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill(signal);
  });
}

export async function startRedis() {
  const port = await freePort();
  const child = spawnLogged('redis', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '1000',
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { retryStrategy: () => 50 });
  client.on('error', () => {}); // refused until redis-server listens; waitFor below decides
  await waitFor(() => client.status === 'ready', 'redis');
  return {
    url,
    pid: child.pid,
    /** Redis's own user + system CPU seconds, from INFO. */
    async cpuSeconds() {
      const info = await client.info('cpu');
      const value = (name) => Number(info.match(new RegExp(`${name}:([\\d.]+)`))[1]);
      return value('used_cpu_user') + value('used_cpu_sys');
    },
    /** Per command: calls and microseconds so far, from INFO commandstats. */
    async commandStats() {
      const stats = {};
      for (const match of (await client.info('commandstats')).matchAll(/cmdstat_(\S+):calls=(\d+),usec=(\d+)/g)) {
        stats[match[1]] = { calls: Number(match[2]), usec: Number(match[3]) };
      }
      return stats;
    },
    async stop() {
      client.disconnect();
      await stopChild(child);
    },
  };
}

async function probe(protocol, url) {
  const client = new clientClasses[protocol]({ url, user: 'probe' });
  try {
    await client.open();
    return true;
  } finally {
    client.close();
  }
}

/**
 * Starts `nodeCount` nodes of a system on one Redis and waits until each accepts a client.
 * `nodeArgs` go to node before the script of a Node.js system (bench/profile.mjs passes --cpu-prof
 * and the like); BENCH_NODE_ARGS adds them to every server of any scenario, e.g.
 * BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile one. `command(port, redisUrl)`,
 * when given, replaces the system's own way to start a node (see bench/centrifugo-publish.mjs).
 */
export async function startNodes(systemName, nodeCount, redisUrl, { nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), command } = {}) {
  const system = systems[systemName];
  const nodes = [];
  for (let i = 0; i < nodeCount; i++) {
    const port = await freePort();
    const { cmd, args, env } = (command ?? system.command)?.(port, redisUrl)
      ?? { cmd: process.execPath, args: [...(system.nodeFlags ?? []), ...nodeArgs, system.script], env: system.env(port, redisUrl) };
    const child = spawnLogged(`${systemName} node ${i}`, cmd, args, env);
    nodes.push({ port, url: system.url(port), pid: child.pid, child });
  }
  for (const node of nodes) await waitFor(() => probe(system.protocol, node.url), `${systemName} on ${node.port}`);
  return {
    nodes,
    // With profiling flags the servers must exit cleanly (SIGTERM) to write their profiles.
    async stop(signal = nodeArgs.length > 0 ? 'SIGTERM' : undefined) {
      await Promise.all(nodes.map((n) => stopChild(n.child, signal)));
    },
  };
}
