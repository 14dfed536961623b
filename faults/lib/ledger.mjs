// Accounting of one row. Message texts are `<mid> <sentAtMs>`, so every delivery names its send
// and its send time. "lost" counts against acks, "doubled" against mids, "reordered" against ids,
// as docs/protocol.md#faults words them.

/** Stream ids `<ms>-<seq>` compared as two unsigned integers. */
export function compareIds(a, b) {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

export const textOf = (mid, at = Date.now()) => `${mid} ${at}`;
export const midOf = (text) => String(text).split(' ')[0];
export const sentAtOf = (text) => Number(String(text).split(' ')[1]);

export class Ledger {
  constructor() {
    this.sent = 0;
    this.resent = 0;
    this.unavailable = 0;
    this.failed = 0;
    this.errors = {};
    this.acks = new Map(); // mid -> { room, id }
    this.members = new Map(); // user -> [{ kind, room, id, mid, at, sentAt } | { kind: 'gap', ... }]
  }

  acked(mid, room, id) { this.acks.set(mid, { room, id }); }

  received(user, room, id, text, at) {
    this.#events(user).push({ kind: 'msg', room, id, mid: midOf(text), sentAt: sentAtOf(text), at });
  }

  gap(user, room, unsolicited, at) { this.#events(user).push({ kind: 'gap', room, unsolicited, at }); }

  #events(user) {
    let list = this.members.get(user);
    if (list === undefined) this.members.set(user, (list = []));
    return list;
  }

  /**
   * Per-member promises against the acks. `rooms` maps user -> rooms it was in from the start;
   * `history` (optional) maps room -> the final stored messages, to count mids stored twice.
   */
  summarize({ rooms, history, faultEndAt }) {
    let delivered = 0, lost = 0, doubled = 0, reordered = 0, gaps = 0, recoverMs = 0;
    const ackedByRoom = new Map();
    for (const [mid, { room }] of this.acks) {
      if (!ackedByRoom.has(room)) ackedByRoom.set(room, new Set());
      ackedByRoom.get(room).add(mid);
    }
    for (const [user, wanted] of rooms) {
      const events = this.members.get(user) ?? [];
      for (const room of wanted) {
        const seen = new Map();
        let last;
        let firstAfterFault;
        for (const e of events) {
          if (e.room !== room) continue;
          if (e.kind === 'gap') { gaps += 1; last = undefined; continue; }
          delivered += 1;
          seen.set(e.mid, (seen.get(e.mid) ?? 0) + 1);
          if (last !== undefined && compareIds(e.id, last) <= 0) reordered += 1;
          last = e.id;
          if (faultEndAt !== undefined && firstAfterFault === undefined && e.sentAt >= faultEndAt) firstAfterFault = e.at;
        }
        for (const count of seen.values()) if (count > 1) doubled += count - 1;
        for (const mid of ackedByRoom.get(room) ?? []) if (!seen.has(mid)) lost += 1;
        if (faultEndAt !== undefined) recoverMs = Math.max(recoverMs, (firstAfterFault ?? Number.POSITIVE_INFINITY) - faultEndAt);
      }
    }
    let storedTwice = 0;
    for (const messages of history?.values() ?? []) {
      const count = new Map();
      for (const m of messages) count.set(midOf(m.text), (count.get(midOf(m.text)) ?? 0) + 1);
      for (const c of count.values()) if (c > 1) storedTwice += c - 1;
    }
    return {
      sent: this.sent, acked: this.acks.size, resent: this.resent, unavailable: this.unavailable, failed: this.failed,
      delivered, lost, doubled: doubled + storedTwice, storedTwice, reordered, gaps,
      recoverMs: faultEndAt !== undefined && Number.isFinite(recoverMs) ? recoverMs : -1, errors: this.errors,
    };
  }

  /** p99 of delivery latency (receipt minus send time) for sends in [from, to), but `skip`'s own and to `skip`. */
  p99(from, to, skip) {
    const values = [];
    for (const [user, events] of this.members) {
      if (user === skip) continue;
      for (const e of events) {
        if (e.kind === 'msg' && e.sentAt >= from && e.sentAt < to && !e.mid.startsWith(`${skip}.`)) values.push(e.at - e.sentAt);
      }
    }
    if (values.length === 0) return -1;
    values.sort((a, b) => a - b);
    return values[Math.min(values.length - 1, Math.floor(values.length * 0.99))];
  }
}
