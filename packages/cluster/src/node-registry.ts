/** What a gateway reports of itself, for operators (GET /api/nodes). */
export interface NodeInfo {
  node: string;
  connections: number;
  rooms: number;
  ready: boolean;
}

/**
 * The live gateways of the cluster, as they report themselves. A node reports every few seconds; one
 * silent for `ttlMs` (it died) is no longer listed. Reports are for people and dashboards: nothing
 * in the message path depends on them.
 */
export interface NodeRegistry {
  report(info: NodeInfo): Promise<void>;
  /** A node stopping on purpose leaves at once. */
  forget(node: string): Promise<void>;
  /** Every node that reported within ttlMs, by name. */
  list(): Promise<NodeInfo[]>;
}

/** The registry of the embedded bus: one process, so only its own node. */
export class MemoryNodeRegistry implements NodeRegistry {
  private readonly nodes = new Map<string, { info: NodeInfo; at: number }>();

  constructor(private readonly ttlMs: number) {}

  async report(info: NodeInfo): Promise<void> {
    this.nodes.set(info.node, { info, at: Date.now() });
  }

  async forget(node: string): Promise<void> {
    this.nodes.delete(node);
  }

  async list(): Promise<NodeInfo[]> {
    const since = Date.now() - this.ttlMs;
    return [...this.nodes.values()].filter((n) => n.at >= since).map((n) => n.info).sort((a, b) => a.node.localeCompare(b.node));
  }
}
