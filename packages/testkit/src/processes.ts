/**
 * Real peer processes for tests and for `npm run cluster`: redis-server, mosquitto, gateways and
 * bridges, each on a free loopback port. Every process started here is killed when this process
 * exits, so a failed test never leaves servers behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file's place in packages/testkit/dist. */
export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

const live = new Set<ChildProcess>();
const killAll = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.once('exit', killAll);
// A test process stopped by a signal (a runner's timeout, Ctrl-C) does not run 'exit' handlers.
// Unless the program has its own handler for the signal (npm run cluster stops gracefully), kill
// the children and die by the signal as usual.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  const onSignal = () => {
    if (process.listenerCount(signal) > 1) return;
    killAll();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.on(signal, onSignal);
}

export interface Service {
  pid: number;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL: the process dies without any chance to clean up, like a crashed node. */
  kill(): Promise<void>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /**
   * Calls `onLine` with each complete line the process writes to stdout or stderr: first the last
   * lines written so far (up to REPLAYED_LINES), then every new one. `npm run cluster` shows them.
   */
  follow(onLine: (line: string) => void): void;
  /** The signal that ended the process, once it has exited by one (`exited` then says 128); else null. */
  exitSignal(): NodeJS.Signals | null;
  exited: Promise<number | null>;
}

/** How many past lines `Service.follow` replays. */
const REPLAYED_LINES = 200;

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

/** Finds an executable on PATH (and the sbin folders Debian puts daemons in). */
export function findBinary(name: string, installHint: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} was not found on PATH: install it with \`${installHint}\``);
}

export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = repoRoot): Service {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  const recent: string[] = [];
  const followers: ((line: string) => void)[] = [];
  const lineReader = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const text = chunk.toString();
      log += text;
      if (log.length > 1_000_000) log = log.slice(-500_000);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        recent.push(line);
        for (const onLine of followers) onLine(line);
      }
      if (recent.length > REPLAYED_LINES) recent.splice(0, recent.length - REPLAYED_LINES);
    };
  };
  child.stdout?.on('data', lineReader());
  child.stderr?.on('data', lineReader());
  let endedBy: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((done) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      endedBy = signal;
      done(code ?? (signal === null ? null : 128));
    });
  });
  return {
    pid: child.pid ?? -1,
    exited,
    output: () => log,
    exitSignal: () => endedBy,
    follow(onLine) {
      for (const line of recent) onLine(line);
      followers.push(onLine);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, host);
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}

export interface RedisServer extends Service { url: string; port: number }

/** redis-server on a free port, no persistence, gone when stopped. */
export async function startRedis(port?: number): Promise<RedisServer> {
  const bin = findBinary('redis-server', 'apt-get install redis-server');
  const p = port ?? (await freePort());
  const service = startProcess(bin, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
  await waitFor(`redis-server on port ${p}`, async () => ((await portOpen(p)) ? true : undefined), 10_000);
  return { ...service, port: p, url: `redis://127.0.0.1:${p}` };
}

export interface MosquittoBroker extends Service { url: string; port: number; wsPort: number; configPath: string }

/**
 * mosquitto on free ports (MQTT and MQTT over WebSockets). With no `config`, anonymous access on
 * loopback; a `config` is appended after the listeners (an ACL, a password file...). Nagle's
 * algorithm is off on every client socket, as in the shipped configurations (deploy/mosquitto).
 */
export async function startMosquitto(options: { config?: string; port?: number; wsPort?: number } = {}): Promise<MosquittoBroker> {
  // A port picked here may be taken by another process before mosquitto binds it: then try others.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMosquittoOnce(options);
    } catch (error) {
      const picked = options.port === undefined && options.wsPort === undefined;
      if (!picked || attempt >= 3 || !/Address already in use/i.test(String(error))) throw error;
    }
  }
}

async function startMosquittoOnce(options: { config?: string; port?: number; wsPort?: number }): Promise<MosquittoBroker> {
  const bin = findBinary('mosquitto', 'apt-get install mosquitto');
  const port = options.port ?? (await freePort());
  const wsPort = options.wsPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  // Run as root, mosquitto drops to its own user and must still reach its persistence folder.
  chmodSync(dir, 0o777);
  const configPath = join(dir, 'mosquitto.conf');
  const body = options.config ?? 'allow_anonymous true\n';
  writeFileSync(configPath, [
    'per_listener_settings false', 'set_tcp_nodelay true', 'persistence true', `persistence_location ${dir}/`, 'log_dest stderr',
    `listener ${port} 127.0.0.1`, `listener ${wsPort} 127.0.0.1`, 'protocol websockets', body,
  ].join('\n'));
  const service = startProcess(bin, ['-c', configPath]);
  const listening = waitFor(`mosquitto on port ${port}`, async () => ((await portOpen(port)) ? true : undefined), 15_000);
  const died = service.exited.then((code) => { throw new Error(`mosquitto exited with ${code} before it listened on ${port}:\n${service.output()}`); });
  try {
    await Promise.race([listening, died]);
  } catch (error) {
    await service.kill();
    throw error;
  }
  return { ...service, port, wsPort, configPath, url: `mqtt://127.0.0.1:${port}` };
}

export interface NodeService extends Service { port: number; url: string; nodeId: string }

/**
 * The Node flags the gateway ships with (npm start, its Dockerfile, the CI smoke): V8's young
 * generation capped at 4 MB per semi-space. By default it grows to 16 MB once connections arrive
 * quickly, a fixed 30-odd MB per process. deploy/test/images.test.mjs keeps the launchers in step.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

export interface GatewayService extends NodeService { wsUrl: string }

let nodeCounter = 0;

/** Builds are a precondition: tests run after `tsc -b`, and `npm test` does that first. */
function entry(relative: string): string {
  const path = join(repoRoot, relative);
  if (!existsSync(path)) throw new Error(`${relative} is missing: run \`npm run build\` first`);
  return path;
}

async function startNode(script: string, kind: string, options: { env?: Record<string, string>; redisUrl?: string; port?: number; host?: string }, nodeFlags: readonly string[] = []): Promise<NodeService> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const nodeId = options.env?.NODE_ID ?? `${kind}-${process.pid}-${++nodeCounter}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: host, NODE_ID: nodeId, LOG_LEVEL: 'warn', ...options.env };
  if (options.redisUrl !== undefined) env.REDIS_URL = options.redisUrl;
  const service = startProcess(process.execPath, [...nodeFlags, entry(script)], env);
  const url = `http://${host}:${port}`;
  const ready = waitFor(`${kind} ${nodeId} to be ready on ${url}`, async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 15_000);
  const died = service.exited.then((code) => { throw new Error(`${kind} ${nodeId} exited with ${code} before it was ready:\n${service.output()}`); });
  await Promise.race([ready, died]);
  return { ...service, port, url, nodeId };
}

/** One gateway as a real process (services/gateway/dist/main.js), resolved once /readyz answers 200. */
export async function startGateway(options: { env?: Record<string, string>; redisUrl?: string; port?: number; host?: string } = {}): Promise<GatewayService> {
  const node = await startNode('services/gateway/dist/main.js', 'gateway', options, GATEWAY_NODE_FLAGS);
  return { ...node, wsUrl: `ws://${node.url.slice('http://'.length)}/ws` };
}

/** One MQTT bridge as a real process (services/mqtt-bridge/dist/main.js), resolved once /readyz answers 200. */
export async function startBridge(options: { env?: Record<string, string>; redisUrl?: string; port?: number } = {}): Promise<NodeService> {
  return startNode('services/mqtt-bridge/dist/main.js', 'bridge', options);
}
