/**
 * A real Redis Cluster for tests and for `npm run cluster -- --redis-cluster`: redis-server nodes
 * in cluster mode on free loopback ports, joined by `redis-cli --cluster create`, with the moves a
 * fault test needs (a live slot migration, a master killed and its replica promoted). Nodes are
 * started through startProcess, so they die with the process that started them.
 *
 * Everything that reads the topology asks a live node at the time of the call: after a migration
 * or a failover the answer is the cluster's, never a copy kept here. To add a fault (a paused
 * node, a partition), add a method that acts on nodes and resolves only once every running node's
 * own view shows its effect, as killMaster and waitForFailover do.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary, freePort, startProcess, waitFor } from './processes.js';
import { ClusterNodeHandle, type RedisClusterNode } from './redis-cluster-node.js';
import { keySlot, SLOT_COUNT } from './redis-cluster-slot.js';
import { parseClusterNodes, parseInfo, servesSlot, slotsCovered, type NodeEntry } from './redis-cluster-view.js';

export type { RedisClusterNode } from './redis-cluster-node.js';

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** How long a master may be unreachable before it is failed over; 1000 ms makes that seconds. */
  nodeTimeoutMs?: number;
  /** AOF with fsync every second; off by default (no persistence at all). */
  appendonly?: boolean;
  /** Bound on the whole start (processes, join, every node agreeing). */
  startTimeoutMs?: number;
}

