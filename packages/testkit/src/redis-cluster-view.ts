/**
 * What one node of a Redis Cluster says about the cluster: CLUSTER NODES and CLUSTER INFO decoded
 * (https://redis.io/commands/cluster-nodes/). A view is one node's belief at one moment; views of
 * different nodes agree only once gossip has settled, which is what the harness waits for.
 */
export interface NodeEntry {
  id: string;
  host: string;
  port: number;
  /** From the flags: `master`, or `replica` (Redis says `slave`). */
  role: 'master' | 'replica';
  /** Flagged `fail` (agreed by a majority of masters) or `fail?` (suspected by this node). */
  failing: boolean;
  /** The master's id for a replica, undefined for a master. */
  masterId: string | undefined;
  linkConnected: boolean;
  /** Slot ranges served, inclusive; importing/migrating markers (`[slot->-id]`) are left out. */
  slots: Array<[number, number]>;
}

export function parseClusterNodes(text: string): NodeEntry[] {
  const entries: NodeEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id = '', address = '', flagText = '', master = '-', , , , link = '', ...slotFields] = fields;
    // `ip:port@cport[,hostname]`
    const hostPort = address.split('@')[0] ?? '';
    const colon = hostPort.lastIndexOf(':');
    const flags = flagText.split(',');
    const slots: Array<[number, number]> = [];
    for (const field of slotFields) {
      if (field.startsWith('[')) continue;
      const [from, to] = field.split('-').map(Number);
      if (from !== undefined && Number.isInteger(from)) slots.push([from, to ?? from]);
    }
    entries.push({
      id,
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      role: flags.includes('master') ? 'master' : 'replica',
      failing: flags.includes('fail') || flags.includes('fail?'),
      masterId: master === '-' ? undefined : master,
      linkConnected: link === 'connected',
      slots,
    });
  }
  return entries;
}

/** `key:value` lines (CLUSTER INFO, INFO replication) as a record. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

export function servesSlot(entry: NodeEntry, slot: number): boolean {
  return entry.slots.some(([from, to]) => slot >= from && slot <= to);
}

export function slotsCovered(entries: readonly NodeEntry[]): number {
  let count = 0;
  for (const entry of entries) if (entry.role === 'master') for (const [from, to] of entry.slots) count += to - from + 1;
  return count;
}
