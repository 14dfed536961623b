// Processes of one fault row: Redis (with or without persistence, restartable on its port and dir),
// Mosquitto (restartable with its persistence), gateways and bridges, all on 127.0.0.1 through
// @chat/testkit, which kills every child when this process exits. Each row builds its own cluster
// and stops it, so one row's memory or keys never leak into the next.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  findBinary, freePort, portOpen, startBridge, startGateway, startMosquitto, startProcess, waitFor,
} from '@chat/testkit';

const redisBin = () => findBinary('redis-server', 'apt-get install redis-server');

/**
 * One redis-server that a row may pause, kill and start again on the same port. `persistence`
 * 'aof' is appendonly yes in `dir`; 'none' keeps nothing; `fromRdb` starts from an old snapshot.
 */
export class RedisNode {
  constructor({ persistence = 'none' } = {}) {
    this.persistence = persistence;
    this.dir = mkdtempSync(join(tmpdir(), 'faults-redis-'));
    this.dbfilename = 'dump.rdb';
    this.service = undefined;
  }

  async start(port) {
    this.port = port ?? this.port ?? (await freePort());
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--protected-mode', 'no',
      '--dir', this.dir, '--dbfilename', this.dbfilename, '--save', '',
      '--appendonly', this.persistence === 'aof' ? 'yes' : 'no'];
    this.service = startProcess(redisBin(), args);
    await waitFor(`redis on ${this.port}`, async () => ((await portOpen(this.port)) ? true : undefined), 10_000);
    return this;
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  /** An admin connection for one command (CLIENT KILL, SAVE...), closed after. */
  async command(...args) {
    const admin = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
    try { return await admin.call(...args); } finally { admin.disconnect(); }
  }

  pause() { process.kill(this.service.pid, 'SIGSTOP'); }
  resume() { process.kill(this.service.pid, 'SIGCONT'); }
  async stop() { await this.service?.stop('SIGTERM'); }
  async kill() { await this.service?.kill(); }

  /** SAVE now and keep a copy of the snapshot: what a lagging replica would hold. */
  async snapshot() {
    await this.command('SAVE');
    const copy = mkdtempSync(join(tmpdir(), 'faults-replica-'));
    copyFileSync(join(this.dir, this.dbfilename), join(copy, 'replica.rdb'));
    return copy;
  }

  /** Starts on the same port from a snapshot taken earlier (the replica "promoted"). */
  async startFrom(snapshotDir) {
    this.dir = snapshotDir;
    this.dbfilename = 'replica.rdb';
    this.persistence = 'none';
    return this.start(this.port);
  }
}

/** Mosquitto with persistence on, restartable on the same ports with the same store. */
export async function startBroker() {
  const broker = await startMosquitto();
  const bin = findBinary('mosquitto', 'apt-get install mosquitto');
  return {
    url: broker.url,
    current: broker,
    async restart() {
      await this.current.stop('SIGTERM');
      this.current = startProcess(bin, ['-c', broker.configPath]);
      await waitFor('mosquitto back', async () => ((await portOpen(broker.port)) ? true : undefined), 10_000);
    },
    stop() { return this.current.kill(); },
  };
}

/** `count` gateways on one Redis. `env` overrides the defaults (a high rate limit for traffic). */
export async function startGateways(redis, count, env = {}) {
  const prefix = `f${process.pid}x${Date.now() % 100000}:`;
  const base = { REDIS_PREFIX: prefix, HISTORY_LIMIT: '100000', PRESENCE_TTL_SECONDS: '5', RATE_LIMIT: '1000', ...env };
  return Promise.all(Array.from({ length: count }, () => startGateway({ redisUrl: redis.url, env: base })));
}

export async function startBridges(redis, broker, count, prefix, env = {}) {
  return Promise.all(Array.from({ length: count }, (_, i) => startBridge({
    redisUrl: redis.url,
    env: { MQTT_URL: broker.url, REDIS_PREFIX: prefix, NODE_ID: `faults-bridge-${process.pid}-${i}`, LEADER_LEASE_MS: '1000', PRESENCE_TTL_SECONDS: '5', HISTORY_LIMIT: '100000', ...env },
  })));
}

/** Resident set of a process in MB, from /proc (Linux), or NaN once it is gone. */
export function rssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Math.round(Number(line.split(/\s+/)[1]) / 102.4) / 10;
  } catch { return Number.NaN; }
}

export function totalRss(services) {
  const values = services.map((s) => rssMb(s.pid)).filter((v) => !Number.isNaN(v));
  return Math.round(values.reduce((a, b) => a + b, 0) * 10) / 10;
}

export async function ready(service) {
  try { return (await fetch(`${service.url}/readyz`)).ok; } catch { return false; }
}

/** The value of one series of a /metrics page (summed over matching lines), 0 when absent. */
export async function metric(service, name, labels = {}) {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