export interface RedisCluster {
  /** `127.0.0.1:p1,127.0.0.1:p2,...`: the value of REDIS_CLUSTER_NODES. */
  readonly seeds: string;
  readonly nodes: readonly RedisClusterNode[];
  node(id: string): RedisClusterNode;
  /** Masters that serve slots and are still running, as a live node sees it now. */
  masters(): Promise<RedisClusterNode[]>;
  /** The running replicas of `master`, as a live node sees it now (empty when it has none). */
  replicasOf(master: RedisClusterNode | string): Promise<RedisClusterNode[]>;
  /** The first running replica of `master`; throws when it has none. */
  replicaOf(master: RedisClusterNode | string): Promise<RedisClusterNode>;
  slotOf(key: string): number;
  /** The master serving `slot`, as a live node sees it now. */
  ownerOf(slot: number): Promise<RedisClusterNode>;
  /**
   * Moves `slot` with its keys to the master `targetId`, live: clients keep being served, answered
   * -ASK for keys already moved and -MOVED once it is done. Resolves with the number of keys moved
   * once every running node names the target as the slot's owner. A failure midway (a node died)
   * leaves the slot importing/migrating, as an interrupted reshard leaves a real cluster.
   */
  migrateSlot(slot: number, targetId: string, options?: { batch?: number; timeoutMs?: number }): Promise<number>;
  /** SIGKILLs a master (it stays dead); its replicas and slots are remembered for waitForFailover. */
  killMaster(id: string): Promise<void>;
  /**
   * Resolves with the replica promoted in place of `oldMasterId` once it is a master, serves the old
   * master's slots in every running node's view, and every running node says cluster_state:ok.
   */
  waitForFailover(oldMasterId: string, timeoutMs?: number): Promise<RedisClusterNode>;
  /** Stops every node still running (SIGTERM) and removes their folders. */
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  // redis-cli refuses fewer than 3 masters: a failover needs a majority of masters to agree.
  if (masterCount < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const total = masterCount * (1 + replicasPerMaster);
  const startTimeoutMs = options.startTimeoutMs ?? 45_000;
  const server = findBinary('redis-server', 'apt-get install redis-server');
  const cli = findBinary('redis-cli', 'apt-get install redis-tools');

  const ports = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!ports.has(port)) { ports.add(port); return port; }
    }
  };
  const dirs: string[] = [];
  const nodes: ClusterNodeHandle[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const port = await distinctPort();
      // The bus port is chosen too: the default (port + 10000) may be taken or past 65535.
      const busPort = await distinctPort();
      const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
      dirs.push(dir);
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no',
        '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
        '--cluster-config-file', join(dir, 'nodes.conf'), '--dir', dir,
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
        // A replica whose master just died is always a candidate, however long ago it last heard
        // from it: tests kill masters on purpose and want the promotion, not a stuck cluster.
        '--cluster-replica-validity-factor', '0',
        // A replica's first sync starts at once, not after the 5 s Redis waits for more replicas.
        '--repl-diskless-sync-delay', '0',
        '--save', '',
        ...(options.appendonly === true ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']),
      ];
      nodes.push(new ClusterNodeHandle(startProcess(server, args), port));
    }
    const deadline = Date.now() + startTimeoutMs;
    const left = () => Math.max(1_000, deadline - Date.now());
    for (const node of nodes) {
      await waitFor(`redis cluster node on port ${node.port}`, async () => {
        if (!node.alive) throw new Error(`redis-server on port ${node.port} exited:\n${node.output()}`);
        return (await node.command('PING')) === 'PONG' ? true : undefined;
      }, left());
      node.id = String(await node.command('CLUSTER', 'MYID'));
    }
    const created = await execFileAsync(cli, [
      '--cluster', 'create', ...nodes.map((n) => n.address),
      '--cluster-replicas', String(replicasPerMaster), '--cluster-yes',
    ], { timeout: left() }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    if (!created.stdout.includes('All 16384 slots covered')) throw new Error(`redis-cli --cluster create:\n${created.stdout}`);
    const cluster = new Cluster(nodes, dirs);
    await waitFor('every node of the new cluster to agree', () => cluster.settled(total, masterCount), left(), 100);
    return cluster;
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

interface Failed { slots: Array<[number, number]>; replicaIds: string[] }

class Cluster implements RedisCluster {
  readonly seeds: string;
  private readonly failed = new Map<string, Failed>();

  constructor(readonly nodes: ClusterNodeHandle[], private readonly dirs: string[]) {
    this.seeds = nodes.map((n) => n.address).join(',');
  }

  node(id: string): ClusterNodeHandle {
    const node = this.nodes.find((n) => n.id === id);
    if (node === undefined) throw new Error(`no node ${id} in this cluster`);
    return node;
  }

  slotOf(key: string): number { return keySlot(key); }

  /** One running node's CLUSTER NODES; the first node that answers is asked. */
  private async view(): Promise<NodeEntry[]> {
    let lastError: unknown = new Error('no node of the cluster is running');
    for (const node of this.nodes.filter((n) => n.alive)) {
      try {
        return parseClusterNodes(String(await node.command('CLUSTER', 'NODES')));
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  async masters(): Promise<ClusterNodeHandle[]> {
    return (await this.view())
      .filter((e) => e.role === 'master' && e.slots.length > 0)
      .map((e) => this.node(e.id))
      .filter((n) => n.alive);
  }

  async replicasOf(master: RedisClusterNode | string): Promise<ClusterNodeHandle[]> {
    const masterId = typeof master === 'string' ? master : master.id;
    return (await this.view()).filter((e) => e.masterId === masterId).map((e) => this.node(e.id)).filter((n) => n.alive);
  }

  async replicaOf(master: RedisClusterNode | string): Promise<ClusterNodeHandle> {
    const [replica] = await this.replicasOf(master);
    if (replica === undefined) throw new Error(`master ${typeof master === 'string' ? master : master.id} has no running replica`);
    return replica;
  }

  async ownerOf(slot: number): Promise<ClusterNodeHandle> {
    const owner = (await this.view()).find((e) => e.role === 'master' && servesSlot(e, slot));
    if (owner === undefined) throw new Error(`no master serves slot ${slot}`);
    return this.node(owner.id);
  }

  async migrateSlot(slot: number, targetId: string, options: { batch?: number; timeoutMs?: number } = {}): Promise<number> {
    const batch = options.batch ?? 100;
    const source = await this.ownerOf(slot);
    const target = this.node(targetId);
    if (source.id === target.id) return 0;
    // The order redis-cli --cluster reshard uses: the target accepts ASKING clients before the
    // source starts sending them there, so no client is bounced between the two.
    await target.command('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await source.command('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
    let moved = 0;
    for (;;) {
      const keys = await source.command('CLUSTER', 'GETKEYSINSLOT', slot, batch);
      if (!Array.isArray(keys) || keys.length === 0) break;
      // Each MIGRATE is atomic per key: a key is on the source or on the target, never both.
      // No REPLACE: a key already on the target would be a harness bug worth an error (BUSYKEY).
      await source.command('MIGRATE', '127.0.0.1', target.port, '', 0, 10_000, 'KEYS', ...keys.map(String));
      moved += keys.length;
    }
    // The target first: once it owns the slot, the source's -MOVED sends clients to a node that
    // serves them. Every other master is told too, rather than waiting for gossip.
    await target.command('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
    await source.command('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
    for (const master of await this.masters()) {
      if (master.id !== source.id && master.id !== target.id) await master.command('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
    }
    await waitFor(`every node to see slot ${slot} on ${target.id}`, async () => {
      for (const node of this.nodes.filter((n) => n.alive)) {
        const owner = parseClusterNodes(String(await node.command('CLUSTER', 'NODES'))).find((e) => e.role === 'master' && servesSlot(e, slot));
        if (owner?.id !== target.id) return undefined;
      }
      return true;
    }, options.timeoutMs ?? 15_000, 50);
    return moved;
  }

  async killMaster(id: string): Promise<void> {
    const entries = await this.view();
    const entry = entries.find((e) => e.id === id);
    if (entry?.role !== 'master') throw new Error(`${id} is not a master`);
    this.failed.set(id, { slots: entry.slots, replicaIds: entries.filter((e) => e.masterId === id).map((e) => e.id) });
    await this.node(id).kill();
  }

  async waitForFailover(oldMasterId: string, timeoutMs = 20_000): Promise<ClusterNodeHandle> {
    const known = this.failed.get(oldMasterId);
    const replicaIds = known?.replicaIds ?? (await this.view()).filter((e) => e.masterId === oldMasterId).map((e) => e.id);
    const firstSlot = known?.slots[0]?.[0];
    return waitFor(`a replica of ${oldMasterId} to take over`, async () => {
      let promoted: ClusterNodeHandle | undefined;
      for (const id of replicaIds) {
        const node = this.node(id);
        if (node.alive && (await node.role().catch(() => undefined)) === 'master') promoted = node;
      }
      if (promoted === undefined) return undefined;
      for (const node of this.nodes.filter((n) => n.alive)) {
        if (parseInfo(String(await node.command('CLUSTER', 'INFO'))).cluster_state !== 'ok') return undefined;
        const entries = parseClusterNodes(String(await node.command('CLUSTER', 'NODES')));
        const owner = firstSlot === undefined ? undefined : entries.find((e) => e.role === 'master' && servesSlot(e, firstSlot));
        if (firstSlot !== undefined && owner?.id !== promoted.id) return undefined;
      }
      return promoted;
    }, timeoutMs, 100);
  }

  /**
   * True once every node answers cluster_state:ok with all slots served, knows all `total` nodes
   * with `masterCount` masters serving slots, and every replica's link to its master is up.
   */
  async settled(total: number, masterCount: number): Promise<true | undefined> {
    for (const node of this.nodes) {
      const info = parseInfo(String(await node.command('CLUSTER', 'INFO')));
      if (info.cluster_state !== 'ok' || Number(info.cluster_slots_ok) !== SLOT_COUNT || Number(info.cluster_known_nodes) !== total) return undefined;
      const entries = parseClusterNodes(String(await node.command('CLUSTER', 'NODES')));
      if (slotsCovered(entries) !== SLOT_COUNT) return undefined;
      if (entries.filter((e) => e.role === 'master' && e.slots.length > 0).length !== masterCount) return undefined;
      if (entries.some((e) => e.failing)) return undefined;
      const self = entries.find((e) => e.id === node.id);
      if (self?.role === 'replica') {
        const replication = parseInfo(String(await node.command('INFO', 'replication')));
        if (replication.master_link_status !== 'up') return undefined;
      }
    }
    return true;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.alive).map((n) => n.stop('SIGTERM')));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}
