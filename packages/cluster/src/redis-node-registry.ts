import type { NodeInfo, NodeRegistry } from './node-registry.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * The node registry in one Redis hash (one key, so one slot on a Redis Cluster): node -> its last
 * report with the reporter's time. Stale reports are dropped when the list is read.
 */
export class RedisNodeRegistry implements NodeRegistry {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly ttlMs: number) {}

  async report(info: NodeInfo): Promise<void> {
    await guarded(this.redis.hset(this.keys.nodeReports(), info.node, JSON.stringify({ ...info, at: Date.now() })));
  }

  async forget(node: string): Promise<void> {
    await guarded(this.redis.hdel(this.keys.nodeReports(), node));
  }

  async list(): Promise<NodeInfo[]> {
    const flat = await guarded(this.redis.hgetall(this.keys.nodeReports()));
    const since = Date.now() - this.ttlMs;
    const live: NodeInfo[] = [];
    const stale: string[] = [];
    for (const [node, json] of Object.entries(flat)) {
      const report = parse(json);
      if (report === undefined || report.at < since) stale.push(node);
      else live.push({ node: report.node, connections: report.connections, rooms: report.rooms, ready: report.ready });
    }
    if (stale.length > 0) await this.redis.hdel(this.keys.nodeReports(), ...stale).catch(() => undefined);
    return live.sort((a, b) => a.node.localeCompare(b.node));
  }
}

function parse(json: string): (NodeInfo & { at: number }) | undefined {
  try {
    const value = JSON.parse(json) as NodeInfo & { at: number };
    return typeof value.at === 'number' && typeof value.node === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
